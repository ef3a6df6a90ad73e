"""The ``sellerbridge`` command: the operator's daily tool (Typer + Rich)."""
