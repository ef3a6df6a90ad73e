"""Order amounts: exact to the cent, and net + tax = gross on every line, part and total."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerbridge.core.errors import InvalidFields, InvalidInput
from sellerbridge.core.money import MINOR_UNITS, check_currency, parse_decimal, quantize
from sellerbridge.core.orders import Amounts, ChargeKind, OrderTotals
from sellerbridge.core.tax import TaxClass, split_gross
from sellerbridge.core.vat import (
    PricedLine,
    Sale,
    SaleCharge,
    SaleLine,
    SellerTaxProfile,
    Treatment,
    calculate,
    price_line,
    treatment_of,
)

D = Decimal
DAY = date(2026, 11, 27)
SELLER = SellerTaxProfile("DE", {"DE": "DE136695976"})
DOMESTIC = treatment_of(SELLER, ship_from="DE", ship_to="DE")


def priced(
    quantity: int,
    unit_price: str,
    rate: str,
    *,
    discount: str = "0",
    prices_include_tax: bool = True,
) -> PricedLine:
    """A German line at an explicit rate."""
    line = SaleLine(quantity, D(unit_price), TaxClass.STANDARD, D(discount), tax_rate=D(rate))
    return price_line(
        line, DOMESTIC, day=DAY, currency="EUR", prices_include_tax=prices_include_tax
    )


def test_gross_line_is_split_once_and_exactly() -> None:
    price = priced(3, "19.99", "19")
    assert price.gross == D("59.97")
    assert price.tax == D("9.58")  # 59.97 × 19/119 = 9.575… → 9.58
    assert price.net == D("50.39")
    assert price.unit_gross == D("19.99")
    assert price.unit_net == D("16.7983")  # derived, four decimals, informative


def test_b2b_unit_prices_may_have_four_decimals_but_not_more() -> None:
    price = priced(1000, "0.0125", "19", prices_include_tax=False)
    assert (price.net, price.tax, price.gross) == (D("12.50"), D("2.38"), D("14.88"))
    with pytest.raises(InvalidInput, match="more than 4 decimals"):
        priced(1, "0.00125", "19", prices_include_tax=False)
    with pytest.raises(InvalidInput, match="more than 2 decimals"):
        priced(1, "5", "19", discount="0.005")


def test_net_line_adds_tax() -> None:
    price = priced(10, "19.50", "7", discount="5", prices_include_tax=False)
    assert (price.net, price.tax, price.gross) == (D("190.00"), D("13.30"), D("203.30"))


def test_the_tax_class_gives_the_rate_unless_one_is_given() -> None:
    line = SaleLine(1, D("10.70"), TaxClass.REDUCED)
    assert price_line(line, DOMESTIC, day=DAY, currency="EUR", prices_include_tax=True).rate == 7
    in_2020 = price_line(
        line, DOMESTIC, day=date(2020, 8, 1), currency="EUR", prices_include_tax=True
    )
    assert (in_2020.rate, in_2020.tax) == (D(5), D("0.51"))  # 10.70 × 5/105 = 0.509… → 0.51


def test_rounding_is_half_up() -> None:
    assert quantize(D("0.125"), "EUR") == D("0.13")
    assert quantize(D("-0.125"), "EUR") == D("-0.13")  # away from zero, for discounts too
    assert quantize(D("2.5"), "JPY") == D("3")


def test_bad_amounts_are_refused_with_the_line_and_field_named() -> None:
    sale = Sale(
        DAY,
        "EUR",
        (
            SaleLine(0, D(1), TaxClass.STANDARD),
            SaleLine(1, D(-1), TaxClass.STANDARD),
            SaleLine(1, D(5), TaxClass.STANDARD, discount=D(6)),
            SaleLine(1, D(5), TaxClass.STANDARD, tax_rate=D(100)),
            SaleLine(1, D(5), TaxClass.SUPER_REDUCED),
        ),
    )
    with pytest.raises(InvalidFields) as refused:
        calculate(sale, DOMESTIC)
    assert [str(problem) for problem in refused.value.problems] == [
        "line 1: quantity: 0 must be at least 1",
        "line 2: unit_price: -1 must not be negative",
        "line 3: discount: 6 must be between 0 and the line amount 5",
        "line 4: tax_rate: 100 % is not a VAT rate. Use 0 to 99.99.",
        "line 5: No super_reduced VAT rate is known for DE on 2026-11-27. The rate table has "
        "no super_reduced rate for DE then: give the line's tax rate explicitly, or choose a "
        "tax class that exists there.",
    ]


def test_charges_are_checked_like_lines() -> None:
    sale = Sale(
        DAY,
        "EUR",
        (SaleLine(1, D(5), TaxClass.STANDARD),),
        (SaleCharge(ChargeKind.SHIPPING, D("4.905")),),
    )
    with pytest.raises(InvalidInput, match=r"^shipping: amount: 4.905 has more than 2 decimals"):
        calculate(sale, DOMESTIC)
    with pytest.raises(InvalidInput, match="lines: a sale needs at least one line"):
        calculate(Sale(DAY, "EUR", ()), DOMESTIC)


def test_currency_and_number_input() -> None:
    assert check_currency(" eur ") == "EUR"
    with pytest.raises(InvalidInput, match="not a supported currency"):
        check_currency("XYZ")
    assert parse_decimal("19,99", field="price") == D("19.99")
    with pytest.raises(InvalidInput, match="not a number"):
        parse_decimal("1.234,56", field="price")
    assert split_gross(D("1.00"), D(19), "EUR").tax == D("0.16")


# --- properties -----------------------------------------------------------------------------------

# Treatments with the tax classes their taxing country has: Germany (19 / 7 / 0 %), Ireland
# (23 / 13.5 / 4.8 / 0 %), an exempt intra-EU supply (0 % whatever the class). Three or more
# rates make a charge's rounding show: two parts rounded alone mostly still add up.
_ALL_CLASSES = list(TaxClass)
TREATMENTS_AND_CLASSES = st.sampled_from(
    [
        (DOMESTIC, [TaxClass.STANDARD, TaxClass.REDUCED, TaxClass.ZERO]),
        (treatment_of(SELLER, ship_from="DE", ship_to="IE"), _ALL_CLASSES),
        (
            treatment_of(SELLER, ship_from="DE", ship_to="AT", buyer_vat_id="ATU13585627"),
            _ALL_CLASSES,
        ),
    ]
)


@st.composite
def sale_lines(draw: st.DrawFn, classes: list[TaxClass]) -> SaleLine:
    quantity = draw(st.integers(1, 50))
    unit_price = draw(st.decimals(min_value=0, max_value=2_000, places=4))
    most = quantize(quantity * unit_price, "EUR")
    discount = draw(st.decimals(min_value=0, max_value=max(most - D("0.01"), D(0)), places=2))
    return SaleLine(quantity, unit_price, draw(st.sampled_from(classes)), discount)


@st.composite
def sales(draw: st.DrawFn) -> tuple[Sale, Treatment]:
    treatment, classes = draw(TREATMENTS_AND_CLASSES)
    charge = st.builds(
        SaleCharge,
        st.sampled_from(list(ChargeKind)),
        st.decimals(min_value=-50, max_value=200, places=2),
    )
    sale = Sale(
        DAY,
        draw(st.sampled_from(["EUR", "GBP", "PLN", "SEK"])),
        tuple(draw(st.lists(sale_lines(classes), min_size=1, max_size=8))),
        tuple(draw(st.lists(charge, max_size=3))),
        draw(st.booleans()),
    )
    return sale, treatment


@given(sales())
def test_amounts_always_reconcile(sale_and_treatment: tuple[Sale, Treatment]) -> None:
    sale, treatment = sale_and_treatment
    result = calculate(sale, treatment)
    parts = [part for charge in result.charges for part in charge.parts]
    items: list[Amounts] = [*result.lines, *parts, *result.breakdown]
    for item in items:
        assert item.net + item.tax == item.gross
        for amount in (item.net, item.tax, item.gross):
            assert amount.as_tuple().exponent == -MINOR_UNITS[sale.currency]
    for charge, priced_charge in zip(sale.charges, result.charges, strict=True):
        total = priced_charge.total
        entered = total.gross if sale.prices_include_tax else total.net
        assert entered == charge.amount  # the parts add up to the charge exactly
        assert len({part.rate for part in priced_charge.parts}) == len(priced_charge.parts)
        assert {p.rate for p in priced_charge.parts} <= {line.rate for line in result.lines}
    assert result.total == OrderTotals.of([*result.lines, *parts])
    assert result.total == OrderTotals.of(result.breakdown)
