"""``python -m sellerbridge`` is the ``sellerbridge`` command."""

from sellerbridge.cli.main import app

app(prog_name="sellerbridge")
