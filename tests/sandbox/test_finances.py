"""Refunds, the Finances API v0, the VIDR's REFUND rows and credit notes, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sellerbridge.sandbox.order_records import Order
from tests.sandbox.harness import LiveSandbox, assert_conforms
from tests.sandbox.test_reports import iso, item, make_order, ship, ship_by_amazon, vidr, vidr_all
from tests.sandbox.test_vat_invoices import (
    error,
    invoice,
    last_upload,
    shipped_order,
    submit_invoice,
    summary,
    upload,
)

BY_ORDER = "finances.listFinancialEventsByOrderId"
EVENTS = "finances.listFinancialEvents"
TRANSACTION_ID = re.compile(r"amzn1:crow:[A-Za-z0-9+/]{22}")


@pytest.fixture
def fast(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """Reports and usage plans 600 times faster than at Amazon; two minutes pass in 0.2 s."""
    return start_sandbox(time_scale=600)


def refund_response(live: LiveSandbox, order_id: str, **body: Any) -> httpx.Response:
    return live.http.post(f"/_sandbox/orders/{order_id}/refunds", json=body)


def refund(live: LiveSandbox, order_id: str, *items: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = refund_response(live, order_id, items=list(items), **body)
    assert response.status_code == 200, response.text
    made: dict[str, Any] = response.json()
    return made


def refused(live: LiveSandbox, order_id: str, *items: dict[str, Any], **body: Any) -> str:
    """The message of a refund the sandbox refuses with 400."""
    response = refund_response(live, order_id, items=list(items), **body)
    assert response.status_code == 400, response.text
    message: str = response.json()["errors"][0]["message"]
    return message


def split_order(live: LiveSandbox, order_id: str = "302-3333333-3333333") -> Order:
    """3 × 10.70 at 7 % and 2.99 shipping (VAT 0.20), shipped as 1 + 2 units."""
    order = make_order(
        live, order_id, [item("1", unit_price="10.70", quantity=3, rate="7", shipping="2.99")]
    )
    ship(order, f"DA{order_id[-7:]}", {"1": 1})
    ship(order, f"DB{order_id[-7:]}", {"1": 2})
    return order


def amounts(line: dict[str, Any], *names: str) -> tuple[str, ...]:
    return tuple(line[name] for name in names)


# --- refunds -----------------------------------------------------------------------------------


def test_a_refund_gives_back_the_units_share_with_its_vat(live: LiveSandbox) -> None:
    order = split_order(live)
    made = refund(live, order.order_id, {"orderItemId": "1", "quantity": 1}, shipping=True)
    assert TRANSACTION_ID.fullmatch(made["transactionId"])
    assert made["orderId"] == order.order_id
    assert made["postedDate"].endswith("Z")
    (line,) = made["items"]
    assert re.fullmatch(r"[1-9]\d{12}", line["orderAdjustmentItemId"])
    assert (line["quantity"], line["shippingId"], line["sellerSku"]) == (1, "DA3333333", "SB-0007")
    names = ("itemPrice", "itemTax", "shippingPrice", "shippingTax")
    assert amounts(line, *names) == ("10.70", "0.70", "1.00", "0.07")  # a third of 2.10, 2.99, 0.20
    assert (made["total"], made["totalVat"]) == ("11.70", "0.77")
    without_shipping = refund(live, order.order_id, {"orderItemId": "1", "quantity": 1})
    assert amounts(without_shipping["items"][0], *names) == ("10.70", "0.70", "0.00", "0.00")
    assert without_shipping["transactionId"] != made["transactionId"]
    listed = live.admin("GET", "/refunds", params={"order_id": order.order_id})
    assert [entry["transactionId"] for entry in listed] == [
        made["transactionId"],
        without_shipping["transactionId"],
    ]


def test_refunding_every_unit_one_by_one_gives_back_the_items_amounts(live: LiveSandbox) -> None:
    order = make_order(
        live,
        "302-3333333-3333334",
        [item("1", unit_price="10.70", quantity=3, rate="7", shipping="2.99", promotion="1.00")],
    )
    ship(order, "DONEBYONE")
    refunds = [
        refund(live, order.order_id, {"orderItemId": "1", "quantity": 1}, shipping=True)
        for _ in range(3)
    ]
    lines = [made["items"][0] for made in refunds]
    names = (
        "itemPrice", "itemTax", "shippingPrice", "shippingTax", "promotionDiscount",
        "promotionDiscountTax",
    )  # fmt: skip
    [ordered] = order.items
    expected = (
        ordered.item_price, ordered.item_tax, ordered.shipping_price, ordered.shipping_tax,
        ordered.promotion_discount, ordered.promotion_discount_tax,
    )  # fmt: skip
    sums = tuple(sum(Decimal(line[name]) for line in lines) for name in names)
    assert sums == expected
    assert sum(Decimal(made["total"]) for made in refunds) == order.grand_total
    assert sum(Decimal(made["totalVat"]) for made in refunds) == order.total_tax
    assert "3 shipped and 3 refunded already leave 0" in refused(
        live, order.order_id, {"orderItemId": "1", "quantity": 1}
    )


def test_an_amount_refund_takes_its_vat_and_no_more_than_is_left(live: LiveSandbox) -> None:
    order = shipped_order(live)  # item 1: 119.00 at 19 % with a promotion and shipping
    partial = refund(live, order.order_id, {"orderItemId": "1", "amount": "50.00"}, shipping=True)
    (line,) = partial["items"]
    assert line["quantity"] == 0
    assert amounts(line, "itemPrice", "itemTax", "shippingPrice", "promotionDiscount") == (
        "50.00",
        "7.98",
        "0.00",  # no units refunded: no shipping share
        "0.00",  # an amount is the principal alone
    )
    message = refused(live, order.order_id, {"orderItemId": "1", "amount": "69.01"})
    assert "69.01 EUR exceeds the 69.00 EUR" in message
    rest = refund(live, order.order_id, {"orderItemId": "1", "amount": 69})
    assert rest["items"][0]["itemTax"] == "11.02"  # 7.98 + 11.02 = the item's 19.00
    assert "exceeds the 0.00 EUR" in refused(
        live, order.order_id, {"orderItemId": "1", "quantity": 1}
    )


def test_refunds_the_sandbox_refuses(live: LiveSandbox) -> None:
    waiting = make_order(live, "302-4444444-4444441", [item("1")])
    assert "has not been dispatched" in refused(
        live, waiting.order_id, {"orderItemId": "1", "quantity": 1}
    )
    order = make_order(
        live,
        "302-4444444-4444442",
        [item("1", unit_price="10.70", quantity=3, rate="7"), item("2", sku="SB-0001")],
    )
    ship(order, "DPART0001", {"1": 1})
    one = {"orderItemId": "1", "quantity": 1}
    assert "1 shipped and 0 refunded already leave 1" in refused(
        live, order.order_id, {"orderItemId": "1", "quantity": 2}
    )
    assert "Item 2 has not been shipped yet" in refused(
        live, order.order_id, {"orderItemId": "2", "quantity": 1}
    )
    assert "9 is not an item of order" in refused(
        live, order.order_id, {"orderItemId": "9", "quantity": 1}
    )
    assert "quantity) or an amount" in refused(live, order.order_id, {"orderItemId": "1"})
    assert "Items listed twice: 1" in refused(live, order.order_id, one, one)
    assert "more than two decimals" in refused(
        live, order.order_id, {"orderItemId": "1", "amount": "1.005"}
    )
    future = iso(datetime.now(UTC) + timedelta(hours=1))
    assert "lies in the future" in refused(live, order.order_id, one, postedAt=future)
    assert refund_response(live, order.order_id, items=[]).status_code == 400
    assert refund_response(live, order.order_id, items=[one], colour="red").status_code == 400
    broken = live.http.post(f"/_sandbox/orders/{order.order_id}/refunds", content=b"{")
    assert broken.status_code == 400
    unknown = refund_response(live, "302-0000000-0000000", items=[one])
    assert unknown.status_code == 404
    assert live.admin("GET", "/refunds") == []  # nothing refused was kept


# --- listFinancialEventsByOrderId ------------------------------------------------------------


def events_of(live: LiveSandbox, order_id: str, **params: Any) -> httpx.Response:
    response = live.call("GET", f"/finances/v0/orders/{order_id}/financialEvents", params=params)
    assert_conforms(BY_ORDER, response)
    return response


def charges(entry: dict[str, Any], key: str) -> dict[str, float]:
    found = {c["ChargeType"]: c["ChargeAmount"]["CurrencyAmount"] for c in entry[key]}
    assert {c["ChargeAmount"]["CurrencyCode"] for c in entry[key]} == {"EUR"}
    return found


def test_an_orders_shipments_and_refunds_are_its_financial_events(live: LiveSandbox) -> None:
    order = shipped_order(live)  # 119.00 + 4.90 shipping − 11.90 promotion; 3 × 10.70 at 7 %
    made = refund(live, order.order_id, {"orderItemId": "1", "quantity": 1}, shipping=True)
    response = events_of(live, order.order_id)
    assert response.status_code == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
    payload = response.json()["payload"]
    assert "NextToken" not in payload
    [shipment] = payload["FinancialEvents"]["ShipmentEventList"]
    [refunded] = payload["FinancialEvents"]["RefundEventList"]
    assert (shipment["AmazonOrderId"], shipment["MarketplaceName"]) == (order.order_id, "Amazon.de")
    assert shipment["PostedDate"] == iso(order.packages[0].ship_date)
    first, second = shipment["ShipmentItemList"]
    assert (first["OrderItemId"], first["SellerSKU"], first["QuantityShipped"]) == (
        "1",
        "SB-0007",
        1,
    )
    # VAT-inclusive prices, and the VAT they contain, as the Orders API states them
    assert charges(first, "ItemChargeList") == {
        "Principal": 119.0,
        "Tax": 19.0,
        "GiftWrap": 0.0,
        "GiftWrapTax": 0.0,
        "ShippingCharge": 4.9,
        "ShippingTax": 0.78,
    }
    assert first["PromotionList"] == [
        {
            "PromotionType": "PromotionMetaDataDefinitionValue",
            "PromotionId": "PROMO-1",
            "PromotionAmount": {"CurrencyCode": "EUR", "CurrencyAmount": -11.9},
        }
    ]
    assert charges(second, "ItemChargeList")["Principal"] == 32.1  # 3 × 10.70
    assert "PromotionList" not in second
    assert refunded["AmazonOrderId"] == order.order_id
    assert refunded["PostedDate"] == made["postedDate"]
    [adjusted] = refunded["ShipmentItemAdjustmentList"]
    assert adjusted["OrderAdjustmentItemId"] == made["items"][0]["orderAdjustmentItemId"]
    assert (adjusted["OrderItemId"], adjusted["QuantityShipped"]) == ("1", 1)
    given_back = charges(adjusted, "ItemChargeAdjustmentList")
    assert given_back == {
        "Principal": -119.0,
        "Tax": -19.0,
        "ShippingCharge": -4.9,
        "ShippingTax": -0.78,
    }
    promotions = [
        p["PromotionAmount"]["CurrencyAmount"] for p in adjusted["PromotionAdjustmentList"]
    ]
    assert promotions == [11.9]  # the discount the buyer had is not paid back
    gross = sum(v for k, v in given_back.items() if not k.endswith("Tax")) + sum(promotions)
    assert round(gross, 2) == -float(made["total"])  # −112.00: what the buyer got back


def test_an_unknown_or_foreign_order_has_no_events_and_a_bad_id_is_refused(
    live: LiveSandbox,
) -> None:
    order = shipped_order(live)
    unknown = events_of(live, "302-9999999-9999999")
    assert unknown.status_code == 200
    empty: dict[str, list[Any]] = {"ShipmentEventList": [], "RefundEventList": []}
    assert unknown.json()["payload"]["FinancialEvents"] == empty
    other = live.admin("POST", "/sellers", json={"name": "Anderer Händler", "marketplaces": ["DE"]})
    foreign_seller = live.sandbox.state.sellers[other["seller_id"]]
    response = live.call(
        "GET",
        f"/finances/v0/orders/{order.order_id}/financialEvents",
        token=live.token(foreign_seller),
    )
    assert response.json()["payload"]["FinancialEvents"] == empty
    bad = events_of(live, "BAD-ORDER")
    assert bad.status_code == 400
    assert bad.json()["errors"][0] == {"code": "InvalidInput", "message": "Bad order ID provided."}
    for size in ("0", "101", "ten"):
        assert events_of(live, order.order_id, MaxResultsPerPage=size).status_code == 400


def test_an_orders_events_come_in_pages(live: LiveSandbox) -> None:
    order = split_order(live)
    ship_dates = [package.ship_date for package in order.packages]
    first = refund(live, order.order_id, {"orderItemId": "1", "quantity": 1})
    second = refund(live, order.order_id, {"orderItemId": "1", "amount": "5.00"})
    seen: list[tuple[str, str]] = []
    params: dict[str, str] = {"MaxResultsPerPage": "2"}
    pages = 0
    while True:
        payload = events_of(live, order.order_id, **params).json()["payload"]
        events = payload["FinancialEvents"]
        assert len(events["ShipmentEventList"]) + len(events["RefundEventList"]) <= 2
        seen.extend(("shipment", e["PostedDate"]) for e in events["ShipmentEventList"])
        seen.extend(
            ("refund", e["ShipmentItemAdjustmentList"][0]["OrderAdjustmentItemId"])
            for e in events["RefundEventList"]
        )
        pages += 1
        if "NextToken" not in payload:
            break
        params["NextToken"] = payload["NextToken"]
    assert pages == 2
    assert seen == [
        ("shipment", iso(ship_dates[0])),
        ("shipment", iso(ship_dates[1])),
        ("refund", first["items"][0]["orderAdjustmentItemId"]),
        ("refund", second["items"][0]["orderAdjustmentItemId"]),
    ]
    token = events_of(live, order.order_id, MaxResultsPerPage="1").json()["payload"]["NextToken"]
    elsewhere = events_of(live, "302-9999999-9999999", NextToken=token)
    assert elsewhere.status_code == 400
    assert events_of(live, order.order_id, NextToken="not-a-token").status_code == 400


# --- listFinancialEvents -----------------------------------------------------------------------


def financial_events(live: LiveSandbox, **params: Any) -> httpx.Response:
    response = live.call("GET", "/finances/v0/financialEvents", params=params)
    assert_conforms(EVENTS, response)
    return response


def posted(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, order id, posted date) of the events of a page, shipments first."""
    events = payload["FinancialEvents"]
    return [
        (kind, event["AmazonOrderId"], event["PostedDate"])
        for kind, key in (("shipment", "ShipmentEventList"), ("refund", "RefundEventList"))
        for event in events[key]
    ]


def test_posted_after_and_before_are_checked_as_amazon_describes(live: LiveSandbox) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    hour_ago, day_ago = iso(now - timedelta(hours=1)), iso(now - timedelta(days=1))
    cases = {
        "PostedAfter or NextToken must be provided": {},
        "PostedBefore requires PostedAfter": {"PostedBefore": hour_ago},
        "PostedAfter must be more than 2 minutes before": {
            "PostedAfter": iso(now - timedelta(seconds=60))
        },
        "PostedBefore must be more than 2 minutes before": {
            "PostedAfter": day_ago,
            "PostedBefore": iso(now),
        },
        "PostedBefore must be later than PostedAfter": {
            "PostedAfter": hour_ago,
            "PostedBefore": hour_ago,
        },
        "PostedAfter is not an ISO 8601 date-time": {"PostedAfter": "yesterday"},
        "MaxResultsPerPage must be between 1 and 100": {
            "PostedAfter": day_ago,
            "MaxResultsPerPage": "101",
        },
    }
    for message, params in cases.items():
        response = financial_events(live, **params)
        assert response.status_code == 400, params
        assert message in response.json()["errors"][0]["message"]
    assert financial_events(live, PostedAfter=day_ago).status_code == 200


def test_financial_events_are_those_posted_in_the_range_page_by_page(live: LiveSandbox) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
    a = make_order(live, "302-5000000-0000001", [item("1")], created=base - timedelta(days=1))
    b = make_order(live, "302-5000000-0000002", [item("1")], created=base - timedelta(days=1))
    c = make_order(live, "302-5000000-0000003", [item("1")], fulfilled_by="AMAZON", created=base)
    ship(a, "DRANGE001", at=base)
    ship(b, "DRANGE002", at=base + timedelta(days=1))
    ship_by_amazon(c, "DRANGE003")  # 20 hours after it was placed
    assert c.fba_shipment is not None
    refund(
        live,
        a.order_id,
        {"orderItemId": "1", "quantity": 1},
        postedAt=iso(base + timedelta(days=2)),
    )
    ship_d = make_order(live, "302-5000000-0000004", [item("1")], created=base)
    ship(ship_d, "DRANGE004", at=base + timedelta(days=3))
    refund(live, b.order_id, {"orderItemId": "1", "quantity": 1})  # now: too recent by default

    window = {
        "PostedAfter": iso(base + timedelta(days=1)),
        "PostedBefore": iso(base + timedelta(days=3)),
    }
    whole = financial_events(live, **window).json()["payload"]
    assert "NextToken" not in whole
    assert posted(whole) == [  # posted on PostedAfter is in, on PostedBefore out
        ("shipment", b.order_id, iso(base + timedelta(days=1))),
        ("refund", a.order_id, iso(base + timedelta(days=2))),
    ]
    seen: list[tuple[str, str, str]] = []
    params: dict[str, str] = {
        "PostedAfter": iso(base - timedelta(days=1)),
        "MaxResultsPerPage": "2",
    }
    while True:
        page = financial_events(live, **params).json()["payload"]
        seen.extend(posted(page))
        if "NextToken" not in page:
            break
        params["NextToken"] = page["NextToken"]
    assert sorted(seen, key=lambda event: event[2]) == [
        ("shipment", a.order_id, iso(base)),
        ("shipment", c.order_id, iso(c.fba_shipment.shipped_at)),
        ("shipment", b.order_id, iso(base + timedelta(days=1))),
        ("refund", a.order_id, iso(base + timedelta(days=2))),
        ("shipment", ship_d.order_id, iso(base + timedelta(days=3))),
    ]  # the refund posted now is not there: PostedBefore defaults to two minutes ago
    other = {**params, "PostedAfter": iso(base)}
    assert financial_events(live, **other).status_code == 400  # a token goes with its range
    far = {
        "PostedAfter": iso(base - timedelta(days=200)),
        "PostedBefore": iso(base - timedelta(days=10)),
    }
    assert posted(financial_events(live, **far).json()["payload"]) == []  # 190 days: empty
    foreign = live.admin(
        "POST", "/sellers", json={"name": "Anderer Händler", "marketplaces": ["DE"]}
    )
    response = live.call(
        "GET",
        "/finances/v0/financialEvents",
        params={"PostedAfter": iso(base - timedelta(days=1))},
        token=live.token(live.sandbox.state.sellers[foreign["seller_id"]]),
    )
    assert posted(response.json()["payload"]) == []  # only the seller's own orders


def test_the_finances_operations_are_throttled_and_take_faults(live: LiveSandbox) -> None:
    order = shipped_order(live)
    for _ in range(30):  # Amazon's burst
        assert live.call("GET", f"/finances/v0/orders/{order.order_id}/financialEvents").is_success
    throttled = events_of(live, order.order_id)
    assert throttled.status_code == 429
    live.admin("PUT", "/faults", json=[{"operation": EVENTS, "kind": "error503"}])
    unavailable = financial_events(live, PostedAfter=iso(datetime.now(UTC) - timedelta(days=1)))
    assert unavailable.status_code == 503


# --- the VIDR and credit notes -------------------------------------------------------------------


def credit_note(made: dict[str, Any], number: str, **extra: str) -> dict[str, str]:
    return {
        "metadata:OrderId": made["orderId"],
        "metadata:InvoiceNumber": number,
        "metadata:DocumentType": "CreditNote",
        "metadata:TransactionId": made["transactionId"],
        "metadata:TotalAmount": f"-{made['total']}",
        "metadata:TotalVATAmount": f"-{made['totalVat']}",
        **extra,
    }


def test_the_vidr_lists_each_refunded_item_until_its_credit_note_is_accepted(
    fast: LiveSandbox,
) -> None:
    order = shipped_order(fast, "302-7777777-7777771")
    untouched = shipped_order(fast, "302-7777777-7777772")  # keeps the pending view non-empty
    assert summary(upload(fast, invoice(order))[1]) == (1, 1, 0)
    made = refund(
        fast,
        order.order_id,
        {"orderItemId": "1", "quantity": 1},
        {"orderItemId": "2", "quantity": 2},
        shipping=True,
    )
    pending = vidr(fast, reportOptions={"ReportOption=pendingInvoices": "true"})
    rows = [row for row in pending if row["transaction-type"] == "REFUND"]
    assert [row["order-item-id"] for row in rows] == ["1", "2"]
    first = rows[0]
    assert first["transaction-id"] == made["transactionId"]
    assert first["shipping-id"] == order.packages[0].shipment_id
    assert first["quantity-purchased"] == "1"
    assert (first["invoice-status"], first["invoice-status-description"]) == (
        "CreditNotePending",
        "Refund has been issued.",
    )
    assert (first["invoice-number"], first["is-invoice-corrected"]) == ("", "false")
    assert first["original-vat-invoice-number"] == "RE-7777771"
    money = (
        "item-vat-incl-amount", "item-vat-amount", "item-vat-excl-amount",
        "item-promo-vat-incl-amount", "shipping-vat-incl-amount", "shipping-vat-amount",
    )  # fmt: skip
    assert amounts(first, *money) == ("-119.00", "-19.00", "-100.00", "11.90", "-4.90", "-0.78")
    assert amounts(rows[1], "quantity-purchased", "item-vat-incl-amount") == ("2", "-21.40")
    assert {row["order-id"] for row in pending if row["transaction-type"] == "SHIPMENT"} == {
        untouched.order_id  # the invoiced shipment is no longer pending
    }

    _, wrong = upload(fast, credit_note(made, "GS-1", **{"metadata:TotalAmount": "-1.00"}))
    assert error(wrong)[1].startswith("InvoiceAmountMismatch")
    described = {row["transaction-id"]: row for row in vidr_all(fast)}[made["transactionId"]]
    assert described["invoice-status-description"].startswith(
        "Credit note upload rejected: TotalAmount -1.00 EUR"
    )
    report = submit_invoice(fast, credit_note(made, "GS-2"))  # through the Feeds API
    assert summary(report) == (1, 1, 0)
    after = [row for row in vidr_all(fast) if row["transaction-type"] == "REFUND"]
    assert {(row["invoice-status"], row["invoice-number"]) for row in after} == {
        ("CreditNoteUploaded", "GS-2")
    }
    assert len(after) == 2
    still_pending = vidr(fast, reportOptions={"ReportOption=pendingInvoices": "true"})
    assert all(row["transaction-type"] == "SHIPMENT" for row in still_pending)


def test_a_credit_note_must_name_a_refund_of_its_order_or_shipment(live: LiveSandbox) -> None:
    order = split_order(live)
    other = shipped_order(live)
    for shipment in ("DA3333333", "DB3333333"):
        upload(live, {"ShippingId": shipment, "InvoiceNumber": f"RE-{shipment}"})
    upload(live, invoice(other))
    made = refund(live, order.order_id, {"orderItemId": "1", "quantity": 1})  # from DA3333333
    elsewhere = refund(live, other.order_id, {"orderItemId": "2", "quantity": 1})
    _, unknown = upload(
        live, credit_note(made, "GS-1", **{"metadata:TransactionId": "amzn1:crow:x"})
    )
    assert error(unknown) == (
        None,
        f"InvalidTransactionId: The transaction id amzn1:crow:x is not a refund of order "
        f"{order.order_id}.",
    )
    _, foreign = upload(
        live, credit_note(made, "GS-2", **{"metadata:TransactionId": elsewhere["transactionId"]})
    )
    assert error(foreign)[1].startswith("InvalidTransactionId")
    by_shipment = {"metadata:ShippingId": "DB3333333"}
    _, wrong_shipment = upload(live, credit_note(made, "GS-3", **by_shipment))
    assert "is not a refund of shipment DB3333333" in error(wrong_shipment)[1]
    _, right_shipment = upload(
        live, credit_note(made, "GS-4", **{"metadata:ShippingId": "DA3333333"})
    )
    assert summary(right_shipment) == (1, 1, 0)
    recorded = last_upload(live)
    assert (recorded.document_type, recorded.transaction_id) == (
        "CreditNote",
        made["transactionId"],
    )
    assert (str(recorded.amazon_total), str(recorded.amazon_vat)) == (
        made["total"],
        made["totalVat"],
    )


def test_a_credit_note_waits_for_the_shipments_invoice(live: LiveSandbox) -> None:
    order = shipped_order(live)
    made = refund(live, order.order_id, {"orderItemId": "2", "quantity": 1})
    _, early = upload(live, credit_note(made, "GS-1"))
    assert error(early) == (
        None,
        f"InvoiceNotUploaded: Shipment {order.packages[0].shipment_id} of refund "
        f"{made['transactionId']} has no accepted invoice: upload the invoice first.",
    )
    upload(live, invoice(order))
    _, later = upload(live, credit_note(made, "GS-2"))
    assert summary(later) == (1, 1, 0)


def test_a_credit_notes_amounts_are_its_refunds_in_either_sign(live: LiveSandbox) -> None:
    order = shipped_order(live)
    upload(live, invoice(order))
    negative = refund(live, order.order_id, {"orderItemId": "2", "quantity": 1})
    positive = refund(live, order.order_id, {"orderItemId": "2", "quantity": 1})
    assert (negative["total"], negative["totalVat"]) == ("10.70", "0.70")
    _, off = upload(live, credit_note(negative, "GS-1", **{"metadata:TotalVATAmount": "-0.71"}))
    assert error(off) == (
        None,
        "InvoiceAmountMismatch: TotalVATAmount -0.71 EUR does not match Amazon's 0.70 EUR for "
        f"refund {negative['transactionId']}.",
    )
    _, minus = upload(live, credit_note(negative, "GS-2"))
    assert summary(minus) == (1, 1, 0)
    plus = {"metadata:TotalAmount": "10.70", "metadata:TotalVATAmount": "0.70"}
    _, accepted = upload(live, credit_note(positive, "GS-3", **plus))
    assert summary(accepted) == (1, 1, 0)


def test_a_refund_takes_one_accepted_credit_note(live: LiveSandbox) -> None:
    order = shipped_order(live)
    upload(live, invoice(order))
    made = refund(live, order.order_id, {"orderItemId": "1", "amount": "20.00"})
    assert summary(upload(live, credit_note(made, "GS-1"))[1]) == (1, 1, 0)
    _, again = upload(live, credit_note(made, "GS-2"))
    assert error(again) == (
        None,
        f"DuplicateCreditNote: A credit note (GS-1) was already accepted for refund "
        f"{made['transactionId']}.",
    )
    # the shipment's invoice is untouched by its credit notes
    _, invoice_again = upload(live, invoice(order, **{"metadata:InvoiceNumber": "RE-2"}))
    assert error(invoice_again)[1].startswith("DuplicateInvoice")
