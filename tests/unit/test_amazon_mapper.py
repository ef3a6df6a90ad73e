"""Amazon orders in ERP terms: totals equal Amazon's to the cent, lines and rates as sold.

The orders come from the sandbox's generator (every marketplace, currency, promotion, gift
wrap, business and Packstation case), rendered exactly as the Orders API sends them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache

import pytest

from sellerbridge.channels.amazon.orders.mapper import ImportedOrder, map_order
from sellerbridge.channels.amazon.spapi.models.orders import Order
from sellerbridge.core.parties import PickupPointType
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
