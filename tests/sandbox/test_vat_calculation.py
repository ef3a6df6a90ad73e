"""VCS with Amazon issuing: Amazon's invoice numbers in the VAT calculation report, over HTTP."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sellerbridge.sandbox.order_records import Order, TaxTreatment
from sellerbridge.sandbox.vat_calculation import COLUMNS
from sellerbridge.sandbox.vat_invoices import order_shipments
from tests.sandbox.harness import LiveSandbox
from tests.sandbox.test_reports import (
    DE,
    REPORTS,
    create_report,
    document_info,
    iso,
    item,
    make_order,
    request_report,
    ship,
    ship_by_amazon,
    wait,
)

VCS_REPORT = "SC_VAT_TAX_REPORT"
IE = "A28R8C7NBKEWEA"
GROSS = ("Tax Inclusive Selling Price", "Tax Inclusive Promo Amount")
TAX = ("Tax Amount", "Tax Amount Promo")


@pytest.fixture
def vcs(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """Reports processed 600 times faster; Amazon's invoices shown at once after shipment."""
    return start_sandbox(time_scale=600, vcs_invoice_delay_seconds=0)


def enrol(live: LiveSandbox, amazon_invoicing: bool = True, **body: Any) -> Any:
    return live.admin(
        "PUT",
        f"/sellers/{live.seller.seller_id}/vcs",
        json={"marketplaces": ["DE"], "amazonInvoicing": amazon_invoicing, **body},
    )


def number_pattern(live: LiveSandbox, country: str, year: int) -> re.Pattern[str]:
    """Amazon's 14 characters: country, year digit, base-36 sequence, seller id tail, I."""
    return re.compile(rf"{country}{year % 10}[0-9A-Z]{{5}}{live.seller.seller_id[-5:]}I")


def vat_report(live: LiveSandbox, days: int = 10, **body: Any) -> list[dict[str, str]]:
    """The report of the last ``days`` days (or the range given), downloaded with an RDT."""
    now = datetime.now(UTC)
    body.setdefault("dataStartTime", iso(now - timedelta(days=days)))
    body.setdefault("dataEndTime", iso(now))
    report = wait(live, request_report(live, VCS_REPORT, **body))
    if report["processingStatus"] == "CANCELLED":
        return []
    assert report["processingStatus"] == "DONE", report
    path = f"{REPORTS}/documents/{report['reportDocumentId']}"
    info = document_info(live, report["reportDocumentId"], live.rdt("GET", path))
    content = httpx.get(info["url"]).content
    if info.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def total(rows: list[dict[str, str]], parts: tuple[str, str]) -> Decimal:
    return sum(
        (Decimal(row[f"{charge} {part}"]) for row in rows
         for charge in ("OUR_PRICE", "SHIPPING", "GIFTWRAP") for part in parts),
        Decimal(0),
    )  # fmt: skip


def by_shipment(rows: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        grouped[row["Shipment ID"]].append(row)
    return grouped


def orders(live: LiveSandbox) -> list[Order]:
    """Shipped orders: one in two packages with shipping and a promotion, a business buyer's
    intra-EU order, an FBA order."""
    split = make_order(live, "302-1000001-1000001", [
        item("11", quantity=3, unit_price="19.99", shipping="4.99", promotion="2.00"),
        item("12", unit_price="7.49", rate="7", gift_wrap="2.50"),
    ])  # fmt: skip
    ship(split, "DAAAA0001", {"11": 2}, at=split.created_time + timedelta(hours=20))
    ship(split, "DAAAA0002", at=split.created_time + timedelta(hours=30))
    business = make_order(live, "302-1000002-1000002", [item("21", unit_price="100.00", rate="0")],
                          vat_number="FR12345678901", ship_to="FR",
                          tax_treatment=TaxTreatment.INTRA_COMMUNITY)  # fmt: skip
    ship(business, "DAAAA0003")
    fba = make_order(live, "302-1000003-1000003", [item("31", quantity=2)], fulfilled_by="AMAZON")
    ship_by_amazon(fba, "DBBBB0001")
    return [split, business, fba]


def test_amazon_invoices_each_shipment_and_the_report_lists_its_number_and_amounts(
    vcs: LiveSandbox,
) -> None:
    placed = orders(vcs)
    assert enrol(vcs) == {DE: {"amazonInvoicing": True, "since": None}}

    rows = vat_report(vcs)
    shipments = by_shipment(rows)
    expected = {s.shipment_id: s for order in placed for s in order_shipments(order)}
    assert set(shipments) == set(expected)  # every shipment, FBM packages and FBA
    numbers = {}
    for shipment_id, lines in shipments.items():
        shipment = expected[shipment_id]
        assert len(lines) == len(shipment.lines)  # a row per item in the shipment
        (number,) = {line["VAT Invoice Number"] for line in lines}  # one invoice per shipment
        assert number_pattern(vcs, shipment.order.ship_from_country,
                              shipment.shipped_at.year).fullmatch(number)  # fmt: skip
        numbers[shipment_id] = number
        for line in lines:
            assert line["Order ID"] == shipment.order.order_id
            assert line["Transaction Type"] == "SHIPMENT"
            assert line["Transaction ID"] == shipment_id
            assert line["Marketplace ID"] == "DE"
            assert line["Merchant ID"] == vcs.seller.seller_id
            assert line["Is Amazon Invoiced"] == "TRUE"
            assert line["Invoice Url"].endswith(f"/{number}.pdf")
            assert line["Currency"] == "EUR"
        # Amazon's amounts of the shipment, to the cent
        assert total(lines, GROSS) == shipment.total
        assert total(lines, TAX) == shipment.total_tax
    assert len(set(numbers.values())) == len(numbers)
    for order in placed:  # the invoices of an order add up to its total
        its = [lines for sid, lines in shipments.items() if expected[sid].order is order]
        assert sum((total(lines, GROSS) for lines in its), Decimal(0)) == order.grand_total

    split_rows = shipments["DAAAA0001"]
    assert [(r["SKU"], r["Quantity"], r["Tax Rate"]) for r in split_rows] == [
        ("SB-0007", "2", "0.19")
    ]
    assert split_rows[0]["OUR_PRICE Tax Inclusive Promo Amount"].startswith("-")
    assert re.fullmatch(r"\d\d-[A-Z][a-z]{2}-\d{4} UTC", split_rows[0]["Shipment Date"])
    business = shipments["DAAAA0003"][0]
    assert business["Buyer Tax Registration"] == "FR12345678901"
    assert business["Buyer Tax Registration Type"] == "VAT"
    assert (business["Ship From Country"], business["Ship To Country"]) == ("DE", "FR")
    assert business["Tax Rate"] == "0"

    # Issued in shipment order, numbered one after the other; the same numbers every time.
    issued = vcs.admin("GET", f"/sellers/{vcs.seller.seller_id}/vcs")["invoices"]
    assert [i["invoiceNumber"] for i in issued] == sorted(numbers.values())
    sequences = [int(i["invoiceNumber"][3:8], 36) for i in issued]
    assert sequences == list(range(1, len(issued) + 1))
    again = by_shipment(vat_report(vcs))
    assert {sid: lines[0]["VAT Invoice Number"] for sid, lines in again.items()} == numbers


def test_a_shipment_shows_only_amazons_delay_after_dispatch(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(time_scale=600)  # three days pass in 432 seconds
    enrol(live)
    now = datetime.now(UTC)
    early = make_order(live, "302-2000001-2000001", [item("11")])
    ship(early, "DCCCC0001", at=now - timedelta(minutes=10))
    recent = make_order(live, "302-2000002-2000002", [item("21")])
    ship(recent, "DCCCC0002", at=now - timedelta(seconds=5))

    assert set(by_shipment(vat_report(live))) == {"DCCCC0001"}
    issued = {
        i["shipmentId"]: i
        for i in live.admin("GET", f"/sellers/{live.seller.seller_id}/vcs")["invoices"]
    }
    assert set(issued) == {"DCCCC0001", "DCCCC0002"}  # issued at once, shown later
    shown = datetime.fromisoformat(issued["DCCCC0002"]["shownFrom"])
    three_days = timedelta(seconds=3 * 24 * 3600 / 600)
    assert shown == (recent.packages[0].ship_date + three_days).replace(microsecond=0)


def test_the_range_is_whole_days_of_the_shipment_dates(vcs: LiveSandbox) -> None:
    enrol(vcs)
    # The start of the day two minutes ago: its first second is in the past.
    today = (datetime.now(UTC) - timedelta(minutes=2)).replace(hour=0, minute=0, second=0,
                                                                microsecond=0)  # fmt: skip
    for days, shipment_id in ((0, "DDDDD0000"), (1, "DDDDD0001"), (3, "DDDDD0003")):
        at = today - timedelta(days=days) + timedelta(seconds=1)
        order = make_order(vcs, f"302-300000{days}-3000000", [item("1")],
                           created=at - timedelta(hours=2))  # fmt: skip
        ship(order, shipment_id, at=at)
    # Late on the day before yesterday until the first second of today: both days whole.
    rows = vat_report(vcs, dataStartTime=iso(today - timedelta(days=1, seconds=-60)),
                      dataEndTime=iso(today + timedelta(seconds=1)))  # fmt: skip
    assert set(by_shipment(rows)) == {"DDDDD0000", "DDDDD0001"}
    # A range that ends where it starts is cancelled, as Amazon does.
    empty = wait(vcs, request_report(vcs, VCS_REPORT, dataStartTime=iso(today),
                                     dataEndTime=iso(today)))  # fmt: skip
    assert empty["processingStatus"] == "CANCELLED"


def test_create_report_refuses_what_amazon_refuses(vcs: LiveSandbox) -> None:
    now = datetime.now(UTC)
    ireland = create_report(
        vcs, VCS_REPORT, marketplaceIds=[IE], dataStartTime=iso(now - timedelta(days=1))
    )
    assert ireland.status_code == 400
    assert "MarketplaceIdList" in ireland.json()["errors"][0]["message"]
    too_long = create_report(vcs, VCS_REPORT, dataStartTime=iso(now - timedelta(days=32)),
                             dataEndTime=iso(now))  # fmt: skip
    assert too_long.status_code == 400
    assert "31 days" in too_long.json()["errors"][0]["message"]
    refused = vcs.http.put(f"/_sandbox/sellers/{vcs.seller.seller_id}/vcs",
                           json={"marketplaces": ["IE"], "amazonInvoicing": True})  # fmt: skip
    assert refused.status_code == 400


def test_its_document_needs_a_restricted_data_token(vcs: LiveSandbox) -> None:
    enrol(vcs)
    order = make_order(vcs, "302-4000001-4000001", [item("1")])
    ship(order, "DEEEE0001")
    now = datetime.now(UTC)
    report = wait(vcs, request_report(vcs, VCS_REPORT, dataStartTime=iso(now - timedelta(days=5)),
                                      dataEndTime=iso(now)))  # fmt: skip
    assert report["processingStatus"] == "DONE"
    plain = vcs.call("GET", f"{REPORTS}/documents/{report['reportDocumentId']}")
    assert plain.status_code == 403


def test_without_amazon_invoicing_there_are_no_amazon_numbers(vcs: LiveSandbox) -> None:
    order = make_order(vcs, "302-5000001-5000001", [item("1")])
    ship(order, "DFFFF0001")
    assert vat_report(vcs) == []  # not enrolled in VCS: no data, the report is cancelled

    enrol(vcs, amazon_invoicing=False)  # VCS, the seller uploads its own invoices
    (row,) = vat_report(vcs)
    assert (row["VAT Invoice Number"], row["Invoice Url"], row["Is Amazon Invoiced"]) == (
        "",
        "",
        "FALSE",
    )

    # Amazon issuing from an hour ago: the earlier shipment stays without Amazon's invoice.
    enrol(vcs, since=iso(datetime.now(UTC) - timedelta(hours=1)))
    later = make_order(vcs, "302-5000002-5000002", [item("1")])
    ship(later, "DFFFF0002", at=datetime.now(UTC) - timedelta(minutes=1))
    shipments = by_shipment(vat_report(vcs))
    assert shipments["DFFFF0001"][0]["VAT Invoice Number"] == ""
    assert shipments["DFFFF0002"][0]["Is Amazon Invoiced"] == "TRUE"


def test_a_refund_gets_amazons_credit_note_naming_the_invoice(vcs: LiveSandbox) -> None:
    enrol(vcs)
    order = make_order(vcs, "302-6000001-6000001", [item("11", quantity=2, shipping="4.99")])
    ship(order, "DGGGG0001")
    refunded = vcs.admin("POST", f"/orders/{order.order_id}/refunds",
                         json={"items": [{"orderItemId": "11", "quantity": 1}],
                               "shipping": True})  # fmt: skip
    (refund,) = vcs.sandbox.state.reports.refunds[order.order_id]

    rows = vat_report(vcs)
    (invoice,) = [r for r in rows if r["Transaction Type"] == "SHIPMENT"]
    (credit,) = [r for r in rows if r["Transaction Type"] == "REFUND"]
    assert credit["Transaction ID"] == refund.transaction_id
    assert credit["Transaction ID"].startswith("amzn1:crow:")
    assert credit["Shipment ID"] == "DGGGG0001"
    assert credit["Quantity"] == "1"
    number = credit["VAT Invoice Number"]
    assert re.fullmatch(rf"DE\d[0-9A-Z]{{5}}{vcs.seller.seller_id[-5:]}C", number)
    assert number[3:8] > invoice["VAT Invoice Number"][3:8]  # issued after the invoice
    assert credit["Original VAT Invoice Number"] == invoice["VAT Invoice Number"]
    assert total([credit], GROSS) == -refund.total == -Decimal(refunded["total"])
    assert total([credit], TAX) == -refund.total_tax
