"""Number series: the numbers of orders, customers and documents.

German invoice law wants every invoice number unique and never reused; merchants also expect
them without gaps. The storage layer hands out the next value of a series atomically inside the
transaction that uses it, so a rolled-back transaction gives its number back and two processes
never get the same one. This module only decides how a value is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from sellerbridge.core.errors import InvalidInput


@dataclass(frozen=True)
class SeriesFormat:
    """A fixed ``prefix`` and the counter, zero-padded to ``width`` digits: ``SO-000042``."""

    prefix: str
    width: int

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 12:
            raise InvalidInput("width", f"{self.width} must be between 1 and 12")

    def format(self, value: int) -> str:
        return f"{self.prefix}{value:0{self.width}d}"
