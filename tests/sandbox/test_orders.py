"""Orders API 2026-01-01, Orders v0 confirmShipment and getOrderBuyerInfo, and the order lifecycle
admin, over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sellerbridge.sandbox.framework import iso
from tests.sandbox.harness import LiveSandbox, assert_conforms

ORDERS = "/orders/2026-01-01/orders"
ALL_DATA = (
    "BUYER,RECIPIENT,PROCEEDS,EXPENSE,PROMOTION,CANCELLATION,FULFILLMENT,PACKAGES,TAX,"
    "PAYMENT,FULFILLMENT_ORDERS"
)
DE, FR, UK = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "A1F83G8C2ARO7P"
FRENCH_VAT_ID = "FR40303265045"
OPERATIONS = (
    "orders.searchOrders",
    "orders.getOrder",
    "ordersV0.confirmShipment",
    "ordersV0.getOrderBuyerInfo",
)


def ago(**delta: float) -> str:
    return iso(datetime.now(UTC) - timedelta(**delta))


@pytest.fixture
def shop(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """A sandbox at time scale 1 whose order operations have a raised usage plan."""
    live = start_sandbox()
    for operation in OPERATIONS:
        live.admin("PUT", f"/usage-plans/{operation}", json={"rate": 100, "burst": 100})
    return live


def place(live: LiveSandbox, **spec: Any) -> dict[str, Any]:
    """An order placed an hour ago (searches see orders from two minutes ago and older)."""
    spec.setdefault("created_time", ago(hours=1))
    order: dict[str, Any] = live.admin("POST", "/orders", json=spec)
    return order


def get_order(live: LiveSandbox, order_id: str, included: str | None = ALL_DATA) -> Any:
    params = {"includedData": included} if included else {}
    response = live.call("GET", f"{ORDERS}/{order_id}", params=params)
    assert_conforms("orders.getOrder", response)
    assert response.status_code == 200, response.text
    return response.json()["order"]


def search(live: LiveSandbox, **params: Any) -> httpx.Response:
    response = live.call("GET", ORDERS, params=params)
    assert_conforms("orders.searchOrders", response)
    return response


def search_ids(live: LiveSandbox, **params: Any) -> set[str]:
    response = search(live, **params)
    assert response.status_code == 200, response.text
    return {order["orderId"] for order in response.json()["orders"]}


def confirm(
    live: LiveSandbox,
    order: dict[str, Any],
    reference: str,
    items: list[tuple[str, int]],
    marketplace_id: str | None = None,
    **detail: Any,
) -> httpx.Response:
    """confirmShipment of one package of ``order``; ``detail`` overrides the package fields."""
    package = {
        "packageReferenceId": reference,
        "carrierCode": "DHL",
        "shippingMethod": "DHL Paket",
        "trackingNumber": "00340434161094042557",
        "shipDate": "2026-11-26T15:00:00Z",
        "orderItems": [{"orderItemId": item, "quantity": quantity} for item, quantity in items],
        **detail,
    }
    body = {"marketplaceId": marketplace_id or order["marketplace_id"], "packageDetail": package}
    response = live.call(
        "POST", f"/orders/v0/orders/{order['order_id']}/shipmentConfirmation", json=body
    )
    assert_conforms("ordersV0.confirmShipment", response)
    return response


def event(live: LiveSandbox, order_id: str, **body: Any) -> httpx.Response:
    return live.http.post(f"/_sandbox/orders/{order_id}/events", json=body)


def error_message(response: httpx.Response) -> str:
    error = response.json()["errors"][0]
    return f"{error['message']} {error.get('details', '')}"


# --- getOrder ----------------------------------------------------------------------------------


def test_get_order_returns_only_the_parts_asked_for(shop: LiveSandbox) -> None:
    placed = place(
        shop,
        marketplace="FR",
        vat_id=FRENCH_VAT_ID,
        purchase_order_number="PO-4711",
        items=[
            {"sku": "SB-0007", "quantity": 2, "promotion_discount": "5.00"},
            {"sku": "SB-0001", "gift_wrap": True},
        ],
        gift_message="Joyeux anniversaire !",
    )
    bare = get_order(shop, placed["order_id"], included=None)
    assert set(bare) == {"orderId", "createdTime", "lastUpdatedTime", "programs",
                         "salesChannel", "orderItems"}  # fmt: skip
    assert bare["programs"] == ["AMAZON_BUSINESS"]
    assert bare["salesChannel"] == {
        "channelName": "AMAZON", "marketplaceId": FR, "marketplaceName": "Amazon.fr",
    }  # fmt: skip
    assert set(bare["orderItems"][0]) == {"orderItemId", "quantityOrdered", "product"}

    full = get_order(shop, placed["order_id"])
    assert full["buyer"]["buyerCompanyName"] == placed["buyer_company_name"]
    assert full["buyer"]["buyerPurchaseOrderNumber"] == "PO-4711"
    assert full["buyer"]["buyerEmail"].endswith("@marketplace.amazon.fr")
    assert full["recipient"]["deliveryAddress"]["addressType"] == "COMMERCIAL"
    assert full["recipient"]["deliveryAddress"]["phone"]
    assert full["tax"]["taxRegistrations"] == [
        {"entityType": "BUYER", "legalName": placed["buyer_company_name"],
         "taxRegistrationType": "VAT", "taxRegistrationNumber": FRENCH_VAT_ID},
    ]  # fmt: skip
    assert full["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert full["fulfillment"]["fulfilledBy"] == "MERCHANT"
    grinder, beans = full["orderItems"]
    assert grinder["product"]["sellerSku"] == "SB-0007"
    # a French company buys from the German warehouse with its VAT ID: 0 %, net prices
    assert grinder["product"]["price"]["unitPrice"] == {"amount": "40.83", "currencyCode": "EUR"}
    assert grinder["promotion"]["breakdowns"][0]["promotionId"]
    discount = next(b for b in grinder["proceeds"]["breakdowns"] if b["type"] == "DISCOUNT")
    assert discount["subtotal"]["amount"] == "-4.17"
    assert beans["fulfillment"]["packing"]["giftOption"] == {
        "giftMessage": "Joyeux anniversaire !", "giftWrapLevel": "Classic",
    }  # fmt: skip
    assert full["proceeds"]["grandTotal"]["amount"] == placed["grand_total"]
    assert full["packages"] == []


def test_get_order_refuses_unknown_and_other_sellers_orders(shop: LiveSandbox) -> None:
    other = shop.admin("POST", "/sellers", json={"name": "Other", "marketplaces": ["DE"]})
    theirs = place(shop, seller_id=other["seller_id"])
    for order_id in (theirs["order_id"], "028-0000000-0000000"):
        response = shop.call("GET", f"{ORDERS}/{order_id}")
        assert response.status_code == 404
        assert_conforms("orders.getOrder", response)
    mine = place(shop)["order_id"]
    bad = shop.call("GET", f"{ORDERS}/{mine}", params={"includedData": "SECRETS"})
    assert bad.status_code == 400
    assert_conforms("orders.getOrder", bad)


def test_pending_orders_have_no_prices_until_paid(shop: LiveSandbox) -> None:
    placed = place(shop, status="PENDING", items=[{"sku": "SB-0002", "quantity": 2}])
    pending = get_order(shop, placed["order_id"])
    assert pending["fulfillment"]["fulfillmentStatus"] == "PENDING"
    assert "proceeds" not in pending
    assert "recipient" not in pending
    assert "price" not in pending["orderItems"][0]["product"]
    assert "proceeds" not in pending["orderItems"][0]

    paid = event(shop, placed["order_id"], event="pay")
    assert paid.status_code == 200
    assert paid.json()["last_updated_time"] > placed["last_updated_time"]
    order = get_order(shop, placed["order_id"])
    assert order["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    assert order["proceeds"]["grandTotal"]["amount"] == placed["grand_total"]
    assert order["recipient"]["deliveryAddress"]["name"] == placed["buyer_name"]


def test_fba_orders_hide_the_buyers_email_phone_and_packages(shop: LiveSandbox) -> None:
    placed = place(shop, fulfilled_by="AMAZON", status="SHIPPED", prime=True)
    order = get_order(shop, placed["order_id"])
    assert "buyerEmail" not in order["buyer"]
    assert "phone" not in order["recipient"]["deliveryAddress"]
    assert "packages" not in order
    assert order["programs"] == ["PRIME"]
    assert order["fulfillment"]["fulfilledBy"] == "AMAZON"
    assert order["fulfillment"]["fulfillmentServiceLevel"] == "NEXT_DAY"
    assert order["orderItems"][0]["product"]["sellerSku"].endswith("-FBA")
    assert order["orderItems"][0]["fulfillment"] == {"quantityFulfilled": 1,
                                                     "quantityUnfulfilled": 0}  # fmt: skip


def buyer_info(live: LiveSandbox, order_id: str, *, restricted: bool = True) -> httpx.Response:
    path = f"/orders/v0/orders/{order_id}/buyerInfo"
    token = live.rdt("GET", path) if restricted else None
    response = live.call("GET", path, token=token)
    assert_conforms("ordersV0.getOrderBuyerInfo", response)
    return response


def test_buyer_info_gives_the_relay_address_of_fba_orders_with_a_restricted_token(
    shop: LiveSandbox,
) -> None:
    placed = place(shop, fulfilled_by="AMAZON", status="SHIPPED", marketplace="FR")
    refused = buyer_info(shop, placed["order_id"], restricted=False)
    assert refused.status_code == 403
    assert "Restricted Data Token" in error_message(refused)

    response = buyer_info(shop, placed["order_id"])
    assert response.status_code == 200, response.text
    payload = response.json()["payload"]
    assert payload["AmazonOrderId"] == placed["order_id"]
    assert payload["BuyerEmail"] == placed["buyer_email"]
    assert payload["BuyerEmail"].endswith("@marketplace.amazon.fr")

    pending = place(shop, fulfilled_by="MERCHANT", status="PENDING")
    assert "BuyerEmail" not in buyer_info(shop, pending["order_id"]).json()["payload"]
    assert buyer_info(shop, "028-0000000-0000000").status_code == 404


def test_proceeds_show_vat_inclusive_amounts_with_the_vat_they_contain(shop: LiveSandbox) -> None:
    placed = place(
        shop, items=[{"sku": "SB-0001", "quantity": 2, "promotion_discount": "4.98"}],
        shipping_price="4.90",
    )  # fmt: skip
    item = get_order(shop, placed["order_id"])["orderItems"][0]
    breakdowns = {b["type"]: b for b in item["proceeds"]["breakdowns"]}
    assert breakdowns["ITEM"]["subtotal"]["amount"] == "49.80"
    assert breakdowns["SHIPPING"]["subtotal"]["amount"] == "4.90"
    assert breakdowns["DISCOUNT"]["subtotal"]["amount"] == "-4.98"
    assert item["proceeds"]["proceedsTotal"]["amount"] == "49.72"
    tax = {d["subtype"]: d["value"]["amount"] for d in breakdowns["TAX"]["detailedBreakdowns"]}
    # coffee in Germany: 7 % contained in each amount, rounded to the cent
    assert tax == {"ITEM": "3.26", "SHIPPING": "0.32", "DISCOUNT": "-0.33"}
    assert breakdowns["TAX"]["subtotal"]["amount"] == "3.25"


# --- searchOrders ------------------------------------------------------------------------------


def test_search_filters_by_status_marketplace_channel_and_seller(shop: LiveSandbox) -> None:
    unshipped_de = place(shop)["order_id"]
    pending_fr = place(shop, marketplace="FR", status="PENDING")["order_id"]
    fba_uk = place(shop, marketplace="UK", fulfilled_by="AMAZON", status="SHIPPED")["order_id"]
    cancelled_de = place(shop, status="CANCELLED")["order_id"]
    other = shop.admin("POST", "/sellers", json={"name": "Other", "marketplaces": ["DE"]})
    place(shop, seller_id=other["seller_id"])
    since = {"createdAfter": ago(hours=2)}

    assert search_ids(shop, **since) == {unshipped_de, pending_fr, fba_uk, cancelled_de}
    assert search_ids(shop, **since, fulfillmentStatuses="UNSHIPPED,PENDING") == {
        unshipped_de, pending_fr,
    }  # fmt: skip
    assert search_ids(shop, **since, marketplaceIds=[FR, UK]) == {pending_fr, fba_uk}
    assert search_ids(shop, **since, fulfilledBy="AMAZON") == {fba_uk}
    assert search_ids(shop, **since, fulfilledBy="MERCHANT", fulfillmentStatuses="SHIPPED") == set()
    assert search_ids(shop, createdAfter=ago(minutes=30)) == set()

    foreign = search(shop, **since, marketplaceIds="ATVPDKIKX0DER")
    assert foreign.status_code == 400
    assert "ATVPDKIKX0DER" in error_message(foreign)


def test_search_wants_its_upper_bound_two_minutes_in_the_past(shop: LiveSandbox) -> None:
    old = place(shop)["order_id"]
    fresh = place(shop, created_time=ago(seconds=30))["order_id"]

    too_recent = search(shop, createdAfter=ago(hours=2), createdBefore=ago(minutes=1))
    assert too_recent.status_code == 400
    assert "at least 2 minutes before" in error_message(too_recent)

    before = ago(minutes=3)
    bounded = search(shop, createdAfter=ago(hours=2), createdBefore=before)
    assert bounded.status_code == 200
    assert bounded.json()["createdBefore"] == before
    assert {o["orderId"] for o in bounded.json()["orders"]} == {old}

    open_ended = search(shop, createdAfter=ago(hours=2))
    bound = datetime.fromisoformat(open_ended.json()["createdBefore"])
    assert timedelta(seconds=115) < datetime.now(UTC) - bound < timedelta(seconds=130)
    assert fresh not in {o["orderId"] for o in open_ended.json()["orders"]}

    updated = search(shop, lastUpdatedAfter=ago(hours=2))
    assert set(updated.json()) == {"orders", "lastUpdatedBefore"}


@pytest.mark.parametrize(
    ("params", "complaint"),
    [
        ({}, "Exactly one of createdAfter and lastUpdatedAfter"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedAfter": "2026-01-01T00:00:00Z"},
         "Exactly one of createdAfter and lastUpdatedAfter"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedBefore": "2026-02-01T00:00:00Z"},
         "cannot be combined"),
        ({"lastUpdatedAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-02-01T00:00:00Z"},
         "cannot be combined"),
        ({"lastUpdatedAfter": "2026-02-01T00:00:00Z", "lastUpdatedBefore": "2026-01-01T00:00:00Z"},
         "equal to or after lastUpdatedAfter"),
        ({"createdAfter": "yesterday"}, "ISO 8601"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "0"}, "between 1 and 100"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "101"}, "between 1 and 100"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "fulfillmentStatuses": "LOST"}, "LOST"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "fulfilledBy": "SELLER"}, "SELLER"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "includedData": "EVERYTHING"}, "EVERYTHING"),
        ({"createdAfter": "2026-01-01T00:00:00Z", "paginationToken": "made-up"},
         "Invalid paginationToken"),
    ],
)  # fmt: skip
def test_search_refuses_invalid_parameters(
    shop: LiveSandbox, params: dict[str, str], complaint: str
) -> None:
    response = search(shop, **params)
    assert response.status_code == 400
    assert complaint in error_message(response)


def test_pages_cover_every_order_once_in_a_stable_order(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(seed=11, orders=230, anchor=datetime.now(UTC) - timedelta(minutes=10))
    live.admin("PUT", "/usage-plans/orders.searchOrders", json={"rate": 100, "burst": 100})
    expected = {order["order_id"] for order in live.admin("GET", "/orders")}
    query = {"createdAfter": ago(days=40)}
    first = search(live, **query, maxResultsPerPage=100).json()
    seen = [order["orderId"] for order in first["orders"]]
    token = first["pagination"]["nextToken"]
    # maxResultsPerPage and includedData may change from page to page
    second = search(live, **query, paginationToken=token, maxResultsPerPage=70,
                    includedData="FULFILLMENT").json()  # fmt: skip
    assert "fulfillment" in second["orders"][0]
    seen += [order["orderId"] for order in second["orders"]]
    rest = search(live, **query, paginationToken=second["pagination"]["nextToken"]).json()
    assert "pagination" not in rest
    seen += [order["orderId"] for order in rest["orders"]]
    assert len(seen) == len(set(seen)) == len(expected) == 230
    assert set(seen) == expected
    created = [o["createdTime"] for o in first["orders"] + second["orders"] + rest["orders"]]
    assert created == sorted(created)
    assert first["createdBefore"] == second["createdBefore"] == rest["createdBefore"]
    # a token can be used again: a client whose response was lost asks once more
    again = search(live, **query, paginationToken=token, maxResultsPerPage=70).json()
    assert [o["orderId"] for o in again["orders"]] == seen[100:170]


def test_an_order_updated_while_paging_is_not_repeated(shop: LiveSandbox) -> None:
    placed = [place(shop, created_time=ago(hours=3, minutes=n))["order_id"] for n in range(5)]
    query = {"lastUpdatedAfter": ago(hours=4)}
    first = search(shop, **query, maxResultsPerPage=2).json()
    page_one = [order["orderId"] for order in first["orders"]]
    assert event(shop, page_one[0], event="request_cancel").status_code == 200
    seen = list(page_one)
    token = first["pagination"]["nextToken"]
    while token:
        page = search(shop, **query, maxResultsPerPage=2, paginationToken=token).json()
        seen += [order["orderId"] for order in page["orders"]]
        token = page.get("pagination", {}).get("nextToken")
    assert sorted(seen) == sorted(placed)


def test_pagination_tokens_expire_and_must_repeat_the_query(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(search_token_seconds=2)
    live.admin("PUT", "/usage-plans/orders.searchOrders", json={"rate": 100, "burst": 100})
    for _ in range(3):
        place(live)
    query = {"createdAfter": ago(hours=2), "fulfillmentStatuses": "UNSHIPPED"}
    token = search(live, **query, maxResultsPerPage=1).json()["pagination"]["nextToken"]

    changed = search(live, createdAfter=query["createdAfter"], paginationToken=token)
    assert changed.status_code == 400
    assert "repeated unchanged" in error_message(changed)
    other = live.admin("POST", "/sellers", json={"name": "Other", "marketplaces": ["DE"]})
    stolen = live.call("GET", ORDERS, params={**query, "paginationToken": token},
                       token=live.token(live.sandbox.seller(other["seller_id"])))  # fmt: skip
    assert stolen.status_code == 400
    assert_conforms("orders.searchOrders", stolen)
    assert search(live, **query, paginationToken=token).status_code == 200

    time.sleep(2.1)
    expired = search(live, **query, paginationToken=token)
    assert expired.status_code == 400
    assert "expired" in error_message(expired)


# --- confirmShipment ---------------------------------------------------------------------------


def test_confirming_packages_ships_the_order_step_by_step(shop: LiveSandbox) -> None:
    placed = place(shop, items=[{"sku": "SB-0007"}, {"sku": "SB-0011"}])
    first, second = (item["order_item_id"] for item in placed["items"])

    assert confirm(shop, placed, "1", [(first, 1)]).status_code == 204
    order = get_order(shop, placed["order_id"])
    assert order["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"
    assert order["packages"] == [
        {
            "packageReferenceId": "1",
            "createdTime": order["lastUpdatedTime"],
            "packageStatus": {"status": "SHIPPED"},
            "carrier": "DHL",
            "shipTime": "2026-11-26T15:00:00Z",
            "shippingService": "DHL Paket",
            "trackingNumber": "00340434161094042557",
            "packageItems": [{"orderItemId": first, "quantity": 1}],
        }
    ]
    assert [i["fulfillment"]["quantityUnfulfilled"] for i in order["orderItems"]] == [0, 1]

    rest = confirm(shop, placed, "2", [(second, 1)], carrierCode="Other",
                   carrierName="Spedition Müller", trackingNumber="SM-99")  # fmt: skip
    assert rest.status_code == 204
    shipped = shop.admin("GET", f"/orders/{placed['order_id']}")
    assert shipped["status"] == "SHIPPED"
    assert [p["tracking_number"] for p in shipped["packages"]] == ["00340434161094042557", "SM-99"]
    assert all(p["shipment_id"] for p in shipped["packages"])
    assert get_order(shop, placed["order_id"])["packages"][1]["carrier"] == "Spedition Müller"

    repeat = confirm(shop, placed, "2", [(second, 1)], carrierCode="Other",
                     carrierName="Spedition Müller", trackingNumber="SM-99")  # fmt: skip
    assert repeat.status_code == 204
    assert shop.admin("GET", f"/orders/{placed['order_id']}") == shipped

    conflicting = confirm(shop, placed, "2", [(second, 1)], trackingNumber="00340434000000000000")
    assert conflicting.status_code == 400
    assert "confirmed already with other details" in error_message(conflicting)
    assert shop.admin("GET", f"/orders/{placed['order_id']}") == shipped


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"marketplace_id": FR}, "is not the marketplace of order"),
        ({"packageReferenceId": "PKG-1"}, "positive numeric"),
        ({"packageReferenceId": "0"}, "positive numeric"),
        ({"packageReferenceId": 1}, "Invalid Input"),
        ({"carrierCode": "Hermes Europe"}, "Unknown carrierCode"),
        ({"carrierCode": "Other"}, "carrierName is required"),
        ({"trackingNumber": " "}, "trackingNumber"),
        ({"shipDate": "26.11.2026"}, "Invalid Input"),
        ({"orderItems": []}, "at least one order item"),
        ({"orderItems": [{"orderItemId": "12345678901234", "quantity": 1}]}, "is not an item"),
        ({"items": 0}, "at least 1"),
        ({"items": 3}, "exceeds the 2 unit(s) not yet shipped"),
    ],
)
def test_confirm_shipment_refuses_invalid_packages(
    shop: LiveSandbox, change: dict[str, Any], complaint: str
) -> None:
    placed = place(shop, items=[{"sku": "SB-0001", "quantity": 2}])
    item = placed["items"][0]["order_item_id"]
    quantity = change.pop("items", 1)
    response = confirm(shop, placed, "1", [(item, quantity)], **change)
    assert response.status_code == 400
    assert complaint in error_message(response)
    assert shop.admin("GET", f"/orders/{placed['order_id']}")["packages"] == []


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"status": "PENDING"}, "is PENDING"),
        ({"status": "CANCELLED"}, "is CANCELLED"),
        ({"fulfilled_by": "AMAZON"}, "fulfilled by Amazon"),
        ({"fulfilled_by": "AMAZON", "status": "SHIPPED"}, "fulfilled by Amazon"),
    ],
)
def test_confirm_shipment_refuses_orders_not_ready_to_ship(
    shop: LiveSandbox, spec: dict[str, str], complaint: str
) -> None:
    placed = place(shop, **spec)
    response = confirm(shop, placed, "1", [(placed["items"][0]["order_item_id"], 1)])
    assert response.status_code == 400
    assert complaint in error_message(response)


def test_confirm_shipment_refuses_shipped_unknown_and_foreign_orders(shop: LiveSandbox) -> None:
    placed = place(shop)
    item = placed["items"][0]["order_item_id"]
    assert confirm(shop, placed, "1", [(item, 1)]).status_code == 204
    another = confirm(shop, placed, "2", [(item, 1)], trackingNumber="00340434000000000001")
    assert another.status_code == 400
    assert "every unit is confirmed already" in error_message(another)

    other = shop.admin("POST", "/sellers", json={"name": "Other", "marketplaces": ["DE"]})
    theirs = place(shop, seller_id=other["seller_id"])
    unknown = {**placed, "order_id": "028-0000000-0000000"}
    for order in (theirs, unknown):
        response = confirm(shop, order, "1", [(order["items"][0]["order_item_id"], 1)])
        assert response.status_code == 404


# --- lifecycle events and the admin API --------------------------------------------------------


def test_fba_orders_are_paid_and_shipped_by_amazon(shop: LiveSandbox) -> None:
    placed = place(shop, fulfilled_by="AMAZON", status="PENDING", marketplace="UK")
    assert event(shop, placed["order_id"], event="ship_fba").status_code == 400
    assert event(shop, placed["order_id"], event="pay").status_code == 200
    again = event(shop, placed["order_id"], event="pay")
    assert again.status_code == 400
    assert "only a PENDING order" in error_message(again)
    shipped = event(shop, placed["order_id"], event="ship_fba").json()
    assert shipped["status"] == "SHIPPED"
    assert shipped["fba_shipment"]["fulfillment_center"] in {"LTN1", "BHX4", "EDI4", "MAN1"}
    assert shipped["fba_shipment"]["tracking_number"]
    assert shipped["last_updated_time"] > placed["last_updated_time"]
    order = get_order(shop, placed["order_id"])
    assert order["orderItems"][0]["fulfillment"]["quantityFulfilled"] == 1
    assert order["orderItems"][0]["tax"]["taxCollections"][0]["model"] == (
        "MARKETPLACE_FACILITATOR"
    )
    delivered = event(shop, placed["order_id"], event="deliver")
    assert delivered.json()["fba_shipment"]["delivered_at"]
    assert event(shop, placed["order_id"], event="deliver").status_code == 400


def test_a_buyer_asks_to_cancel_and_the_seller_cancels(shop: LiveSandbox) -> None:
    placed = place(shop)
    asked = event(shop, placed["order_id"], event="request_cancel",
                  reason="Found Cheaper Somewhere Else")  # fmt: skip
    assert asked.status_code == 200
    item = get_order(shop, placed["order_id"])["orderItems"][0]
    assert item["cancellation"] == {
        "cancellationRequest": {
            "requester": "BUYER",
            "cancelReason": "Found Cheaper Somewhere Else",
        }
    }
    cancelled = event(shop, placed["order_id"], event="cancel").json()
    assert cancelled["status"] == "CANCELLED"
    assert cancelled["cancelled_by"] == "BUYER"
    order = get_order(shop, placed["order_id"])
    assert order["fulfillment"]["fulfillmentStatus"] == "CANCELLED"
    assert order["orderItems"][0]["cancellation"]["cancellationExecution"] == {
        "cancelledBy": "BUYER", "cancelReason": "Found Cheaper Somewhere Else",
    }  # fmt: skip
    assert "recipient" not in order
    refused = event(shop, placed["order_id"], event="cancel")
    assert refused.status_code == 400
    assert "is CANCELLED" in error_message(refused)


def test_events_refuse_moves_an_order_cannot_make(shop: LiveSandbox) -> None:
    placed = place(shop, items=[{"sku": "SB-0001", "quantity": 2}])
    item = placed["items"][0]["order_item_id"]
    assert event(shop, placed["order_id"], event="ship_fba").status_code == 400
    assert event(shop, placed["order_id"], event="deliver").status_code == 400
    assert confirm(shop, placed, "1", [(item, 1)]).status_code == 204
    assert event(shop, placed["order_id"], event="cancel").status_code == 400
    assert confirm(shop, placed, "2", [(item, 1)], trackingNumber="X2").status_code == 204
    assert event(shop, placed["order_id"], event="request_cancel").status_code == 400
    delivered = event(shop, placed["order_id"], event="deliver")
    assert delivered.status_code == 200
    statuses = {
        p["packageStatus"]["status"] for p in get_order(shop, placed["order_id"])["packages"]
    }
    assert statuses == {"DELIVERED"}
    assert event(shop, placed["order_id"], event="explode").status_code == 400
    assert event(shop, "028-0000000-0000000", event="pay").status_code == 404


def test_admin_lists_orders_with_packages_and_tracking(shop: LiveSandbox) -> None:
    placed = place(shop)
    place(shop, status="PENDING")
    confirm(shop, placed, "1", [(placed["items"][0]["order_item_id"], 1)])
    seller_id = shop.seller.seller_id
    shipped = shop.admin("GET", "/orders", params={"seller_id": seller_id, "status": "SHIPPED"})
    assert [order["order_id"] for order in shipped] == [placed["order_id"]]
    assert shipped[0]["packages"][0]["tracking_number"] == "00340434161094042557"
    assert shipped[0]["packages"][0]["carrier_code"] == "DHL"
    assert len(shop.admin("GET", "/orders", params={"seller_id": seller_id})) == 2
    assert shop.admin("GET", "/orders", params={"seller_id": "nobody"}) == []
    assert shop.http.get("/_sandbox/orders/028-0000000-0000000").status_code == 404


def test_admin_generates_orders_for_a_seller(shop: LiveSandbox) -> None:
    generated = shop.admin("POST", "/orders/generate", json={"count": 25})
    assert generated["generated"] == 25
    orders = shop.admin("GET", "/orders")
    assert {order["order_id"] for order in orders} == set(generated["order_ids"])
    more = shop.admin("POST", "/orders/generate", json={"count": 5})
    assert not set(more["order_ids"]) & set(generated["order_ids"])
    for body in ({"count": 0}, {"count": "many"}, {"count": 5, "colour": "red"}):
        assert shop.http.post("/_sandbox/orders/generate", json=body).status_code == 400
    unknown = shop.http.post("/_sandbox/orders/generate", json={"count": 1, "seller_id": "X"})
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ({"items": [{"sku": "SB-9999"}]}, "no product"),
        ({"items": [{"sku": "SB-0003-FBA"}]}, "SKUs without -FBA"),
        ({"fulfilled_by": "AMAZON", "items": [{"sku": "SB-0003"}]}, "needs -FBA SKUs"),
        ({"vat_id": "DE123456789"}, "not a valid VAT ID"),
        ({"packstation": True, "ship_to_country": "AT"}, "Packstation"),
        ({"status": "SHIPPED"}, "confirmShipment"),
        ({"marketplace": "US"}, "does not sell on"),
        ({"ship_to_country": "CH"}, "delivers to"),
        ({"fulfilled_by": "AMAZON", "ship_from_country": "AT"}, "Pan-EU FBA ships from"),
        ({"flavour": "vanilla"}, "Invalid order description"),
    ],
)
def test_admin_refuses_orders_amazon_would_never_send(
    shop: LiveSandbox, spec: dict[str, Any], complaint: str
) -> None:
    response = shop.http.post("/_sandbox/orders", json=spec)
    assert response.status_code == 400
    assert complaint in error_message(response)


def test_admin_orders_are_priced_like_generated_ones(shop: LiveSandbox) -> None:
    packstation = place(shop, packstation=True, items=[{"sku": "SB-0007"}])
    address = packstation["shipping_address"]
    assert address["address_type"] == "PICKUP_POINT"
    assert address["line1"].startswith("Packstation ")
    assert address["line2"].isdigit()
    grinder = packstation["items"][0]
    assert Decimal(grinder["unit_price"]) == Decimal("49.00")
    assert Decimal(grinder["item_tax"]) == Decimal("7.82")  # 19 % contained in 49.00
    assert packstation["tax_treatment"] == "DOMESTIC"

    austria = place(shop, ship_to_country="AT", items=[{"sku": "SB-0007"}])
    assert Decimal(austria["items"][0]["item_tax"]) == Decimal("8.17")  # 20 % (OSS)
    assert austria["tax_treatment"] == "OSS"
    assert Decimal(austria["items"][0]["shipping_price"]) == Decimal("7.90")
