"""Order amounts: exact to the cent, and net + tax = gross on every line and in total."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerbridge.core.errors import InvalidInput
from sellerbridge.core.money import check_currency, parse_decimal, quantize
from sellerbridge.core.orders import (
    ChargeDraft,
    ChargeKind,
    LineDraft,
    OrderTotals,
    default_charge_rate,
    price_charge,
    price_line,
)
from sellerbridge.core.tax import TaxClass, rate_for, split_gross

D = Decimal


def test_gross_line_is_split_once_and_exactly() -> None:
    price = price_line(LineDraft("A", 3, D("19.99"), D("19")), "EUR", prices_include_tax=True)
    assert price.total.gross == D("59.97")
    assert price.total.tax == D("9.58")  # 59.97 × 19/119 = 9.575… → 9.58
    assert price.total.net == D("50.39")
    assert price.unit_gross == D("19.99")
    assert price.unit_net == D("16.7983")  # derived, four decimals, informative


def test_b2b_unit_prices_may_have_four_decimals_but_not_more() -> None:
    price = price_line(
        LineDraft("SCREW", 1000, D("0.0125"), D("19")), "EUR", prices_include_tax=False
    )
    assert (price.total.net, price.total.tax, price.total.gross) == (
        D("12.50"),
        D("2.38"),
        D("14.88"),
    )
    with pytest.raises(InvalidInput, match="more than 4 decimals"):
        price_line(LineDraft("A", 1, D("0.00125"), D("19")), "EUR", prices_include_tax=False)
    with pytest.raises(InvalidInput, match="more than 2 decimals"):
        price_line(
            LineDraft("A", 1, D("5"), D("19"), discount=D("0.005")), "EUR", prices_include_tax=True
        )


def test_net_line_adds_tax() -> None:
    price = price_line(
        LineDraft("A", 10, D("19.50"), D("7"), discount=D("5")), "EUR", prices_include_tax=False
    )
    assert price.total.net == D("190.00")
    assert price.total.tax == D("13.30")
    assert price.total.gross == D("203.30")


def test_rounding_is_half_up() -> None:
    assert quantize(D("0.125"), "EUR") == D("0.13")
    assert quantize(D("2.5"), "JPY") == D("3")


amounts = st.decimals(min_value=0, max_value=10_000, places=2)
rates = st.sampled_from([D(0), D(5), D(7), D("5.5"), D(19), D(20), D(21), D(23), D("25.5")])


@given(
    lines=st.lists(st.tuples(st.integers(1, 50), amounts, rates), min_size=1, max_size=10),
    gross=st.booleans(),
)
def test_totals_always_reconcile(lines: list[tuple[int, Decimal, Decimal]], gross: bool) -> None:
    splits = [
        price_line(LineDraft("A", qty, price, rate), "EUR", prices_include_tax=gross).total
        for qty, price, rate in lines
    ]
    totals = OrderTotals.of(splits)
    assert totals.net + totals.tax == totals.gross
    for split in splits:
        assert split.net + split.tax == split.gross
        assert split.gross == quantize(split.gross, "EUR")


def test_bad_amounts_are_refused_with_the_field_named() -> None:
    with pytest.raises(InvalidInput, match="quantity"):
        price_line(LineDraft("A", 0, D(1), D(19)), "EUR", prices_include_tax=True)
    with pytest.raises(InvalidInput, match="unit_price"):
        price_line(LineDraft("A", 1, D(-1), D(19)), "EUR", prices_include_tax=True)
    with pytest.raises(InvalidInput, match="discount"):
        price_line(LineDraft("A", 1, D(5), D(19), discount=D(6)), "EUR", prices_include_tax=True)
    with pytest.raises(InvalidInput, match="tax_rate"):
        price_line(LineDraft("A", 1, D(5), D(100)), "EUR", prices_include_tax=True)


def test_shipping_follows_the_highest_line_rate() -> None:
    rate = default_charge_rate([D(7), D(19)])
    split = price_charge(
        ChargeDraft(ChargeKind.SHIPPING, D("4.90"), rate), "EUR", prices_include_tax=True
    )
    assert (split.net, split.tax) == (D("4.12"), D("0.78"))


def test_german_rates_follow_their_validity_dates() -> None:
    assert rate_for("DE", TaxClass.STANDARD, date(2020, 12, 31)) == D(16)
    assert rate_for("DE", TaxClass.STANDARD, date(2026, 11, 27)) == D(19)
    assert rate_for("DE", TaxClass.REDUCED, date(2026, 11, 27)) == D(7)
    with pytest.raises(Exception, match="No super_reduced VAT rate"):
        rate_for("DE", TaxClass.SUPER_REDUCED, date(2026, 11, 27))


def test_currency_and_number_input() -> None:
    assert check_currency(" eur ") == "EUR"
    with pytest.raises(InvalidInput, match="not a supported currency"):
        check_currency("XYZ")
    assert parse_decimal("19,99", field="price") == D("19.99")
    with pytest.raises(InvalidInput, match="not a number"):
        parse_decimal("1.234,56", field="price")
    assert split_gross(D("1.00"), D(19), "EUR").tax == D("0.16")
