"""Number series: the numbers of orders, customers and documents.

German invoice law wants every invoice number unique and never reused; merchants also expect
them without gaps. The storage layer hands out the next value of a series atomically inside the
transaction that uses it, so a rolled-back transaction gives its number back and two processes
never get the same one. This module only decides how a value is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sellerbridge.core.errors import InvalidInput

_PLACEHOLDER = re.compile(r"\{([^}]*)\}")
_KNOWN_PLACEHOLDERS = {"year"}


@dataclass(frozen=True)
class SeriesFormat:
    """``prefix`` may contain ``{year}``; the counter is zero-padded to ``width`` digits."""

    prefix: str
    width: int

    def __post_init__(self) -> None:
        unknown = set(_PLACEHOLDER.findall(self.prefix)) - _KNOWN_PLACEHOLDERS
        if unknown:
            raise InvalidInput(
                "prefix",
                f"unknown placeholder {{{sorted(unknown)[0]}}} in {self.prefix!r}",
                hint="Only {year} is supported.",
            )
        if not 1 <= self.width <= 12:
            raise InvalidInput("width", f"{self.width} must be between 1 and 12")

    def format(self, value: int, at: datetime) -> str:
        return self.prefix.replace("{year}", f"{at.year:04d}") + f"{value:0{self.width}d}"
