"""Tax classes of articles and the VAT rates they map to.

An article carries a *tax class*, never a rate: the rate depends on the country whose VAT
applies and on the date of the sale. Rates are kept with their validity periods because they
change (Germany lowered them for the second half of 2020). The table holds the merchant's home
country; the per-destination rules (OSS, intra-EU B2B, exports) extend it in the tax engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from sellerbridge.core.errors import DomainError, InvalidInput
from sellerbridge.core.money import quantize


class TaxClass(StrEnum):
    STANDARD = "standard"
    REDUCED = "reduced"
    SUPER_REDUCED = "super_reduced"
    ZERO = "zero"

    @classmethod
    def parse(cls, text: str, *, field: str = "tax_class") -> TaxClass:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(member.value for member in cls)
            raise InvalidInput(
                field, f"{text!r} is not a tax class", hint=f"Use one of: {choices}."
            ) from None


@dataclass(frozen=True)
class TaxRate:
    country: str
    tax_class: TaxClass
    percent: Decimal
    valid_from: date
    valid_to: date | None = None  # inclusive; None while the rate is in force

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


_D = Decimal
RATES: tuple[TaxRate, ...] = (
    TaxRate("DE", TaxClass.STANDARD, _D(19), date(2007, 1, 1), date(2020, 6, 30)),
    TaxRate("DE", TaxClass.STANDARD, _D(16), date(2020, 7, 1), date(2020, 12, 31)),
    TaxRate("DE", TaxClass.STANDARD, _D(19), date(2021, 1, 1)),
    TaxRate("DE", TaxClass.REDUCED, _D(7), date(1983, 7, 1), date(2020, 6, 30)),
    TaxRate("DE", TaxClass.REDUCED, _D(5), date(2020, 7, 1), date(2020, 12, 31)),
    TaxRate("DE", TaxClass.REDUCED, _D(7), date(2021, 1, 1)),
    TaxRate("DE", TaxClass.ZERO, _D(0), date(2023, 1, 1)),
)


def rate_for(country: str, tax_class: TaxClass, day: date) -> Decimal:
    """The VAT rate in percent for ``tax_class`` in ``country`` on ``day``."""
    for rate in RATES:
        if rate.country == country and rate.tax_class == tax_class and rate.applies_on(day):
            return rate.percent
    raise DomainError(
        f"No {tax_class.value} VAT rate is known for {country} on {day.isoformat()}.",
        hint="Give the tax rate explicitly, or choose a tax class that exists in that country.",
    )


@dataclass(frozen=True)
class TaxSplit:
    """An amount split into net, tax and gross, each rounded to the currency."""

    net: Decimal
    tax: Decimal
    gross: Decimal


def split_gross(gross: Decimal, rate_percent: Decimal, currency: str) -> TaxSplit:
    """Split a gross amount: the tax is rounded, the net is what remains (so net + tax = gross)."""
    gross = quantize(gross, currency)
    tax = quantize(gross * rate_percent / (100 + rate_percent), currency)
    return TaxSplit(net=gross - tax, tax=tax, gross=gross)


def split_net(net: Decimal, rate_percent: Decimal, currency: str) -> TaxSplit:
    """Add tax to a net amount: the tax is rounded, the gross is the sum (so net + tax = gross)."""
    net = quantize(net, currency)
    tax = quantize(net * rate_percent / 100, currency)
    return TaxSplit(net=net, tax=tax, gross=net + tax)


def check_rate(rate_percent: Decimal, *, field: str = "tax_rate") -> Decimal:
    if rate_percent < 0 or rate_percent >= 100:
        raise InvalidInput(field, f"{rate_percent} % is not a VAT rate", hint="Use 0 to 99.99.")
    return rate_percent


# Every VAT rate in force in the EU-27 and the UK in 2026 (standard, reduced, super-reduced,
# zero), from ``reference/vat-invoicing.md`` §3.2. Used to recognise the rate behind amounts a
# marketplace reports without naming it; the per-country table with validity dates is the tax
# engine's.
KNOWN_RATES: tuple[Decimal, ...] = tuple(
    sorted(
        {
            _D(r)
            for r in (
                "0", "2.1", "3", "4", "4.8", "5", "5.5", "6", "7", "8", "9", "9.5", "10",
                "11", "12", "13", "13.5", "14", "15", "17", "18", "19", "20", "21", "22",
                "23", "24", "25", "25.5", "27",
            )
        }
    )
)  # fmt: skip


@lru_cache(maxsize=4096)  # the same prices come again and again; the answer is pure
def rate_of(gross: Decimal, tax: Decimal, currency: str, quantity: int = 1) -> Decimal | None:
    """The VAT rate behind ``tax`` contained in ``gross``, as a marketplace computed it, or
    None if no known rate gives it.

    A known rate fits if the VAT it contains in ``gross``, rounded to the currency, is ``tax`` —
    or, for ``quantity`` units, if the VAT of one unit, rounded, times ``quantity`` is (a
    marketplace may round per unit). Of the rates that fit, the one nearest the plain ratio
    (small amounts fit several rates).
    """
    if tax == 0:
        return _D(0)
    net = gross - tax
    if net <= 0:
        return None
    unit = gross / quantity

    def fits(rate: Decimal) -> bool:
        contained = gross * rate / (100 + rate)
        per_unit = quantize(unit * rate / (100 + rate), currency) * quantity
        return tax in (quantize(contained, currency), per_unit)

    fitting = [rate for rate in KNOWN_RATES if rate > 0 and fits(rate)]
    if not fitting:
        return None
    ratio = tax * 100 / net
    return min(fitting, key=lambda rate: abs(rate - ratio))
