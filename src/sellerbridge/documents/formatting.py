"""Numbers, amounts and dates as a reader of each document language writes them.

A small table instead of a locale library: eight languages, two separators, one date pattern
and where the currency goes. It never rounds: amounts arrive quantized to their currency
(:mod:`sellerbridge.core.money`), and a unit price keeps the four decimals it may carry, so the
printed figures are the ones in the Factur-X XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sellerbridge.core.money import MINOR_UNITS

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"


@dataclass(frozen=True)
class NumberStyle:
    decimal: str
    group: str
    date_pattern: str  # strftime pattern with numbers only, so no month names are needed
    symbol_first: bool  # "€ 12,00" (nl) or "€12.00" (en) instead of "12,00 €"
    symbol_space: bool
    percent: str  # what goes between the rate and "%"
    own_symbols: tuple[tuple[str, str], ...] = ()  # the local currency's own sign (zł, kr)


STYLES: dict[str, NumberStyle] = {
    "de": NumberStyle(",", ".", "%d.%m.%Y", False, True, NBSP),
    "en": NumberStyle(".", ",", "%d/%m/%Y", True, False, ""),
    "fr": NumberStyle(",", NARROW_NBSP, "%d/%m/%Y", False, True, NARROW_NBSP),
    "it": NumberStyle(",", ".", "%d/%m/%Y", False, True, ""),
    "es": NumberStyle(",", ".", "%d/%m/%Y", False, True, NBSP),
    "nl": NumberStyle(",", ".", "%d-%m-%Y", True, True, ""),
    "pl": NumberStyle(",", NBSP, "%d.%m.%Y", False, True, "", (("PLN", "zł"),)),
    "sv": NumberStyle(",", NBSP, "%Y-%m-%d", False, True, NBSP, (("SEK", "kr"),)),
}

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}
"""Signs every reader knows; other currencies are printed with their ISO code."""


class Formatter:
    """Formats for one language; made once per document and handed to the template."""

    def __init__(self, language: str) -> None:
        self.style = STYLES[language]

    def number(self, value: Decimal, *, places: int | None = None) -> str:
        """``value`` with the language's separators; ``places`` fixes the decimals shown.

        Without ``places`` the value is shown with its own decimals, trailing zeros dropped
        (quantities: "2", "1,5").
        """
        if places is None:
            text = f"{value.normalize():f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
        else:
            text = f"{value:.{places}f}"
        sign = "-" if text.startswith("-") else ""
        digits = text.lstrip("-")
        whole, _, fraction = digits.partition(".")
        groups: list[str] = []
        while len(whole) > 3:
            groups.insert(0, whole[-3:])
            whole = whole[:-3]
        groups.insert(0, whole)
        grouped = self.style.group.join(groups)
        if sign and grouped.strip("0") == "" and fraction.strip("0") == "":
            sign = ""  # "-0,00" is noise
        return f"{sign}{grouped}{self.style.decimal + fraction if fraction else ''}"

    def money(self, amount: Decimal, currency: str) -> str:
        """An amount with its currency's decimals, or more (a unit price): "1.234,50 €"."""
        places = max(MINOR_UNITS.get(currency, 2), _decimals(amount.normalize()))
        text = self.number(amount, places=places)
        symbol = dict(self.style.own_symbols).get(currency) or SYMBOLS.get(currency, currency)
        space = NBSP if self.style.symbol_space or len(symbol) > 1 else ""
        if self.style.symbol_first:
            sign = "-" if text.startswith("-") else ""
            return f"{sign}{symbol}{space}{text.lstrip('-')}"
        return f"{text}{NBSP}{symbol}"

    def rate(self, percent: Decimal) -> str:
        """A VAT rate: "19 %", "5,5 %", "20%"."""
        return f"{self.number(percent)}{self.style.percent}%"

    def date(self, value: date) -> str:
        return value.strftime(self.style.date_pattern)


def _decimals(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
