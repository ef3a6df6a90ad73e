"""The order generator: the same seed gives the same orders, covering every case, to the cent."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from stdnum.eu import vat

from sellerbridge.sandbox.catalog import catalogue
from sellerbridge.sandbox.marketplaces import BY_ID
from sellerbridge.sandbox.order_records import Order, OrderItem
from tests.sandbox.harness import LiveSandbox, assert_conforms

ANCHOR = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
EUROPE = {"DE", "FR", "IT", "ES", "NL", "BE", "PL", "SE", "IE", "UK"}
EU = {"AT", "BE", "CZ", "DE", "ES", "FR", "IE", "IT", "NL", "PL", "SE"}
# Written out again here, so that a wrong rate in the generator's table is noticed.
STANDARD = {"DE": 19, "AT": 20, "FR": 20, "IT": 22, "ES": 21, "NL": 21, "BE": 21, "PL": 23,
            "SE": 25, "IE": 23, "GB": 20}  # fmt: skip
FOOD = {"DE": "7", "AT": "10", "FR": "5.5", "IT": "10", "ES": "10", "NL": "9", "BE": "6",
        "PL": "5", "SE": "12", "IE": "0", "GB": "0"}  # fmt: skip


def food_rate(country: str, on: date) -> Decimal:
    if country == "SE" and date(2026, 4, 1) <= on <= date(2027, 12, 31):
        return Decimal(6)
    return Decimal(FOOD[country])


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def vat_in(gross: Decimal, rate: Decimal) -> Decimal:
    return cents(gross * rate / (100 + rate))


@pytest.fixture
def seven(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """``--orders 1000 --seed 7`` with a fixed anchor."""
    return start_sandbox(seed=7, orders=1000, anchor=ANCHOR)


def orders_of(live: LiveSandbox) -> list[Order]:
    return list(live.sandbox.state.orders.orders.values())


def test_the_same_seed_gives_the_same_orders(
    seven: LiveSandbox, start_sandbox: Callable[..., LiveSandbox]
) -> None:
    first = seven.admin("GET", "/orders")
    again = start_sandbox(seed=7, orders=1000, anchor=ANCHOR).admin("GET", "/orders")
    assert len(first) == 1000
    assert first == again
    other_seed = start_sandbox(seed=8, orders=1000, anchor=ANCHOR).admin("GET", "/orders")
    assert {o["order_id"] for o in other_seed}.isdisjoint({o["order_id"] for o in first})


TIMES = ("created_time", "last_updated_time", "ship_by_earliest", "ship_by_latest",
         "deliver_by_earliest", "deliver_by_latest")  # fmt: skip


def without_times(order: dict[str, Any]) -> dict[str, Any]:
    """An order as the admin API shows it, minus every timestamp."""
    return {
        key: value
        for key, value in order.items()
        if key not in (*TIMES, "packages", "fba_shipment")
    } | {
        "packages": [
            {k: v for k, v in p.items() if k not in ("ship_date", "created_at", "delivered_at")}
            for p in order["packages"]
        ],
    }


def test_every_start_with_the_same_seed_has_the_same_orders(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    # As `sellerbridge sandbox serve --orders 1000 --seed 7` twice: dated back from each start.
    first = start_sandbox(seed=7, orders=1000).admin("GET", "/orders")
    time.sleep(1.1)
    again = start_sandbox(seed=7, orders=1000).admin("GET", "/orders")
    assert [without_times(o) for o in first] == [without_times(o) for o in again]
    assert first[0]["created_time"] != again[0]["created_time"]  # only the times moved


def test_a_second_batch_brings_new_orders(seven: LiveSandbox) -> None:
    before = {order["order_id"] for order in seven.admin("GET", "/orders")}
    added = seven.admin("POST", "/orders/generate", json={"count": 50})["order_ids"]
    assert len(added) == 50
    assert before.isdisjoint(added)


def test_the_orders_cover_every_case_a_connector_meets(seven: LiveSandbox) -> None:
    orders = orders_of(seven)
    items = [item for order in orders for item in order.items]
    assert {BY_ID[o.marketplace_id].code for o in orders} == EUROPE
    assert {o.currency for o in orders} == {"EUR", "GBP", "PLN", "SEK"}
    assert all(o.currency == BY_ID[o.marketplace_id].currency for o in orders)
    assert {o.tax_treatment.value for o in orders} == {
        "DOMESTIC", "OSS", "INTRA_COMMUNITY", "UK_MARKETPLACE",
    }  # fmt: skip

    fba = [o for o in orders if o.fulfilled_by == "AMAZON"]
    fbm = [o for o in orders if o.fulfilled_by == "MERCHANT"]
    assert 150 < len(fba) < 450
    assert all(i.seller_sku.endswith("-FBA") for o in fba for i in o.items)
    assert not any(i.seller_sku.endswith("-FBA") for o in fbm for i in o.items)
    assert {o.ship_from_country for o in fba} == {"DE", "PL", "CZ", "FR", "IT", "ES", "GB"}
    assert {o.ship_from_country for o in fbm} == {"DE"}

    business = [o for o in orders if o.is_business]
    assert len(business) > 50
    assert all(o.buyer_company_name for o in business)
    assert any(o.purchase_order_number for o in business)
    vat_ids = [o.buyer_vat_number for o in orders if o.buyer_vat_number]
    assert len(vat_ids) > 30
    assert all(vat.is_valid(number) for number in vat_ids)
    assert {number[:2] for number in vat_ids} >= {"DE", "FR", "IT", "ES", "PL"}
    assert all(o.is_business for o in orders if o.buyer_vat_number)

    assert sum(o.is_prime for o in orders) > 100
    assert set(Counter(len(o.items) for o in orders)) == {1, 2, 3, 4, 5}
    assert any(i.quantity > 1 for i in items)
    promoted = [i for i in items if i.promotion_discount]
    assert len(promoted) > 50
    assert all(i.promotion_ids for i in promoted)
    assert any(i.shipping_discount and "FBA Free Shipping" in i.promotion_ids for i in items)
    wrapped = [i for i in items if i.gift_wrap_price]
    assert len(wrapped) > 10
    assert all(i.gift_wrap_level and i.gift_message for i in wrapped)
    assert sum(1 for i in items if i.shipping_price) > 300

    names = " ".join(o.buyer_name for o in orders)
    assert set("üöłśçéÅáóñ") <= set(names)
    assert sum(not o.buyer_name.isascii() for o in orders) > 300
    packstations = [o for o in orders if o.shipping_address.address_type == "PICKUP_POINT"]
    assert len(packstations) > 5
    for order in packstations:
        address = order.shipping_address
        assert re.fullmatch(r"Packstation \d{3}", address.line1)
        assert address.line2 is not None
        assert re.fullmatch(r"\d{6,10}", address.line2)  # the DHL Postnummer
        assert address.country_code == "DE"


def test_statuses_times_and_identifiers_look_like_amazons(seven: LiveSandbox) -> None:
    orders = orders_of(seven)
    fbm = Counter(o.status.value for o in orders if o.fulfilled_by == "MERCHANT")
    fba = Counter(o.status.value for o in orders if o.fulfilled_by == "AMAZON")
    assert fbm.most_common(1)[0][0] == "UNSHIPPED"
    assert set(fbm) == {"PENDING", "UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED"}
    assert fba.most_common(1)[0][0] == "SHIPPED"
    assert {"PENDING", "CANCELLED"} <= set(fba)
    assert "PARTIALLY_SHIPPED" not in fba

    for order in orders:
        shipped = sum(i.quantity_shipped for i in order.items)
        in_packages = sum(pi.quantity for p in order.packages for pi in p.items)
        if order.fulfilled_by == "AMAZON":
            assert not order.packages
            assert (order.fba_shipment is not None) == (order.status.value == "SHIPPED")
        else:
            assert order.fba_shipment is None
            assert shipped == in_packages
        if order.status.value == "PARTIALLY_SHIPPED":
            assert order.packages
            assert 0 < shipped < sum(i.quantity for i in order.items)
        if order.status.value == "SHIPPED":
            assert all(i.quantity_unshipped == 0 for i in order.items)
        if order.status.value in ("PENDING", "UNSHIPPED", "CANCELLED"):
            assert shipped == 0
        assert order.created_time <= order.last_updated_time <= ANCHOR
        assert order.ship_by_earliest <= order.ship_by_latest < order.deliver_by_earliest
        assert order.deliver_by_earliest <= order.deliver_by_latest
        assert re.fullmatch(r"\d{3}-\d{7}-\d{7}", order.order_id)
        assert all(re.fullmatch(r"\d{14}", i.order_item_id) for i in order.items)
        domain = BY_ID[order.marketplace_id].domain.removeprefix("www.")
        assert re.fullmatch(rf"[a-z0-9]{{16}}@marketplace\.{re.escape(domain)}", order.buyer_email)
    assert len({o.order_id for o in orders}) == len(orders)
    assert len({o.created_time.date() for o in orders}) >= 25
    assert any(p.delivered_at for o in orders for p in o.packages)


def expected_rate(order: Order, item: OrderItem, reduced: bool) -> Decimal:
    ship_to = order.shipping_address.country_code
    on = order.created_time.date()
    vat_id = order.buyer_vat_number
    if (
        ship_to != "GB"
        and vat_id
        and {order.ship_from_country, ship_to} <= EU
        and ship_to != order.ship_from_country
        and vat_id[:2] != order.ship_from_country
    ):
        return Decimal(0)
    return food_rate(ship_to, on) if reduced else Decimal(STANDARD[ship_to])


def test_taxes_match_the_rates_to_the_cent(seven: LiveSandbox) -> None:
    products = {p.sku: p for p in catalogue(7, seven.seller.seller_id)}
    zero_rated = 0
    for order in orders_of(seven):
        marketplace = BY_ID[order.marketplace_id]
        for item in order.items:
            product = products[item.seller_sku]
            rate = expected_rate(order, item, product.reduced_vat)
            assert item.vat_rate == rate, (order.order_id, item.seller_sku)
            assert item.item_tax == vat_in(item.item_price, rate)
            assert item.shipping_tax == vat_in(item.shipping_price, rate)
            assert item.gift_wrap_tax == vat_in(item.gift_wrap_price, rate)
            assert item.promotion_discount_tax == vat_in(item.promotion_discount, rate)
            assert item.shipping_discount_tax == vat_in(item.shipping_discount, rate)
            list_price = product.price(order.currency)
            if rate == 0 and order.buyer_vat_number:
                zero_rated += 1
                home = marketplace.country_code
                list_rate = (
                    food_rate(home, order.created_time.date())
                    if product.reduced_vat
                    else Decimal(STANDARD[home])
                )
                assert item.unit_price == cents(list_price * 100 / (100 + list_rate))
            else:
                assert item.unit_price == list_price
            assert item.promotion_discount < item.item_price
    assert zero_rated > 20


def pages(live: LiveSandbox, **query: Any) -> Iterator[dict[str, Any]]:
    token = None
    while True:
        params = {**query, **({"paginationToken": token} if token else {})}
        response = live.call("GET", "/orders/2026-01-01/orders", params=params)
        assert_conforms("orders.searchOrders", response)
        assert response.status_code == 200, response.text
        page: dict[str, Any] = response.json()
        yield page
        token = page.get("pagination", {}).get("nextToken")
        if token is None:
            return


def money(breakdowns: list[dict[str, Any]], kind: str | None = None) -> Decimal:
    """The sum of ``breakdowns`` of ``kind`` (default: every kind but TAX)."""
    return sum(
        (
            Decimal(b["subtotal"]["amount"])
            for b in breakdowns
            if (b["type"] == kind if kind else b["type"] != "TAX")
        ),
        Decimal(0),
    )


def test_every_rendered_order_adds_up_to_its_total(seven: LiveSandbox) -> None:
    seven.admin("PUT", "/usage-plans/orders.searchOrders", json={"rate": 100, "burst": 100})
    stored = {o.order_id: o for o in orders_of(seven)}
    query = {"createdAfter": (ANCHOR - timedelta(days=40)).isoformat(), "includedData": "PROCEEDS"}
    rendered = [order for page in pages(seven, **query) for order in page["orders"]]
    assert len(rendered) == 1000
    for order in rendered:
        own = stored[order["orderId"]]
        if own.status.value == "PENDING":
            assert "proceeds" not in order
            continue
        proceeds = order["proceeds"]
        grand_total = Decimal(proceeds["grandTotal"]["amount"])
        assert proceeds["grandTotal"]["currencyCode"] == own.currency
        assert grand_total == own.grand_total
        assert money(proceeds["breakdowns"]) == grand_total
        item_totals = Decimal(0)
        item_taxes = Decimal(0)
        for item in order["orderItems"]:
            item_proceeds = item["proceeds"]
            total = Decimal(item_proceeds["proceedsTotal"]["amount"])
            assert money(item_proceeds["breakdowns"]) == total
            for breakdown in item_proceeds["breakdowns"]:
                details = breakdown.get("detailedBreakdowns")
                if details:
                    detail_sum = sum((Decimal(d["value"]["amount"]) for d in details), Decimal(0))
                    assert detail_sum == Decimal(breakdown["subtotal"]["amount"])
            item_totals += total
            item_taxes += money(item_proceeds["breakdowns"], "TAX")
        assert item_totals == grand_total
        assert money(proceeds["breakdowns"], "TAX") == item_taxes == own.total_tax
