"""The VAT rate table: the rates of reference/vat-invoicing.md §3.2, and when they change."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from sellerbridge.core.errors import DomainError
from sellerbridge.core.tax import KNOWN_RATES, RATES, TaxClass, rate_for

D = Decimal
S, R, SR, Z = TaxClass.STANDARD, TaxClass.REDUCED, TaxClass.SUPER_REDUCED, TaxClass.ZERO

# Copied by hand from §3.2 (rates in force late 2026): standard / reduced / super-reduced,
# reduced = the first reduced rate listed, super-reduced = the lowest; "-" where there is none.
REFERENCE_2026 = """
AT 20 13 10     BE 21 12 6      BG 20 9 -       CY 19 9 5       CZ 21 12 -
DE 19 7 -       DK 25 - -       EE 24 13 9      ES 21 10 4      FI 25.5 13.5 10
FR 20 10 2.1    GR 24 13 6      HR 25 13 5      HU 27 18 5      IE 23 13.5 4.8
IT 22 10 4      LT 21 9 5       LU 17 14 3      LV 21 12 5      MT 18 7 5
NL 21 9 -       PL 23 8 5       PT 23 13 6      RO 21 11 -      SE 25 12 6
SI 22 9.5 5     SK 23 19 5      GB 20 5 -
"""
_WORDS = REFERENCE_2026.split()
TABLE = {
    _WORDS[i]: dict(zip((S, R, SR), _WORDS[i + 1 : i + 4], strict=True))
    for i in range(0, len(_WORDS), 4)
}
LATE_2026 = date(2026, 11, 27)


def test_the_table_covers_the_eu_27_and_great_britain() -> None:
    assert len(TABLE) == 28
    assert {rate.country for rate in RATES} == set(TABLE)


@pytest.mark.parametrize("country", sorted(TABLE))
def test_rates_in_force_late_2026_are_those_of_the_reference(country: str) -> None:
    for tax_class, percent in TABLE[country].items():
        if percent == "-":
            with pytest.raises(DomainError, match=f"No {tax_class.value} VAT rate .* {country}"):
                rate_for(country, tax_class, LATE_2026)
        else:
            assert rate_for(country, tax_class, LATE_2026) == D(percent), tax_class


@pytest.mark.parametrize(
    ("country", "tax_class", "last_day", "before", "after"),
    [
        ("DE", S, date(2020, 6, 30), "19", "16"),  # the Corona relief of 2020-H2 ...
        ("DE", S, date(2020, 12, 31), "16", "19"),  # ... and its end
        ("DE", R, date(2020, 6, 30), "7", "5"),
        ("DE", R, date(2020, 12, 31), "5", "7"),
        ("FI", S, date(2024, 8, 31), "24", "25.5"),
        ("FI", R, date(2025, 12, 31), "14", "13.5"),
        ("EE", S, date(2025, 6, 30), "22", "24"),
        ("EE", R, date(2024, 12, 31), "9", "13"),
        ("EE", SR, date(2024, 12, 31), "5", "9"),
        ("SK", S, date(2024, 12, 31), "20", "23"),
        ("RO", S, date(2025, 7, 31), "19", "21"),
        ("RO", R, date(2025, 7, 31), "9", "11"),
        ("CZ", R, date(2023, 12, 31), "15", "12"),
        ("LU", S, date(2022, 12, 31), "17", "16"),
        ("LU", S, date(2023, 12, 31), "16", "17"),
    ],
)
def test_a_rate_changes_at_midnight(
    country: str, tax_class: TaxClass, last_day: date, before: str, after: str
) -> None:
    assert rate_for(country, tax_class, last_day) == D(before)
    assert rate_for(country, tax_class, last_day + timedelta(days=1)) == D(after)


def test_a_class_can_end_with_a_rate_change() -> None:
    assert rate_for("RO", SR, date(2025, 7, 31)) == D(5)
    with pytest.raises(DomainError, match="No super_reduced VAT rate is known for RO on 2025-08"):
        rate_for("RO", SR, date(2025, 8, 1))  # 5 % and 9 % merged into 11 %
    with pytest.raises(DomainError, match="No super_reduced VAT rate is known for CZ on 2024"):
        rate_for("CZ", SR, date(2024, 1, 1))


def test_swedens_food_rate_does_not_move_its_reduced_rate() -> None:
    """Food is 6 % from 2026-04-01 to 2027-12-31; REDUCED stays the general 12 %."""
    for day in (date(2026, 3, 31), date(2026, 4, 1), date(2027, 12, 31), date(2028, 1, 1)):
        assert rate_for("SE", R, day) == D(12)
        assert rate_for("SE", SR, day) == D(6)


def test_the_zero_class_is_untaxed_everywhere_and_missing_tiers_are_named() -> None:
    # Vouchers and zero-rated goods: 0 % in every country of the table.
    assert {rate_for(country, Z, LATE_2026) for country in ("DE", "FR", "GB", "IE", "PL")} == {0}
    with pytest.raises(DomainError, match="No super_reduced VAT rate is known for DK"):
        rate_for("DK", SR, LATE_2026)


def test_periods_never_overlap_and_the_standard_rate_never_lapses() -> None:
    for country in TABLE:
        for tax_class in TaxClass:
            periods = sorted(
                (r for r in RATES if r.country == country and r.tax_class == tax_class),
                key=lambda r: r.valid_from,
            )
            for earlier, later in pairwise(periods):
                assert earlier.valid_to is not None, (country, tax_class)
                assert earlier.valid_to < later.valid_from, (country, tax_class)
                if tax_class is S:
                    assert later.valid_from == earlier.valid_to + timedelta(days=1), country
            if tax_class is S:
                assert periods[-1].valid_to is None, country


def test_a_missing_rate_says_what_to_do() -> None:
    with pytest.raises(DomainError) as no_class:
        rate_for("DK", R, LATE_2026)
    assert str(no_class.value) == (
        "No reduced VAT rate is known for DK on 2026-11-27. The rate table has no reduced rate "
        "for DK then: give the line's tax rate explicitly, or choose a tax class that exists "
        "there."
    )
    with pytest.raises(DomainError, match="EE's rates are known from 2024-01-01"):
        rate_for("EE", S, date(2023, 12, 31))
    with pytest.raises(DomainError, match=r"VAT rates are known for AT, BE, .*, SK; give"):
        rate_for("US", S, LATE_2026)


def test_known_rates_include_every_rate_and_those_no_class_reaches() -> None:
    assert list(KNOWN_RATES) == sorted(set(KNOWN_RATES))
    assert {rate.percent for rate in RATES} <= set(KNOWN_RATES)
    assert {D("5.5"), D(9), D(5), D(8)} <= set(KNOWN_RATES)  # FR, IE, IT, LU middle rates
    # The rates Amazon's amounts were recognised by before the table grew (rate_of keeps them).
    before = (
        "0 2.1 3 4 4.8 5 5.5 6 7 8 9 9.5 10 11 12 13 13.5 14 15 17 18 19 20 21 22 23 24 25 25.5 27"
    )
    assert set(KNOWN_RATES) - {D(r) for r in before.split()} == {D(16)}  # DE in 2020-H2
