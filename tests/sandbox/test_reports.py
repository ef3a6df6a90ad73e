"""Reports API: asynchronous reports, their documents and the four report types, over HTTP."""

from __future__ import annotations

import gzip
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from sellerbridge.sandbox import spec
from sellerbridge.sandbox.listings import Listing
from sellerbridge.sandbox.order_records import (
    Address,
    FbaShipment,
    FulfillmentStatus,
    Order,
    OrderItem,
    Package,
    PackageItem,
    TaxTreatment,
)
from sellerbridge.sandbox.reports import ALL_ORDERS_COLUMNS, VIDR_COLUMNS
from tests.sandbox.harness import LiveSandbox, assert_conforms

DE, FR, IT, US = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "APJ6JRA9NG5V4", "ATVPDKIKX0DER"
REPORTS = "/reports/2021-06-30"
VIDR = "GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT"
PERFORMANCE = "GET_V2_SELLER_PERFORMANCE_REPORT"
ALL_ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
ALL_LISTINGS = "GET_MERCHANT_LISTINGS_ALL_DATA"
TERMINAL = ("DONE", "CANCELLED", "FATAL")
CENT = Decimal("0.01")


# --- orders as the generator would make them, with amounts consistent to the cent ------------


def vat_in(gross: str | Decimal, rate: str | Decimal) -> Decimal:
    """The VAT contained in a VAT-inclusive amount at ``rate`` percent."""
    gross, rate = Decimal(gross), Decimal(rate)
    return (gross * rate / (100 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def item(
    order_item_id: str,
    *,
    unit_price: str = "119.00",
    quantity: int = 1,
    rate: str = "19",
    shipping: str = "0",
    gift_wrap: str = "0",
    promotion: str = "0",
    shipping_discount: str = "0",
    sku: str = "SB-0007",
    title: str = "Handmühle Edelstahl",
) -> OrderItem:
    price = Decimal(unit_price) * quantity
    return OrderItem(
        order_item_id=order_item_id,
        asin="B0SANDBOX1",
        seller_sku=sku,
        title=title,
        quantity=quantity,
        vat_rate=Decimal(rate),
        unit_price=Decimal(unit_price),
        item_tax=vat_in(price, rate),
        shipping_price=Decimal(shipping),
        shipping_tax=vat_in(shipping, rate),
        gift_wrap_price=Decimal(gift_wrap),
        gift_wrap_tax=vat_in(gift_wrap, rate),
        promotion_discount=Decimal(promotion),
        promotion_discount_tax=vat_in(promotion, rate),
        shipping_discount=Decimal(shipping_discount),
        shipping_discount_tax=vat_in(shipping_discount, rate),
        promotion_ids=["PROMO-1"] if Decimal(promotion) or Decimal(shipping_discount) else [],
    )


def make_order(
    live: LiveSandbox,
    order_id: str,
    items: list[OrderItem],
    *,
    created: datetime | None = None,
    marketplace: str = DE,
    fulfilled_by: str = "MERCHANT",
    seller_id: str | None = None,
    vat_number: str | None = None,
    ship_to: str = "DE",
    ship_from: str = "DE",
    tax_treatment: TaxTreatment = TaxTreatment.DOMESTIC,
) -> Order:
    """An unshipped order, stored in the running sandbox."""
    created = created or datetime.now(UTC) - timedelta(days=2)
    order = Order(
        order_id=order_id,
        seller_id=seller_id or live.seller.seller_id,
        marketplace_id=marketplace,
        currency="EUR",
        created_time=created,
        last_updated_time=created,
        status=FulfillmentStatus.UNSHIPPED,
        fulfilled_by="AMAZON" if fulfilled_by == "AMAZON" else "MERCHANT",
        programs=["AMAZON_BUSINESS"] if vat_number else [],
        buyer_name="Zoë Müller",
        buyer_email="zoe@marketplace.amazon.de",
        buyer_company_name="Müller Kaffee GmbH" if vat_number else None,
        purchase_order_number="PO-4711" if vat_number else None,
        buyer_vat_number=vat_number,
        ship_from_country=ship_from,
        shipping_address=Address(
            name="Zoë Müller",
            line1="Packstation 123",
            line2="Postnummer 9876543",
            city="Köln",
            postal_code="50667",
            country_code=ship_to,
            phone="+49 221 123456",
        ),
        ship_by_earliest=created,
        ship_by_latest=created + timedelta(days=2),
        deliver_by_earliest=created + timedelta(days=3),
        deliver_by_latest=created + timedelta(days=5),
        items=items,
        tax_treatment=tax_treatment,
    )
    live.sandbox.state.orders.orders[order_id] = order
    return order


def ship(
    order: Order,
    shipment_id: str,
    parts: dict[str, int] | None = None,
    at: datetime | None = None,
) -> Package:
    """Confirm a package of ``parts`` (order item id → units; default everything unshipped)."""
    at = at or order.created_time + timedelta(days=1)
    wanted = parts or {i.order_item_id: i.quantity_unshipped for i in order.items}
    package = Package(
        package_reference_id=str(len(order.packages) + 1),
        shipment_id=shipment_id,
        carrier_code="DHL",
        tracking_number="00340434161234567890",
        ship_date=at,
        created_at=at,
        items=[PackageItem(order_item_id=k, quantity=v) for k, v in wanted.items()],
    )
    order.add_package(package)
    return package


def ship_by_amazon(order: Order, shipment_id: str) -> None:
    order.ship_by_amazon(
        FbaShipment(
            shipment_id=shipment_id,
            shipped_at=order.created_time + timedelta(hours=20),
            fulfillment_center="WRO2",
            carrier="DHL",
            tracking_number="JJD000390007712345678",
        )
    )


# --- the Reports API over HTTP ------------------------------------------------------------------


@pytest.fixture
def fast(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """Reports are processed (and usage plans refill) 600 times faster than at Amazon."""
    return start_sandbox(time_scale=600)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_report(live: LiveSandbox, report_type: str, **body: Any) -> httpx.Response:
    body.setdefault("marketplaceIds", [DE])
    response = live.call("POST", f"{REPORTS}/reports", json={"reportType": report_type, **body})
    assert_conforms("reports.createReport", response)
    return response


def request_report(live: LiveSandbox, report_type: str, **body: Any) -> str:
    response = create_report(live, report_type, **body)
    assert response.status_code == 202, response.text
    report_id: str = response.json()["reportId"]
    return report_id


def get_report(live: LiveSandbox, report_id: str) -> dict[str, Any]:
    response = live.call("GET", f"{REPORTS}/reports/{report_id}")
    assert response.status_code == 200, response.text
    assert_conforms("reports.getReport", response)
    report: dict[str, Any] = response.json()
    return report


def wait(live: LiveSandbox, report_id: str, timeout: float = 10) -> dict[str, Any]:
    """Poll getReport until the report is finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = get_report(live, report_id)
        if report["processingStatus"] in TERMINAL:
            return report
        time.sleep(0.03)
    raise AssertionError(f"report {report_id} did not finish")


def document_info(live: LiveSandbox, document_id: str, token: str | None = None) -> dict[str, Any]:
    response = live.call("GET", f"{REPORTS}/documents/{document_id}", token=token)
    assert response.status_code == 200, response.text
    assert_conforms("reports.getReportDocument", response)
    info: dict[str, Any] = response.json()
    return info


def download(live: LiveSandbox, report: dict[str, Any]) -> bytes:
    """getReportDocument (with an RDT for the restricted VIDR), fetch the URL, gunzip if told."""
    document_id = report["reportDocumentId"]
    token = None
    if report["reportType"] == VIDR:
        token = live.rdt("GET", f"{REPORTS}/documents/{document_id}")
    info = document_info(live, document_id, token)
    fetched = httpx.get(info["url"])
    assert fetched.status_code == 200
    if info.get("compressionAlgorithm") == "GZIP":
        return gzip.decompress(fetched.content)
    return fetched.content


def rows(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """A tab-separated flat file: its header and its rows by column name."""
    lines = content.decode("utf-8").splitlines()
    header = lines[0].split("\t")
    return header, [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def run_report(live: LiveSandbox, report_type: str, **body: Any) -> tuple[dict[str, Any], bytes]:
    report = wait(live, request_report(live, report_type, **body))
    assert report["processingStatus"] == "DONE", report
    return report, download(live, report)


def vidr(live: LiveSandbox, **body: Any) -> list[dict[str, str]]:
    _, content = run_report(live, VIDR, **body)
    header, found = rows(content)
    assert header == list(VIDR_COLUMNS)
    return found


def vidr_all(live: LiveSandbox, days: int = 10) -> list[dict[str, str]]:
    now = datetime.now(UTC)
    return vidr(
        live,
        reportOptions={"ReportOption=all": "true"},
        dataStartTime=iso(now - timedelta(days=days)),
        dataEndTime=iso(now),
    )


# --- the lifecycle ---------------------------------------------------------------------------


def test_a_report_is_queued_processed_and_offered_for_download(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    fast = start_sandbox(time_scale=60)  # one second of processing, a quarter of it queued
    order = make_order(fast, "302-1000001-1000001", [item("11")])
    ship(order, "DAAAA0001")
    created = create_report(fast, ALL_ORDERS, dataStartTime=iso(order.created_time))
    assert created.status_code == 202
    report_id = created.json()["reportId"]
    first = get_report(fast, report_id)
    assert first["reportType"] == ALL_ORDERS
    assert first["marketplaceIds"] == [DE]
    assert first["dataStartTime"] == iso(order.created_time)
    assert first["processingStatus"] in ("IN_QUEUE", "IN_PROGRESS")
    assert "reportDocumentId" not in first
    done = wait(fast, report_id)
    assert done["processingStatus"] == "DONE"
    assert done["processingStartTime"] <= done["processingEndTime"]
    info = document_info(fast, done["reportDocumentId"])
    assert "compressionAlgorithm" not in info  # a small report comes uncompressed
    header, found = rows(httpx.get(info["url"]).content)
    assert header == list(ALL_ORDERS_COLUMNS)
    assert [row["amazon-order-id"] for row in found] == ["302-1000001-1000001"]


def test_processing_takes_the_configured_time_at_amazons_pace(live: LiveSandbox) -> None:
    report_id = request_report(live, PERFORMANCE)
    time.sleep(0.3)
    report = get_report(live, report_id)
    assert report["processingStatus"] == "IN_QUEUE"  # 15 of the 60 seconds are spent queued
    assert "processingStartTime" not in report


def test_create_report_refuses_what_amazon_refuses(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(time_scale=600)
    now = datetime.now(UTC)
    unsupported = create_report(live, "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA")
    assert unsupported.status_code == 400
    assert "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA" in unsupported.json()["errors"][0]["message"]
    foreign = create_report(live, PERFORMANCE, marketplaceIds=[US])
    assert foreign.status_code == 400
    future = create_report(live, ALL_ORDERS, dataStartTime=iso(now + timedelta(hours=1)))
    assert future.status_code == 400
    backwards = create_report(
        live,
        ALL_ORDERS,
        dataStartTime=iso(now - timedelta(days=1)),
        dataEndTime=iso(now - timedelta(days=2)),
    )
    assert backwards.status_code == 400
    missing = live.call("POST", f"{REPORTS}/reports", json={"marketplaceIds": [DE]})
    assert missing.status_code == 400
    assert_conforms("reports.createReport", missing)
    too_long = create_report(
        live,
        VIDR,
        reportOptions={"ReportOption=all": "true"},
        dataStartTime=iso(now - timedelta(days=31)),
        dataEndTime=iso(now),
    )
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["message"] == (
        "The maximum date range for ReportOptions All is 30 days. "
        "Try again with a shorter date range."
    )
    bad_option = create_report(live, VIDR, reportOptions={"ReportOption=everything": "true"})
    assert bad_option.status_code == 400
    american = live.admin(
        "POST", "/sellers", json={"name": "US Shop", "marketplaces": ["DE", "US"]}
    )
    us_token = live.lwa(
        grant_type="refresh_token",
        refresh_token=american["refresh_token"],
        client_id=american["client_id"],
        client_secret=american["client_secret"],
    ).json()["access_token"]
    outside_europe = live.call(
        "POST",
        f"{REPORTS}/reports",
        token=us_token,
        json={"reportType": VIDR, "marketplaceIds": [US]},
    )
    assert outside_europe.status_code == 400
    assert outside_europe.json()["errors"][0]["message"] == "Provided MarketplaceIdList is invalid."
    assert_conforms("reports.createReport", outside_europe)


def test_unknown_and_foreign_reports_are_not_found(fast: LiveSandbox) -> None:
    missing = fast.call("GET", f"{REPORTS}/reports/123")
    assert missing.status_code == 404
    assert_conforms("reports.getReport", missing)
    other = fast.admin("POST", "/sellers", json={"name": "Zweiter Händler", "marketplaces": ["DE"]})
    other_token = fast.lwa(
        grant_type="refresh_token",
        refresh_token=other["refresh_token"],
        client_id=other["client_id"],
        client_secret=other["client_secret"],
    ).json()["access_token"]
    report_id = request_report(fast, PERFORMANCE)
    foreign = fast.call("GET", f"{REPORTS}/reports/{report_id}", token=other_token)
    assert foreign.status_code == 404
    assert (
        fast.call("DELETE", f"{REPORTS}/reports/{report_id}", token=other_token).status_code == 404
    )
    document = fast.call("GET", f"{REPORTS}/documents/amzn1.tortuga.4.eu.nothing")
    assert document.status_code == 404
    assert_conforms("reports.getReportDocument", document)


def test_only_queued_reports_can_be_cancelled(start_sandbox: Callable[..., LiveSandbox]) -> None:
    slow = start_sandbox()
    report_id = request_report(slow, PERFORMANCE)
    cancelled = slow.call("DELETE", f"{REPORTS}/reports/{report_id}")
    assert cancelled.status_code == 200
    assert cancelled.content == b""
    assert_conforms("reports.cancelReport", cancelled)
    report = get_report(slow, report_id)
    assert report["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in report
    again = slow.call("DELETE", f"{REPORTS}/reports/{report_id}")
    assert again.status_code == 400
    assert_conforms("reports.cancelReport", again)
    unknown = slow.call("DELETE", f"{REPORTS}/reports/999")
    assert unknown.status_code == 404
    assert_conforms("reports.cancelReport", unknown)

    fast = start_sandbox(time_scale=600)
    done = wait(fast, request_report(fast, PERFORMANCE))
    too_late = fast.call("DELETE", f"{REPORTS}/reports/{done['reportId']}")
    assert too_late.status_code == 400
    assert get_report(fast, done["reportId"])["processingStatus"] == "DONE"


def get_reports(live: LiveSandbox, **params: str) -> httpx.Response:
    response = live.call("GET", f"{REPORTS}/reports", params=params)
    assert_conforms("reports.getReports", response)
    return response


def test_get_reports_filters_and_pages_newest_first(fast: LiveSandbox) -> None:
    ids = [request_report(fast, PERFORMANCE) for _ in range(5)]
    ids.append(request_report(fast, ALL_ORDERS))  # no dataStartTime: cancelled, no data
    for report_id in ids:
        wait(fast, report_id)
    first = get_reports(fast, reportTypes=PERFORMANCE, pageSize="2")
    assert first.status_code == 200
    seen = [report["reportId"] for report in first.json()["reports"]]
    token = first.json()["nextToken"]
    while token:
        page = get_reports(fast, nextToken=token)
        assert page.status_code == 200
        seen.extend(report["reportId"] for report in page.json()["reports"])
        token = page.json().get("nextToken")
    assert seen == list(reversed(ids[:5]))

    both = get_reports(fast, reportTypes=f"{PERFORMANCE},{ALL_ORDERS}", pageSize="100").json()
    assert len(both["reports"]) == 6
    assert "nextToken" not in both
    cancelled = get_reports(fast, reportTypes=ALL_ORDERS, processingStatuses="CANCELLED").json()
    assert [r["reportId"] for r in cancelled["reports"]] == [ids[5]]
    assert get_reports(fast, reportTypes=PERFORMANCE, marketplaceIds=FR).json()["reports"] == []
    earlier = iso(datetime.now(UTC) - timedelta(hours=1))
    assert get_reports(fast, reportTypes=PERFORMANCE, createdUntil=earlier).json()["reports"] == []
    default_ten = get_reports(fast, reportTypes=PERFORMANCE).json()
    assert len(default_ten["reports"]) == 5


def test_get_reports_refuses_bad_parameters(fast: LiveSandbox) -> None:
    assert get_reports(fast).status_code == 400  # reportTypes or nextToken is required
    assert get_reports(fast, reportTypes=PERFORMANCE, pageSize="0").status_code == 400
    assert get_reports(fast, reportTypes=PERFORMANCE, pageSize="101").status_code == 400
    assert get_reports(fast, reportTypes=PERFORMANCE, processingStatuses="READY").status_code == 400
    assert get_reports(fast, reportTypes=PERFORMANCE, createdSince="yesterday").status_code == 400
    later = iso(datetime.now(UTC) + timedelta(hours=1))
    assert get_reports(fast, reportTypes=PERFORMANCE, createdSince=later).status_code == 400
    assert get_reports(fast, nextToken="not-a-token").status_code == 400
    for _ in range(3):
        request_report(fast, PERFORMANCE)
    token = get_reports(fast, reportTypes=PERFORMANCE, pageSize="1").json()["nextToken"]
    mixed = get_reports(fast, nextToken=token, reportTypes=PERFORMANCE)
    assert mixed.status_code == 400
    assert mixed.json()["errors"][0]["message"] == "nextToken must be the only parameter."


def test_the_vat_report_document_needs_a_restricted_data_token(fast: LiveSandbox) -> None:
    order = make_order(fast, "302-2000001-2000001", [item("21")])
    ship(order, "DAAAA0002")
    report = wait(fast, request_report(fast, VIDR))
    document_id = report["reportDocumentId"]
    path = f"{REPORTS}/documents/{document_id}"
    plain = fast.call("GET", path)
    assert plain.status_code == 403
    assert_conforms("reports.getReportDocument", plain)
    elsewhere = fast.rdt("GET", f"{REPORTS}/documents/amzn1.tortuga.4.eu.other")
    wrong = fast.call("GET", path, token=elsewhere)
    assert wrong.status_code == 403
    assert document_info(fast, document_id, fast.rdt("GET", path))["url"]
    bad_flag = fast.call(
        "GET",
        path,
        token=fast.rdt("GET", path),
        params={"enableContentEncodingUrlHeader": "yes"},
    )
    assert bad_flag.status_code == 400
    assert_conforms("reports.getReportDocument", bad_flag)

    performance = wait(fast, request_report(fast, PERFORMANCE))
    assert document_info(fast, performance["reportDocumentId"])["url"]  # not restricted


def test_without_rdt_enforcement_a_normal_token_reads_the_vat_report(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(time_scale=600, require_rdt=False)
    order = make_order(live, "302-2100001-2100001", [item("21")])
    ship(order, "DAAAA0021")
    report = wait(live, request_report(live, VIDR))
    assert document_info(live, report["reportDocumentId"])["url"]


# --- the VAT invoice data report -------------------------------------------------------------


def test_the_vidr_has_a_row_per_shipped_item_with_amazons_amounts(fast: LiveSandbox) -> None:
    order = make_order(
        fast,
        "302-3000001-3000001",
        [
            item("31", unit_price="119.00", shipping="4.90", gift_wrap="3.00", promotion="11.90"),
            item("32", unit_price="10.70", quantity=3, rate="7", sku="SB-0001", title="Kaffee"),
        ],
    )
    ship(order, "DAAAA0031", {"31": 1, "32": 1})
    ship(order, "DAAAA0032", {"32": 2})
    unshipped = make_order(fast, "302-3000002-3000002", [item("33")])
    found = vidr(fast)
    assert [(r["order-id"], r["order-item-id"], r["shipping-id"]) for r in found] == [
        ("302-3000001-3000001", "31", "DAAAA0031"),
        ("302-3000001-3000001", "32", "DAAAA0031"),
        ("302-3000001-3000001", "32", "DAAAA0032"),
    ]
    assert unshipped.order_id not in {row["order-id"] for row in found}
    grinder, coffee_1, coffee_2 = found
    assert grinder["transaction-type"] == "SHIPMENT"
    assert grinder["transaction-id"] == "DAAAA0031"
    assert grinder["invoice-status"] == "InvoicePending"
    assert grinder["invoice-status-description"] == "Shipment has been dispatched."
    assert grinder["item-vat-incl-amount"] == "119.00"
    assert grinder["item-vat-amount"] == "19.00"
    assert grinder["item-vat-excl-amount"] == "100.00"
    assert grinder["item-vat-rate"] == "0.19"
    assert grinder["item-promo-vat-incl-amount"] == "-11.90"
    assert grinder["item-promo-vat-amount"] == "-1.90"
    assert grinder["item-promotion-id"] == "PROMO-1"
    assert grinder["shipping-vat-incl-amount"] == "4.90"
    assert grinder["gift-wrap-vat-incl-amount"] == "3.00"
    assert grinder["fulfilled-by"] == "MFN"
    assert grinder["ship-city"] == "Köln"
    assert grinder["seller-vat-number"].startswith("DE")
    assert coffee_1["item-vat-rate"] == "0.07"
    assert coffee_1["quantity-purchased"] == "1"
    assert coffee_2["quantity-purchased"] == "2"
    # the parts of an item shipped in two packages add up to the item to the cent
    assert Decimal(coffee_1["item-vat-amount"]) + Decimal(coffee_2["item-vat-amount"]) == (
        order.items[1].item_tax
    )
    incl = [c for c in VIDR_COLUMNS if c.endswith("-vat-incl-amount")]
    total = sum(Decimal(row[column]) for row in found for column in incl)
    assert total == order.grand_total
    for row in found:
        for prefix in ("item", "shipping", "gift-wrap", "item-promo", "shipping-promo"):
            assert Decimal(row[f"{prefix}-vat-incl-amount"]) == Decimal(
                row[f"{prefix}-vat-excl-amount"]
            ) + Decimal(row[f"{prefix}-vat-amount"])


def test_the_vidr_writes_the_exemption_of_an_intra_eu_business_sale(fast: LiveSandbox) -> None:
    b2b = make_order(
        fast,
        "302-4000001-4000001",
        [item("41", unit_price="100.00", rate="0")],
        vat_number="FR40303265045",
        ship_to="FR",
        ship_from="PL",
        fulfilled_by="AMAZON",
        tax_treatment=TaxTreatment.INTRA_COMMUNITY,
    )
    ship_by_amazon(b2b, "DFBA00041")
    consumer = make_order(fast, "302-4000002-4000002", [item("42")])
    ship(consumer, "DAAAA0042")
    by_order = {row["order-id"]: row for row in vidr(fast)}
    sale = by_order[b2b.order_id]
    assert sale["shipping-id"] == "DFBA00041"
    assert sale["fulfilled-by"] == "AFN"
    assert sale["is-business-order"] == "true"
    assert sale["buyer-vat-number"] == "FR40303265045"
    assert sale["buyer-company-name"] == "Müller Kaffee GmbH"
    assert sale["purchase-order-number"] == "PO-4711"
    assert sale["item-vat-rate"] == "0"
    assert sale["item-vat-amount"] == "0.00"
    assert sale["ship-from-country"] == "PL"
    assert sale["ship-country"] == "FR"
    assert sale["seller-vat-number"].startswith("PL")
    assert "2006/112" in sale["citation-en"]
    assert all(sale[f"citation-{lang}"] for lang in ("es", "it", "fr", "de", "en"))
    assert by_order[consumer.order_id]["citation-en"] == ""
    assert by_order[consumer.order_id]["is-business-order"] == "false"


def test_an_empty_vidr_is_cancelled_and_old_orders_are_not_pending(fast: LiveSandbox) -> None:
    old = make_order(
        fast, "302-5000001-5000001", [item("51")], created=datetime.now(UTC) - timedelta(days=95)
    )
    ship(old, "DAAAA0051")
    report = wait(
        fast, request_report(fast, VIDR, reportOptions={"ReportOption=pendingInvoices": "true"})
    )
    assert report["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in report
    elsewhere = make_order(fast, "302-5000002-5000002", [item("52")], marketplace=IT)
    ship(elsewhere, "DAAAA0052")
    assert wait(fast, request_report(fast, VIDR))["processingStatus"] == "CANCELLED"
    assert [row["order-id"] for row in vidr(fast, marketplaceIds=[IT])] == [elsewhere.order_id]


def test_a_big_report_comes_gzip_compressed(fast: LiveSandbox) -> None:
    start = datetime.now(UTC) - timedelta(days=3)
    for number in range(300):  # documents over 100 kB are compressed
        order = make_order(fast, f"302-6000000-{number:07d}", [item(f"6{number}")], created=start)
        ship(order, f"DBIG{number:05d}")
    report = wait(fast, request_report(fast, VIDR))
    token = fast.rdt("GET", f"{REPORTS}/documents/{report['reportDocumentId']}")
    info = document_info(fast, report["reportDocumentId"], token)
    assert info["compressionAlgorithm"] == "GZIP"
    raw = httpx.get(info["url"]).content
    assert raw[:2] == b"\x1f\x8b"
    _, found = rows(gzip.decompress(raw))
    assert len(found) == 300


# --- the all-orders report -------------------------------------------------------------------


def test_the_all_orders_report_lists_items_updated_in_the_range_without_pii(
    fast: LiveSandbox,
) -> None:
    now = datetime.now(UTC)
    recent = make_order(
        fast,
        "302-7000001-7000001",
        [item("71", promotion="11.90"), item("72", sku="SB-0001", title="Kaffee", rate="7")],
        created=now - timedelta(days=3),
        vat_number="ATU12345675",
    )
    ship(recent, "DAAAA0071", {"71": 1})
    older = make_order(fast, "302-7000002-7000002", [item("73")], created=now - timedelta(days=20))
    _, content = run_report(
        fast, ALL_ORDERS, dataStartTime=iso(now - timedelta(days=7)), dataEndTime=iso(now)
    )
    header, found = rows(content)
    assert header == list(ALL_ORDERS_COLUMNS)
    assert [(r["amazon-order-id"], r["sku"]) for r in found] == [
        (recent.order_id, "SB-0007"),
        (recent.order_id, "SB-0001"),
    ]
    assert older.order_id not in content.decode()
    shipped, waiting = found
    assert shipped["order-status"] == "PartiallyShipped"
    assert shipped["item-status"] == "Shipped"
    assert waiting["item-status"] == "Unshipped"
    assert shipped["fulfillment-channel"] == "Merchant"
    assert shipped["sales-channel"] == "Amazon.de"
    assert shipped["item-price"] == "119.00"
    assert shipped["item-tax"] == "19.00"
    assert shipped["item-promotion-discount"] == "-11.90"
    assert shipped["is-business-order"] == "true"
    assert shipped["ship-postal-code"] == "50667"
    text = content.decode()
    for personal in ("Zoë Müller", "zoe@marketplace", "Packstation 123", "+49 221"):
        assert personal not in text


def test_an_all_orders_report_without_data_is_cancelled(fast: LiveSandbox) -> None:
    make_order(fast, "302-8000001-8000001", [item("81")])
    no_start = wait(fast, request_report(fast, ALL_ORDERS))
    assert no_start["processingStatus"] == "CANCELLED"
    now = datetime.now(UTC)
    empty = wait(
        fast,
        request_report(
            fast,
            ALL_ORDERS,
            dataStartTime=iso(now - timedelta(days=40)),
            dataEndTime=iso(now - timedelta(days=30)),
        ),
    )
    assert empty["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in empty


# --- the all listings report -----------------------------------------------------------------

# The attributes of GET_MERCHANT_LISTINGS_ALL_DATA as Amazon lists them, in their order
# (developer-docs.amazon.com/sp-api/docs/inventory-reports-attributes).
AMAZON_ALL_LISTINGS_HEADER = (
    "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\t"
    "image-url\titem-is-marketplace\tproduct-id-type\tzshop-shipping-fee\titem-note\t"
    "item-condition\tzshop-category1\tzshop-browse-path\tzshop-storefront-feature\tasin1\t"
    "asin2\tasin3\twill-ship-internationally\texpedited-shipping\tzshop-boldface\tproduct-id\t"
    "bid-for-featured-placement\tadd-delete\tpending-quantity\tfulfillment-channel\t"
    "merchant-shipping-group\tstatus"
)


def all_listings(live: LiveSandbox, *marketplaces: str) -> dict[str, dict[str, str]]:
    """The All Listings Report's rows by SKU, after checking its header line."""
    _, content = run_report(live, ALL_LISTINGS, marketplaceIds=list(marketplaces or (DE,)))
    assert content.decode("utf-8").split("\n", 1)[0] == AMAZON_ALL_LISTINGS_HEADER
    _, found = rows(content)
    by_sku = {row["seller-sku"]: row for row in found}
    assert len(by_sku) == len(found)
    return by_sku


def held(live: LiveSandbox, marketplace_id: str = DE) -> dict[str, dict[str, Any]]:
    """The sandbox's listings on a marketplace by SKU, from the admin API."""
    listed = live.admin("GET", "/listings", params={"seller_id": live.seller.seller_id})
    return {row["sku"]: row for row in listed if row["marketplace_id"] == marketplace_id}


def patch_quantity(live: LiveSandbox, sku: str, patch: dict[str, Any]) -> None:
    response = live.call(
        "PATCH",
        f"/listings/2021-08-01/items/{live.seller.seller_id}/{sku}",
        params={"marketplaceIds": DE},
        json={"productType": "PRODUCT", "patches": [patch]},
    )
    assert response.json()["status"] == "ACCEPTED", response.text


def test_the_all_listings_report_holds_every_listing_with_the_sandboxs_quantity(
    fast: LiveSandbox,
) -> None:
    seller_id = fast.seller.seller_id
    fast.admin("PUT", f"/listings/{seller_id}/ONLY-FR", json={"marketplaces": ["FR"]})
    fast.admin("PUT", f"/listings/{seller_id}/SB-0004", json={"active": False})
    expected = held(fast)
    report = all_listings(fast)
    assert sorted(report) == sorted(expected)
    assert "ONLY-FR" not in report
    merchant = {sku for sku, row in expected.items() if row["fulfillment_channel"] == "DEFAULT"}
    amazon = set(expected) - merchant
    assert merchant
    assert amazon
    for sku in merchant:
        quantity = expected[sku]["quantity"]
        assert report[sku]["quantity"] == ("" if quantity is None else str(quantity)), sku
        assert report[sku]["fulfillment-channel"] == "DEFAULT"
        assert report[sku]["pending-quantity"] == "0"
    for sku in amazon:  # Amazon counts FBA stock: the merchant quantity stays empty
        assert report[sku]["quantity"] == "", sku
        assert report[sku]["pending-quantity"] == ""
        assert report[sku]["fulfillment-channel"] == "AMAZON_EU"
    assert report["SB-0004"]["status"] == "Inactive"  # inactive listings are listed too

    listing = fast.sandbox.state.listings.listings[seller_id]["SB-0002"]
    coffee = report["SB-0002"]
    assert coffee["item-name"] == listing.title == "Espressobohnen Crema 500 g"
    assert coffee["price"] == "13.90"
    assert coffee["asin1"] == listing.asin
    assert (coffee["product-id-type"], coffee["product-id"]) == ("4", listing.gtin)
    assert coffee["item-condition"] == "11"
    assert coffee["item-is-marketplace"] == "y"
    assert coffee["open-date"] == listing.created.strftime("%Y-%m-%d %H:%M:%S GMT")
    assert re.fullmatch(r"[0-9A-Z]{11}", coffee["listing-id"])
    assert coffee["listing-id"].startswith(listing.created.strftime("%m%d"))
    assert coffee["item-description"] == coffee["asin2"] == ""

    stock = {"op": "replace", "path": "/attributes/fulfillment_availability"}
    patch_quantity(
        fast,
        "SB-0002",
        {**stock, "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 77}]},
    )
    patch_quantity(fast, "SB-0001", {**stock, "op": "delete"})
    patch_quantity(
        fast,
        "SB-0005",
        {**stock, "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 0}]},
    )
    again = all_listings(fast)
    assert again["SB-0002"]["quantity"] == "77"
    assert again["SB-0002"]["status"] == "Active"
    assert again["SB-0001"]["quantity"] == ""
    assert (again["SB-0005"]["quantity"], again["SB-0005"]["status"]) == ("0", "Inactive")
    changed = ("SB-0001", "SB-0002", "SB-0005")
    assert {sku: row["quantity"] for sku, row in again.items() if sku not in changed} == {
        sku: row["quantity"] for sku, row in report.items() if sku not in changed
    }


def test_the_all_listings_report_covers_the_first_marketplace_asked_for(
    fast: LiveSandbox,
) -> None:
    seller_id = fast.seller.seller_id
    fast.admin(
        "PUT", f"/listings/{seller_id}/ONLY-FR", json={"marketplaces": ["FR"], "quantity": 3}
    )
    fast.admin(
        "PUT", f"/listings/{seller_id}/ONLY-DE", json={"marketplaces": ["DE"], "quantity": 4}
    )
    report_id = request_report(fast, ALL_LISTINGS, marketplaceIds=[FR, DE])
    report = wait(fast, report_id)
    assert report["marketplaceIds"] == [FR, DE]
    _, found = rows(download(fast, report))
    skus = {row["seller-sku"]: row for row in found}
    assert skus["ONLY-FR"]["quantity"] == "3"
    assert "ONLY-DE" not in skus
    assert sorted(skus) == sorted(held(fast, FR))
    assert skus["SB-0002"]["price"] == "13.90"  # the French offer, in euros too
    germany = all_listings(fast, DE)
    assert "ONLY-FR" not in germany
    assert germany["ONLY-DE"]["quantity"] == "4"


def test_a_big_all_listings_report_comes_compressed(fast: LiveSandbox) -> None:
    seller_id = fast.seller.seller_id
    listings = fast.sandbox.state.listings.listings[seller_id]
    now = datetime.now(UTC)
    for number in range(1500):  # documents over 100 kB are compressed
        sku = f"BULK-{number:05d}"
        listings[sku] = Listing(
            sku=sku,
            asin=f"B0{number:08d}",
            product_type="PRODUCT",
            title=f"Artikel {number}",
            marketplace_ids=[DE],
            quantities={DE: number % 40},
            created=now,
            updated=now,
        )
    report = wait(fast, request_report(fast, ALL_LISTINGS))
    info = document_info(fast, report["reportDocumentId"])
    assert info["compressionAlgorithm"] == "GZIP"
    _, found = rows(gzip.decompress(httpx.get(info["url"]).content))
    quantities = {row["seller-sku"]: row["quantity"] for row in found}
    assert len(quantities) == len(held(fast))
    assert all(quantities[f"BULK-{n:05d}"] == str(n % 40) for n in range(1500))


def test_an_all_listings_report_without_listings_is_cancelled(fast: LiveSandbox) -> None:
    other = fast.admin("POST", "/sellers", json={"name": "Leerer Laden", "marketplaces": ["DE"]})
    fast.sandbox.state.listings.listings[other["seller_id"]].clear()
    token = fast.lwa(
        grant_type="refresh_token",
        refresh_token=other["refresh_token"],
        client_id=other["client_id"],
        client_secret=other["client_secret"],
    ).json()["access_token"]
    created = fast.call(
        "POST",
        f"{REPORTS}/reports",
        token=token,
        json={"reportType": ALL_LISTINGS, "marketplaceIds": [DE]},
    )
    assert created.status_code == 202
    report_id = created.json()["reportId"]
    deadline = time.monotonic() + 10
    while (report := fast.call("GET", f"{REPORTS}/reports/{report_id}", token=token).json())[
        "processingStatus"
    ] not in TERMINAL:
        assert time.monotonic() < deadline
        time.sleep(0.03)
    assert report["processingStatus"] == "CANCELLED"
    assert "reportDocumentId" not in report


# --- account health --------------------------------------------------------------------------


def performance(live: LiveSandbox, *marketplaces: str) -> dict[str, Any]:
    _, content = run_report(live, PERFORMANCE, marketplaceIds=list(marketplaces))
    document: dict[str, Any] = json.loads(content)
    problems = list(
        spec.document_schema("reports/accountHealthReport-2020-11-18").iter_errors(document)
    )
    assert not problems, problems[0].message
    return document


def test_the_account_health_report_is_healthy_by_default(fast: LiveSandbox) -> None:
    for number in range(4):
        make_order(fast, f"302-9000000-{number:07d}", [item(f"9{number}")])
    document = performance(fast, DE, FR)
    assert document["accountStatuses"] == [
        {"marketplaceId": DE, "status": "NORMAL"},
        {"marketplaceId": FR, "status": "NORMAL"},
    ]
    germany, france = document["performanceMetrics"]
    assert germany["marketplaceId"] == DE
    assert germany["accountHealthRating"]["ahrStatus"] == "GREAT"
    assert germany["lateShipmentRate"]["orderCount"] == 4
    assert germany["lateShipmentRate"]["status"] == "GOOD"
    assert germany["orderDefectRate"]["mfn"]["orderCount"] == 4
    assert germany["invoiceDefectRate"]["status"] == "GOOD"
    assert france["lateShipmentRate"]["orderCount"] == 0


def test_admin_changes_show_in_the_account_health_report(fast: LiveSandbox) -> None:
    seller_id = fast.seller.seller_id
    for number in range(50):
        make_order(fast, f"302-9100000-{number:07d}", [item(f"9{number}")])
    changed = fast.admin(
        "PUT",
        f"/sellers/{seller_id}/account-health",
        json={
            "marketplace": "DE",
            "accountStatus": "AT_RISK",
            "lateShipmentRate": 0.06,
            "invoiceDefectRate": 0.07,
            "productSafetyCustomerComplaints": 2,
            "warningStates": [{"warningType": "lateInvoice", "status": "BAD"}],
        },
    )
    assert changed[DE]["lateShipmentRate"] == 0.06
    fast.admin(
        "PUT",
        f"/sellers/{seller_id}/account-health",
        json={"marketplace": "DE", "ahrStatus": "WARNED"},
    )
    document = performance(fast, DE, FR)
    assert document["accountStatuses"][0] == {"marketplaceId": DE, "status": "AT_RISK"}
    assert document["accountStatuses"][1] == {"marketplaceId": FR, "status": "NORMAL"}
    germany, france = document["performanceMetrics"]
    late = germany["lateShipmentRate"]
    assert (late["rate"], late["status"], late["lateShipmentCount"]) == (0.06, "BAD", 3)
    assert germany["invoiceDefectRate"]["status"] == "BAD"
    assert germany["invoiceDefectRate"]["rate"] == 0.07
    assert germany["productSafetyCustomerComplaints"]["defectsCount"] == 2
    assert germany["productSafetyCustomerComplaints"]["status"] == "BAD"
    assert germany["warningStates"] == [{"warningType": "lateInvoice", "status": "BAD"}]
    assert germany["accountHealthRating"]["ahrStatus"] == "WARNED"  # the first change stayed
    assert france["lateShipmentRate"]["status"] == "GOOD"


def test_account_health_changes_are_checked(fast: LiveSandbox) -> None:
    path = f"/_sandbox/sellers/{fast.seller.seller_id}/account-health"
    assert fast.http.put(path, json={"lateShipmentRate": 1.5}).status_code == 400
    assert fast.http.put(path, json={"lateShipmentRates": 0.1}).status_code == 400
    assert fast.http.put(path, json={"accountStatus": "FINE"}).status_code == 400
    assert (
        fast.http.put(path, json={"marketplace": "US", "lateShipmentRate": 0.1}).status_code == 400
    )
    everywhere = fast.admin("PUT", path.removeprefix("/_sandbox"), json={"lateShipmentRate": 0.1})
    assert len(everywhere) == 10
