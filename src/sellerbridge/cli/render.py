"""How values look on the terminal."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from rich.table import Table


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def when(value: datetime | None, zone: ZoneInfo) -> str:
    return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def table(title: str | None, *columns: str) -> Table:
    """A table; columns named with a trailing ``>`` are right-aligned (numbers)."""
    result = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        if column.endswith(">"):
            result.add_column(column[:-1], justify="right")
        else:
            result.add_column(column)
    return result
