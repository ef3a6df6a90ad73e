"""Orders that cannot go straight on are held with a reason, and changes on Amazon follow.

Orders are placed in a live sandbox and imported by the regular import; where Amazon would
have to send something the sandbox will not produce (amounts that do not add up, an address
without a postcode, a cancellation of a shipped order), the order Amazon returned is changed
and applied as the import would apply it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from sellerbridge.channels.amazon.orders.importer import Outcome
from sellerbridge.channels.amazon.skus import map_sku
from sellerbridge.channels.amazon.spapi.models.orders import SearchOrdersResponse
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError
from sellerbridge.core.orders import (
    HOLD_ADDRESS_INCOMPLETE,
    HOLD_CANCEL_REQUEST,
    HOLD_CHANGED_BY_CHANNEL,
    HOLD_SHIPPED_ELSEWHERE,
    HOLD_TOTALS_MISMATCH,
    HOLD_UNKNOWN_ARTICLE,
)
from sellerbridge.db.models import AmazonOrderFailure, SalesOrder
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.articles import import_articles, read_csv
from sellerbridge.services.orders import release_order, resolve_holds
from sellerbridge.services.stock import receive
from tests.amazon import Shop
from tests.helpers import level


def later(payload_time: str, seconds: int = 60) -> str:
    return (datetime.fromisoformat(payload_time) + timedelta(seconds=seconds)).isoformat()


def test_an_unknown_sku_holds_the_order_until_it_is_mapped(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(without=("SB-0002",))
    # The merchant sells SB-0002 as their own article KAF-0002.
    import_articles(shop.uow, *read_csv("article_number,name,tax_class\nKAF-0002,Crema,reduced\n"))
    receive(shop.uow, article_number="KAF-0002", quantity=10, warehouse_code="MAIN", actor="t")
    order_id = shop.place(
        marketplace="DE", items=[{"sku": "SB-0002", "quantity": 2}, {"sku": "SB-0001"}]
    )

    report = shop.sync()

    assert report.orders[Outcome.CREATED] == 1
    held = shop.erp(order_id)
    assert held.state == "on_hold"
    assert "SB-0002" in held.holds[HOLD_UNKNOWN_ARTICLE]
    assert "sellerbridge skus map SKU ARTICLE" in held.holds[HOLD_UNKNOWN_ARTICLE]
    assert held.lines == [("SB-0002", False), ("SB-0001", True)]
    assert level(shop.uow, "SB-0001") == (1000, 1)  # the known line has its stock

    mapping = map_sku(shop.uow, sku="SB-0002", article_number="KAF-0002", account=None,
                      actor="t")  # fmt: skip
    assert mapping.ready_to_release == [held.number]
    assert level(shop.uow, "KAF-0002") == (10, 2)

    assert release_order(shop.uow, held.number, actor="t").value == "released"
    assert shop.erp(order_id).holds == {}


def test_amounts_that_do_not_add_up_hold_the_order_with_both_figures(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="DE", items=[{"sku": "SB-0001"}])
    shop.sync()
    payload = shop.payload(order_id)
    # Amazon charged a cent more than its lines and charges add up to.
    total = payload["proceeds"]["grandTotal"]
    charged = Decimal(total["amount"]) + Decimal("0.01")
    total["amount"] = str(charged)
    payload["orderId"] = "302-0000000-0000001"

    assert shop.apply(payload) is Outcome.CREATED

    held = shop.erp("302-0000000-0000001")
    assert held.state == "on_hold"
    assert f"Amazon charged {charged} EUR" in held.holds[HOLD_TOTALS_MISMATCH]
    assert release_order(shop.uow, held.number, actor="t").value == "released"


def test_an_address_without_postcode_holds_the_order_until_amazon_sends_it(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="DE", items=[{"sku": "SB-0004"}])
    complete = shop.payload(order_id)
    incomplete = shop.payload(order_id)
    incomplete["recipient"]["deliveryAddress"]["postalCode"] = None
    incomplete["lastUpdatedTime"] = later(complete["lastUpdatedTime"], -60)

    assert shop.apply(incomplete) is Outcome.CREATED
    held = shop.erp(order_id)
    assert "postal code" in held.holds[HOLD_ADDRESS_INCOMPLETE].lower()

    # Amazon's next version has the address; the operator releases the order.
    assert shop.apply(complete) is Outcome.UPDATED
    with shop.uow as uow:
        order = uow.session.scalars(select(SalesOrder).where(SalesOrder.number == held.number))
        stored = order.one()
        assert stored.shipping_address.postal_code
        assert any(event.kind == "address_changed" for event in stored.events)
    assert release_order(shop.uow, held.number, actor="t").value == "released"


def test_a_cancellation_before_shipping_cancels_the_order_and_frees_its_stock(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="DE", items=[{"sku": "SB-0005", "quantity": 3}])
    shop.sync()
    assert shop.erp(order_id).state == "open"
    assert level(shop.uow, "SB-0005") == (1000, 3)

    shop.event(order_id, "cancel", by="BUYER", reason="Order Created by Mistake")
    report = shop.sync()

    assert report.orders[Outcome.UPDATED] == 1
    assert shop.erp(order_id).state == "cancelled"
    assert level(shop.uow, "SB-0005") == (1000, 0)


def test_a_buyers_cancellation_request_holds_the_order(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="FR", items=[{"sku": "SB-0007"}])
    shop.sync()
    shop.event(order_id, "request_cancel", reason="Found Cheaper Somewhere Else")
    shop.sync()

    held = shop.erp(order_id)
    assert held.state == "on_hold"
    assert "Found Cheaper Somewhere Else" in held.holds[HOLD_CANCEL_REQUEST]


def test_a_cancellation_after_shipping_raises_an_alert(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="DE", fulfilled_by="AMAZON", status="SHIPPED")
    shop.sync()
    erp = shop.erp(order_id)
    assert erp.state == "shipped"

    cancelled = shop.payload(order_id)
    cancelled["fulfillment"]["fulfillmentStatus"] = "CANCELLED"
    cancelled["lastUpdatedTime"] = later(cancelled["lastUpdatedTime"])
    assert shop.apply(cancelled) is Outcome.UPDATED

    assert shop.erp(order_id).state == "shipped"
    with shop.uow as uow:
        alerts = [(a.kind, a.subject) for a in open_alerts(uow.session)]
    assert alerts == [("cancelled_after_shipping", erp.number)]


def item_breakdown(payload: dict[str, Any], kind: str) -> dict[str, Any]:
    breakdowns = payload["orderItems"][0]["proceeds"]["breakdowns"]
    found: dict[str, Any] = next(b for b in breakdowns if b["type"] == kind)
    return found


def test_vat_that_matches_no_rate_holds_the_order(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    payload = shop.payload(shop.place(marketplace="DE", items=[{"sku": "SB-0007"}]))
    tax = item_breakdown(payload, "TAX")
    for amount in [tax["subtotal"]] + [
        d["value"] for d in tax["detailedBreakdowns"] if d["subtype"] == "ITEM"
    ]:
        amount["amount"] = str(Decimal(amount["amount"]) - Decimal("1.00"))

    assert shop.apply(payload) is Outcome.CREATED

    reason = shop.erp(payload["orderId"]).holds[HOLD_TOTALS_MISMATCH]
    assert "The VAT of SB-0007" in reason
    assert "matches no VAT rate" in reason


def test_lines_or_amounts_amazon_changes_later_hold_the_order(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="DE", items=[{"sku": "SB-0001", "quantity": 2}])
    shop.sync()
    changed = shop.payload(order_id)
    changed["orderItems"][0]["quantityOrdered"] = 1
    changed["lastUpdatedTime"] = later(changed["lastUpdatedTime"])

    assert shop.apply(changed) is Outcome.UPDATED

    reason = shop.erp(order_id).holds[HOLD_CHANGED_BY_CHANNEL]
    assert "SB-0001 × 2 → × 1" in reason


def test_a_released_cancellation_request_is_not_held_again(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="DE", items=[{"sku": "SB-0004"}])
    shop.sync()
    shop.event(order_id, "request_cancel", reason="Order Created by Mistake")
    shop.sync()
    number = shop.erp(order_id).number
    assert release_order(shop.uow, number, actor="t").value == "released"  # ship it anyway

    again = shop.payload(order_id)
    again["lastUpdatedTime"] = later(again["lastUpdatedTime"])
    again["fulfillment"]["fulfillmentServiceLevel"] = "Expedited"
    assert shop.apply(again) is Outcome.UPDATED

    assert shop.erp(order_id).state == "released"


def test_an_order_shipped_through_seller_central_is_released_as_shipped(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(without=("SB-0002",))
    shipped = shop.payload(shop.place(marketplace="DE", items=[{"sku": "SB-0002"}]))
    shipped["fulfillment"]["fulfillmentStatus"] = "SHIPPED"
    assert shop.apply(shipped) is Outcome.CREATED
    held = shop.erp(shipped["orderId"])
    assert set(held.holds) == {HOLD_UNKNOWN_ARTICLE, HOLD_SHIPPED_ELSEWHERE}

    with pytest.raises(DomainError, match="Release it instead"):
        resolve_holds(shop.uow, held.number, actor="t", code=HOLD_SHIPPED_ELSEWHERE)
    with pytest.raises(DomainError, match="still has lines without an article"):
        resolve_holds(shop.uow, held.number, actor="t", code=HOLD_UNKNOWN_ARTICLE)
    import_articles(shop.uow, *read_csv("article_number,name\nOWN-2,Crema\n"))
    receive(shop.uow, article_number="OWN-2", quantity=5, warehouse_code="MAIN", actor="t")
    map_sku(shop.uow, sku="SB-0002", article_number="OWN-2", account=None, actor="t")
    assert level(shop.uow, "OWN-2") == (5, 0)  # it left long ago: nothing to reserve

    assert release_order(shop.uow, held.number, actor="t").value == "shipped"
    assert level(shop.uow, "OWN-2") == (5, 0)


def test_buyers_without_an_email_address_are_not_merged(start_shop: Callable[..., Shop]) -> None:
    shop = start_shop()
    first = shop.payload(shop.place(marketplace="DE", items=[{"sku": "SB-0001"}]))
    second = shop.payload(shop.place(marketplace="DE", items=[{"sku": "SB-0001"}]))
    for payload in (first, second):
        payload["buyer"] = None
        payload["recipient"] = None

    assert [shop.apply(first), shop.apply(second)] == [Outcome.CREATED, Outcome.CREATED]

    with shop.uow as uow:
        orders = uow.session.scalars(select(SalesOrder)).all()
        assert len({order.customer_id for order in orders}) == 2


def test_an_order_that_cannot_be_stored_is_kept_and_imported_later(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    broken_id = shop.place(marketplace="DE", items=[{"sku": "SB-0001"}])
    good_id = shop.place(marketplace="FR", items=[{"sku": "SB-0004"}])
    broken, good = shop.payload(broken_id), shop.payload(good_id)
    # An amount the database cannot store exactly (Amazon sends at most two decimals).
    item_breakdown(broken, "ITEM")["subtotal"]["amount"] = "24.9000001"
    page = SearchOrdersResponse.model_validate({"orders": [broken, good]})

    with shop.importer() as importer:
        outcomes = importer.store_page("orders", page, importer.rules(), utcnow())

    assert outcomes == [Outcome.FAILED, Outcome.CREATED]
    with shop.uow as uow:
        (alert,) = open_alerts(uow.session)
        assert (alert.kind, alert.subject) == ("amazon_order_failed", broken_id)
        assert "could not be imported" in alert.message
        failure = uow.session.scalars(select(AmazonOrderFailure)).one()
        assert (failure.amazon_order_id, failure.attempts) == (broken_id, 1)

    # The next import asks Amazon for the order again, stores it and clears the alert.
    report = shop.sync()
    assert report.orders[Outcome.CREATED] >= 1
    assert shop.erp(broken_id).state == "open"
    with shop.uow as uow:
        assert open_alerts(uow.session) == []
        assert uow.session.scalars(select(AmazonOrderFailure)).one().resolved_at is not None
