"""The Finances API v0 through the SP-API client, against the sandbox over real HTTP.

What the client reads is compared with the sandbox's own orders and refunds, never with what
the client sent. Each test runs on SQLite and PostgreSQL: the client is the one a workspace
builds (buckets and call records in its database).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from sellerbridge.channels.amazon.spapi import RejectedError
from sellerbridge.channels.amazon.spapi.models.finances import EventItem, FinancialEventsPage
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import SpApiCall
from sellerbridge.sandbox.catalog import catalogue
from sellerbridge.sandbox.vat_invoices import order_shipments
from tests.amazon import Shop

EVENTS = "finances.listFinancialEvents"
BY_ORDER = "finances.listFinancialEventsByOrderId"


def charge(item: EventItem, charge_type: str) -> Decimal:
    (found,) = [c.amount for c in item.charges if c.charge_type == charge_type]
    return found


def fba_sku(shop: Shop) -> str:
    seller = shop.live.seller.seller_id
    products = catalogue(shop.live.sandbox.config.seed, seller)
    return next(product.sku for product in products if product.fulfilled_by_amazon)


def refund(shop: Shop, order_id: str, **body: Any) -> dict[str, Any]:
    made: dict[str, Any] = shop.live.admin("POST", f"/orders/{order_id}/refunds", json=body)
    return made


def recorded(shop: Shop, operation: str) -> list[int | None]:
    with shop.uow as uow:
        return list(
            uow.session.scalars(
                select(SpApiCall.status)
                .where(SpApiCall.operation == operation)
                .order_by(SpApiCall.id)
            )
        )


def test_an_orders_shipment_and_refund_read_with_amazons_amounts(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(
        fulfilled_by="AMAZON", status="SHIPPED", items=[{"sku": fba_sku(shop), "quantity": 2}]
    )
    order = shop.live.sandbox.state.orders.orders[order_id]
    [ordered] = order.items
    made = refund(shop, order_id, items=[{"orderItemId": ordered.order_item_id, "quantity": 1}])

    with shop.client() as client:
        page = client.list_financial_events_by_order_id(order_id)
        unknown = client.list_financial_events_by_order_id("302-0000000-0000000")

    assert page.next_token is None
    [shipment] = page.shipments
    assert order.fba_shipment is not None
    assert (shipment.amazon_order_id, shipment.marketplace_name) == (order_id, "Amazon.de")
    assert shipment.posted_date == order.fba_shipment.shipped_at
    [shipped] = shipment.items
    assert (shipped.order_item_id, shipped.seller_sku, shipped.quantity) == (
        ordered.order_item_id,
        ordered.seller_sku,
        2,
    )
    assert shipped.order_adjustment_item_id is None
    assert {c.currency for c in shipped.charges} == {"EUR"}
    # the VAT-inclusive price and the VAT it contains, as the Orders API states them
    assert charge(shipped, "Principal") == ordered.item_price
    assert charge(shipped, "Tax") == ordered.item_tax
    [refunded] = page.refunds
    [returned] = refunded.items
    assert returned.order_adjustment_item_id == made["items"][0]["orderAdjustmentItemId"]
    assert returned.quantity == 1
    assert charge(returned, "Principal") == -Decimal(made["items"][0]["itemPrice"])
    assert charge(returned, "Tax") == -Decimal(made["items"][0]["itemTax"])
    assert refunded.posted_date.isoformat().replace("+00:00", "Z") == made["postedDate"]
    assert unknown == FinancialEventsPage(shipments=(), refunds=(), next_token=None)
    assert recorded(shop, BY_ORDER) == [200, 200]


def test_the_events_of_a_period_come_page_by_page(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop(orders=300)
    seller = shop.live.seller.seller_id
    orders = [o for o in shop.live.sandbox.state.orders.orders.values() if o.seller_id == seller]
    expected = {
        (
            shipment.order.order_id,
            shipment.shipped_at.replace(microsecond=0),
            tuple(sorted((line.order_item_id, line.quantity) for line in shipment.lines)),
        ): shipment
        for order in orders
        for shipment in order_shipments(order)
    }
    assert len(expected) > 100  # more than one page of Amazon's 100 events
    some = next(iter(expected.values()))
    made = refund(
        shop,
        some.order.order_id,
        items=[{"orderItemId": some.lines[0].order_item_id, "amount": "1.00"}],
        postedAt=(utcnow() - timedelta(seconds=10)).isoformat(),  # after every generated shipment
    )

    pages: list[FinancialEventsPage] = []
    with shop.client() as client:
        token: str | None = None
        while not pages or token:
            pages.append(client.list_financial_events(shop.since, next_token=token))
            token = pages[-1].next_token

    assert len(pages) == (len(expected) + 1 + 99) // 100  # full pages of 100 events
    shipments = [event for page in pages for event in page.shipments]
    assert len(shipments) == len(expected)  # each once
    for event in shipments:
        parts = tuple(sorted((item.order_item_id or "", item.quantity) for item in event.items))
        shipment = expected[(event.amazon_order_id, event.posted_date, parts)]
        lines = {line.order_item_id: line for line in shipment.lines}
        for item in event.items:
            line = lines[item.order_item_id or ""]
            assert item.quantity == line.quantity
            assert (charge(item, "Principal"), charge(item, "Tax")) == (
                line.item_price,
                line.item_tax,
            )
            assert charge(item, "ShippingCharge") == line.shipping_price
            assert charge(item, "GiftWrap") == line.gift_wrap_price
            discounts = sum((promotion.amount for promotion in item.promotions), Decimal(0))
            assert discounts == -(line.promotion_discount + line.shipping_discount)
    [refunded] = [event for page in pages for event in page.refunds]
    assert refunded.amazon_order_id == made["orderId"]
    [returned] = refunded.items
    assert charge(returned, "Principal") == Decimal("-1.00")  # an amount, VAT included
    assert (returned.quantity, returned.promotions) == (0, ())
    logged = shop.live.admin("GET", "/requests", params={"operation": EVENTS})
    assert [entry["path"] for entry in logged] == ["/finances/v0/financialEvents"] * len(pages)


def test_a_range_amazon_refuses_is_a_rejected_error(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    with shop.client() as client:
        with pytest.raises(RejectedError) as too_recent:  # sent rounded down to the second
            client.list_financial_events(utcnow() + timedelta(seconds=2))
        before = utcnow() - timedelta(minutes=1)
        with pytest.raises(RejectedError) as backwards:
            client.list_financial_events(before, posted_before=before - timedelta(days=1))
        with pytest.raises(RejectedError) as malformed:
            client.list_financial_events_by_order_id("BAD-ORDER")
        with pytest.raises(ValueError, match="time zone"):
            client.list_financial_events(datetime(2026, 1, 1))  # noqa: DTZ001

    assert (too_recent.value.status, too_recent.value.codes) == (400, ("InvalidInput",))
    assert "more than 2 minutes before" in str(too_recent.value.errors[0].message)
    assert "later than PostedAfter" in backwards.value.errors[0].message
    assert malformed.value.errors[0].message == "Bad order ID provided."
    assert recorded(shop, EVENTS) == [400, 400]  # refused once each: never repeated
