"""Tax classes of articles and the VAT rates they map to, per country and date.

An article carries a *tax class*, never a rate: the rate depends on the country whose VAT
applies (the tax engine, :mod:`sellerbridge.core.vat`, decides which) and on the date of the
sale. Rates change (Germany lowered them for the second half of 2020, Finland raised its
standard rate on 2024-09-01), so each is kept with its validity period.

The table covers the EU-27 and Great Britain from 2021-07-01, when the EU's e-commerce package
(OSS) started — the engine's rules do not apply to earlier sales — and Germany from 2007. Where
a country's history before a change named in ``reference/vat-invoicing.md`` §3.2 is not
verified (EE before 2024), its rates start at that change; a date before the table asks for a
rate explicitly. A tax class names a *tier* of a country's rates, not a kind of product:

- ``STANDARD``: the standard rate.
- ``REDUCED``: the country's general reduced rate, the first (highest) reduced rate of §3.2.
  Sweden's food rate (12 → 6 % from 2026-04-01 to 2027-12-31) applies to food only, so Sweden's
  reduced rate stays 12 %, the rate of its other reduced goods and services.
- ``SUPER_REDUCED``: the lowest reduced rate, where a country has more than one.
- ``ZERO``: no VAT wherever the sale is taxed: multi-purpose vouchers (outside the scope of
  VAT until they are redeemed) and goods a country zero-rates (DE § 12 Abs. 3 UStG, IE, GB).
  The class exists in every country; an article that is zero-rated in one country only takes
  its rate explicitly elsewhere.

Which tier a product falls in abroad is a product question the table cannot answer (coffee is
5.5 % in France, a rate between its reduced and super-reduced ones): such a line is given its
rate explicitly. Where a country has no rate of a class, :func:`rate_for` says so.
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


@dataclass(frozen=True)
class _Period:
    """One country's rates over one period; ``None`` where the country has no such rate."""

    country: str
    valid_from: date
    valid_to: date | None
    standard: str
    reduced: str | None = None
    super_reduced: str | None = None
    # Reduced rates between the reduced and super-reduced ones, which no class maps to.
    other_reduced: tuple[str, ...] = ()


_OSS = date(2021, 7, 1)
_P = _Period
# fmt: off
_PERIODS: tuple[_Period, ...] = (
    _P("AT", _OSS, None, "20", "13", "10"),
    _P("BE", _OSS, None, "21", "12", "6"),
    _P("BG", _OSS, None, "20", "9"),
    _P("CY", _OSS, None, "19", "9", "5"),
    _P("CZ", _OSS, date(2023, 12, 31), "21", "15", "10"),
    _P("CZ", date(2024, 1, 1), None, "21", "12"),  # one reduced rate since 2024
    _P("DE", date(2007, 1, 1), date(2020, 6, 30), "19", "7"),
    _P("DE", date(2020, 7, 1), date(2020, 12, 31), "16", "5"),  # Corona relief, 2020-H2
    _P("DE", date(2021, 1, 1), date(2022, 12, 31), "19", "7"),
    _P("DE", date(2023, 1, 1), None, "19", "7"),
    _P("DK", _OSS, None, "25"),
    _P("EE", date(2024, 1, 1), date(2024, 12, 31), "22", "9", "5"),
    _P("EE", date(2025, 1, 1), date(2025, 6, 30), "22", "13", "9"),  # lodging 9→13, press 5→9
    _P("EE", date(2025, 7, 1), None, "24", "13", "9"),
    _P("ES", _OSS, None, "21", "10", "4"),
    _P("FI", _OSS, date(2024, 8, 31), "24", "14", "10"),
    _P("FI", date(2024, 9, 1), date(2025, 12, 31), "25.5", "14", "10"),
    _P("FI", date(2026, 1, 1), None, "25.5", "13.5", "10"),
    _P("FR", _OSS, None, "20", "10", "2.1", other_reduced=("5.5",)),
    _P("GR", _OSS, None, "24", "13", "6"),
    _P("HR", _OSS, None, "25", "13", "5"),
    _P("HU", _OSS, None, "27", "18", "5"),
    _P("IE", _OSS, None, "23", "13.5", "4.8", other_reduced=("9",)),
    _P("IT", _OSS, None, "22", "10", "4", other_reduced=("5",)),
    _P("LT", _OSS, None, "21", "9", "5"),
    _P("LU", _OSS, date(2022, 12, 31), "17", "14", "3", other_reduced=("8",)),
    _P("LU", date(2023, 1, 1), date(2023, 12, 31), "16", "13", "3", other_reduced=("7",)),
    _P("LU", date(2024, 1, 1), None, "17", "14", "3", other_reduced=("8",)),
    _P("LV", _OSS, None, "21", "12", "5"),
    _P("MT", _OSS, None, "18", "7", "5"),
    _P("NL", _OSS, None, "21", "9"),
    _P("PL", _OSS, None, "23", "8", "5"),
    _P("PT", _OSS, None, "23", "13", "6"),  # mainland
    _P("RO", _OSS, date(2025, 7, 31), "19", "9", "5"),
    _P("RO", date(2025, 8, 1), None, "21", "11"),  # Law 141/2025: 5 % and 9 % merged into 11 %
    _P("SE", _OSS, None, "25", "12", "6"),
    _P("SI", _OSS, None, "22", "9.5", "5"),
    _P("SK", _OSS, date(2024, 12, 31), "20", "10"),  # whether a 5 % rate existed: unverified
    _P("SK", date(2025, 1, 1), None, "23", "19", "5"),
    _P("GB", _OSS, None, "20", "5"),
)
# fmt: on
"""Per country and period, from ``reference/vat-invoicing.md`` §3.2 and the changes it names;
the history before those changes (CZ, FI, LU, RO, SK) is outside it.
Have a tax adviser confirm the table before each release."""


def _rates(period: _Period) -> tuple[TaxRate, ...]:
    tiers = {
        TaxClass.STANDARD: period.standard,
        TaxClass.REDUCED: period.reduced,
        TaxClass.SUPER_REDUCED: period.super_reduced,
        TaxClass.ZERO: "0",
    }
    return tuple(
        TaxRate(period.country, tax_class, _D(percent), period.valid_from, period.valid_to)
        for tax_class, percent in tiers.items()
        if percent is not None
    )


RATES: tuple[TaxRate, ...] = tuple(rate for period in _PERIODS for rate in _rates(period))
"""Every VAT rate a tax class maps to, with its validity period."""


def rate_for(country: str, tax_class: TaxClass, day: date) -> Decimal:
    """The VAT rate in percent for ``tax_class`` in ``country`` on ``day``."""
    for rate in RATES:
        if rate.country == country and rate.tax_class == tax_class and rate.applies_on(day):
            return rate.percent
    periods = [rate for rate in RATES if rate.country == country]
    if not periods:
        countries = ", ".join(sorted({rate.country for rate in RATES}))
        hint = f"VAT rates are known for {countries}; give the tax rate explicitly."
    elif any(rate.applies_on(day) for rate in periods):
        hint = (
            f"The rate table has no {tax_class.value} rate for {country} then: give the line's "
            "tax rate explicitly, or choose a tax class that exists there."
        )
    else:
        since = min(rate.valid_from for rate in periods).isoformat()
        hint = f"{country}'s rates are known from {since}; give the tax rate explicitly."
    raise DomainError(
        f"No {tax_class.value} VAT rate is known for {country} on {day.isoformat()}.", hint=hint
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


KNOWN_RATES: tuple[Decimal, ...] = tuple(
    sorted(
        {rate.percent for rate in RATES}
        | {_D(percent) for period in _PERIODS for percent in period.other_reduced}
    )
)
"""Every VAT rate the table has known in the EU-27 and Great Britain, including the reduced
rates no tax class maps to. Used to recognise the rate behind amounts a marketplace reports
without naming it (:func:`rate_of`)."""


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
