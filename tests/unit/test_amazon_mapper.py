"""Amazon orders in ERP terms: totals equal Amazon's to the cent, lines and rates as sold.

The orders come from the sandbox's generator (every marketplace, currency, promotion, gift
wrap, business and Packstation case), rendered exactly as the Orders API sends them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from sellerbridge.channels.amazon.orders.mapper import ImportedOrder, map_order
from sellerbridge.channels.amazon.spapi.models.orders import Order
from sellerbridge.core.parties import PickupPointType
from sellerbridge.core.tax import rate_of
from sellerbridge.sandbox import SandboxConfig, build_sandbox
from sellerbridge.sandbox.order_records import Order as SandboxOrder
from sellerbridge.sandbox.orders import INCLUDED_DATA, render_order

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@cache
def generated() -> tuple[tuple[SandboxOrder, ImportedOrder], ...]:
    sandbox = build_sandbox(SandboxConfig(seed=7, orders=2000, anchor=NOW))
    return tuple(
        (kept, map_order(Order.model_validate(render_order(kept, frozenset(INCLUDED_DATA), NOW))))
        for kept in sandbox.state.orders.orders.values()
        if kept.status.value != "PENDING"  # pending orders carry no amounts yet
    )


def test_every_order_total_equals_amazons_to_the_cent() -> None:
    pairs = generated()
    assert len(pairs) > 1500
    for kept, mapped in pairs:
        assert mapped.grand_total == kept.grand_total
        assert mapped.total == kept.grand_total, kept.order_id
        assert not mapped.problems


def test_every_line_and_charge_splits_exactly_into_net_and_tax() -> None:
    for kept, mapped in generated():
        for line in mapped.lines:
            assert line.net + line.tax == line.gross
            assert line.gross == line.unit_price * line.quantity - line.discount
        assert (
            sum((line.tax for line in mapped.lines), Decimal(0))
            + sum((charge.tax for charge in mapped.charges), Decimal(0))
            == kept.total_tax
        )


def test_rates_are_recognised_from_the_amounts() -> None:
    for kept, mapped in generated():
        for item, line in zip(kept.items, mapped.lines, strict=True):
            if item.item_price:
                assert line.tax_rate == item.vat_rate, (kept.order_id, item.seller_sku)


def test_discounts_gift_wrap_and_shipping_become_lines_and_charges() -> None:
    pairs = generated()
    with_discount = [m for k, m in pairs if any(i.promotion_discount for i in k.items)]
    assert with_discount
    assert all(any(line.discount for line in m.lines) for m in with_discount)
    assert any(c.kind == "gift_wrap" for _, m in pairs for c in m.charges)
    assert any(c.kind == "shipping" for _, m in pairs for c in m.charges)


def test_business_buyers_packstations_and_flags_are_read() -> None:
    pairs = generated()
    business = [m for k, m in pairs if k.is_business and k.buyer_vat_number]
    assert business
    assert all(m.is_business and m.buyer_vat_id for m in business)
    packstations = [
        m for _, m in pairs if m.delivery_address and m.delivery_address.pickup_point_type
    ]
    assert packstations
    for mapped in packstations:
        address = mapped.delivery_address
        assert address is not None
        assert address.pickup_point_type is PickupPointType.PACKSTATION
        assert address.pickup_point_id
        assert address.pickup_customer_number
    assert any(m.is_prime for _, m in pairs)
    assert {m.fulfilled_by for _, m in pairs} == {"MERCHANT", "AMAZON"}


@pytest.mark.parametrize("status", ["SHIPPED", "UNSHIPPED"])
def test_the_status_and_dates_come_across(status: str) -> None:
    kept, mapped = next((k, m) for k, m in generated() if k.status.value == status)
    assert mapped.status == status
    assert mapped.created == kept.created_time
    assert mapped.ship_by == kept.ship_by_latest


def rendered(status: str = "UNSHIPPED") -> dict[str, Any]:
    """A generated order as Amazon's JSON, to change the way Amazon might."""
    kept = next(k for k, _ in generated() if k.status.value == status and len(k.items) == 1)
    return render_order(kept, frozenset(INCLUDED_DATA), NOW)


def breakdown(payload: dict[str, Any], kind: str) -> dict[str, Any]:
    breakdowns = payload["orderItems"][0]["proceeds"]["breakdowns"]
    found: dict[str, Any] = next(b for b in breakdowns if b["type"] == kind)
    return found


def test_vat_that_amazon_does_not_break_down_is_a_problem() -> None:
    payload = rendered()
    breakdown(payload, "TAX").pop("detailedBreakdowns")

    mapped = map_order(Order.model_validate(payload))

    assert any("did not break the VAT" in problem for problem in mapped.problems)


def test_vat_that_matches_no_rate_is_a_problem() -> None:
    payload = rendered()
    for detail in breakdown(payload, "TAX")["detailedBreakdowns"]:
        if detail["subtype"] == "ITEM":
            detail["value"]["amount"] = str(Decimal(detail["value"]["amount"]) + Decimal("0.37"))
    tax = breakdown(payload, "TAX")["subtotal"]
    tax["amount"] = str(Decimal(tax["amount"]) + Decimal("0.37"))

    mapped = map_order(Order.model_validate(payload))

    assert any("matches no VAT rate" in problem for problem in mapped.problems)


def test_a_missing_unit_price_is_derived_to_four_decimals() -> None:
    payload = rendered()
    item = payload["orderItems"][0]
    item["product"].pop("price", None)
    item["quantityOrdered"] = 3
    breakdown(payload, "ITEM")["subtotal"]["amount"] = "10.00"

    (line,) = map_order(Order.model_validate(payload)).lines

    assert line.unit_price == Decimal("3.3333")
    assert line.gross == Decimal("10.00") - line.discount  # the amount stays Amazon's


@pytest.mark.parametrize(
    ("gross", "tax", "quantity", "rate"),
    [
        ("119.00", "19.00", 1, "19"),
        ("10.70", "0.70", 1, "7"),
        ("5.97", "0.96", 3, "19"),  # Amazon rounded the VAT of each unit: 3 × 0.32
        ("9.95", "1.60", 5, "19"),  # 5 × 0.32, where the whole would be 1.59
        ("0.01", "0.00", 1, "0"),
        ("10.00", "3.00", 1, None),  # 42.9 % is no VAT rate
        ("1.00", "1.00", 1, None),
    ],
)
def test_rates_are_found_from_amounts_or_not_at_all(
    gross: str, tax: str, quantity: int, rate: str | None
) -> None:
    found = rate_of(Decimal(gross), Decimal(tax), "EUR", quantity)
    assert found == (None if rate is None else Decimal(rate))
