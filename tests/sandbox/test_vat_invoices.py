"""UPLOAD_VAT_INVOICE: invoices checked against Amazon's figures, shown in the VIDR."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest

from sellerbridge.sandbox import feeds, vat_invoices
from sellerbridge.sandbox.feeds import Feed, FeedResult
from sellerbridge.sandbox.order_records import Order
from tests.sandbox.harness import LiveSandbox, assert_conforms
from tests.sandbox.test_reports import (
    DE,
    FR,
    item,
    make_order,
    ship,
    ship_by_amazon,
    vidr,
    vidr_all,
)

PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
FEEDS = "/feeds/2021-06-30"


def upload(
    live: LiveSandbox,
    options: dict[str, str],
    content: bytes = PDF,
    marketplaces: tuple[str, ...] = (DE,),
    seller_id: str | None = None,
) -> tuple[FeedResult, ET.Element]:
    """Run the processor on an uploaded document, as feed processing does."""
    feed = Feed(
        feed_id=str(50_019_000_000 + live.sandbox.next_number()),
        seller_id=seller_id or live.seller.seller_id,
        feed_type="UPLOAD_VAT_INVOICE",
        marketplace_ids=list(marketplaces),
        feed_options=options,
        input_document_id="amzn1.tortuga.4.eu.input",
        created_time=datetime.now(UTC),
    )
    result = vat_invoices.process_invoice(live.sandbox, feed, content, datetime.now(UTC))
    assert result.status == "DONE"
    assert result.content_type == "text/xml; charset=UTF-8"
    return result, ET.fromstring(result.content)


def summary(report: ET.Element) -> tuple[int, int, int]:
    counts = report.find("Message/ProcessingReport/ProcessingSummary")
    assert counts is not None
    return (
        int(counts.findtext("MessagesProcessed", "")),
        int(counts.findtext("MessagesSuccessful", "")),
        int(counts.findtext("MessagesWithError", "")),
    )


def error(report: ET.Element) -> tuple[str | None, str]:
    """The ResultMessageCode and ResultDescription of a rejected upload."""
    result = report.find("Message/ProcessingReport/Result")
    assert result is not None
    assert result.findtext("ResultCode") == "Error"
    return result.findtext("ResultMessageCode"), result.findtext("ResultDescription", "")


def last_upload(live: LiveSandbox) -> vat_invoices.InvoiceUpload:
    return live.sandbox.state.reports.invoices[-1]


def shipped_order(live: LiveSandbox, order_id: str = "302-1111111-1111111") -> Order:
    """119.00 + 4.90 shipping − 11.90 promotion, and 3 × 10.70 at 7 %: 144.10, VAT 19.98."""
    order = make_order(
        live,
        order_id,
        [
            item("1", unit_price="119.00", shipping="4.90", promotion="11.90"),
            item("2", unit_price="10.70", quantity=3, rate="7", sku="SB-0001", title="Kaffee"),
        ],
    )
    ship(order, f"D{order_id[-7:]}")
    return order


def invoice(order: Order, **extra: str) -> dict[str, str]:
    return {
        "metadata:ShippingId": order.packages[0].shipment_id,
        "metadata:InvoiceNumber": f"RE-{order.order_id[-7:]}",
        "metadata:TotalAmount": str(order.grand_total),
        "metadata:TotalVATAmount": str(order.total_tax),
        **extra,
    }


# --- the processor -------------------------------------------------------------------------


def test_an_invoice_matching_amazons_figures_is_accepted(live: LiveSandbox) -> None:
    order = shipped_order(live)
    assert (str(order.grand_total), str(order.total_tax)) == ("144.10", "19.98")
    _, report = upload(live, invoice(order))
    assert summary(report) == (1, 1, 0)
    assert report.find("Message/ProcessingReport/Result") is None
    assert report.findtext("Message/ProcessingReport/StatusCode") == "Complete"
    recorded = last_upload(live)
    assert recorded.status == "ACCEPTED"
    assert recorded.order_id == order.order_id
    assert recorded.shipment_ids == [order.packages[0].shipment_id]
    assert recorded.invoice_number == "RE-1111111"
    assert str(recorded.amazon_total) == "144.10"
    assert len(recorded.pdf_sha256) == 64


def test_a_total_one_cent_off_is_rejected_naming_both_amounts(live: LiveSandbox) -> None:
    order = shipped_order(live)
    _, report = upload(live, invoice(order, **{"metadata:TotalAmount": "144.09"}))
    assert summary(report) == (1, 0, 1)
    code, description = error(report)
    assert code is None  # Amazon documents no code for this error
    assert "144.09" in description
    assert "144.10" in description
    assert report.findtext("Message/ProcessingReport/Result/AdditionalInfo/AmazonOrderID") == (
        order.order_id
    )
    recorded = last_upload(live)
    assert (recorded.status, recorded.error) == ("REJECTED", "InvoiceAmountMismatch")
    _, vat_off = upload(live, invoice(order, **{"metadata:TotalVATAmount": "19.99"}))
    assert "19.99" in error(vat_off)[1]
    assert "19.98" in error(vat_off)[1]
    _, not_a_number = upload(live, invoice(order, **{"metadata:TotalAmount": "144,10"}))
    assert "144,10" in error(not_a_number)[1]
    assert all(upload_.status == "REJECTED" for upload_ in live.sandbox.state.reports.invoices)


def test_the_amounts_are_optional(live: LiveSandbox) -> None:
    order = shipped_order(live)
    _, report = upload(
        live,
        {"ShippingId": order.packages[0].shipment_id, "InvoiceNumber": "RE-1"},
    )
    assert summary(report) == (1, 1, 0)


def test_feed_options_are_read_in_any_case_with_or_without_prefix(live: LiveSandbox) -> None:
    order = shipped_order(live)
    _, report = upload(
        live,
        {
            "METADATA:ORDERID": "302-0000000-0000000",  # ignored: the shipping id wins
            "shippingid": order.packages[0].shipment_id,
            "metadata:invoicenumber": "RE-2",
            "TotalAmount": "144.1",
            "metadata:documenttype": "Invoice",
        },
    )
    assert summary(report) == (1, 1, 0)
    assert last_upload(live).order_id == order.order_id


def test_credit_notes_need_a_transaction_id(live: LiveSandbox) -> None:
    order = shipped_order(live)
    credit_note = invoice(order, **{"metadata:DocumentType": "CreditNote"})
    _, refused = upload(live, credit_note)
    assert error(refused) == ("79513", "MissingRequestPreferences: Please provide TransactionId")
    _, invoiced = upload(live, invoice(order))
    assert summary(invoiced) == (1, 1, 0)
    # a full refund, reversed by a credit note with the invoice's amounts (partial refunds and
    # the other credit-note checks: test_finances.py)
    everything = {
        "items": [{"orderItemId": "1", "quantity": 1}, {"orderItemId": "2", "quantity": 3}],
        "shipping": True,
    }
    refund = live.http.post(f"/_sandbox/orders/{order.order_id}/refunds", json=everything)
    transaction_id = refund.json()["transactionId"]
    _, accepted = upload(live, {**credit_note, "metadata:TransactionId": transaction_id})
    assert summary(accepted) == (1, 1, 0)
    assert last_upload(live).document_type == "CreditNote"


def test_a_document_that_is_not_a_pdf_is_refused(live: LiveSandbox) -> None:
    order = shipped_order(live)
    _, report = upload(live, invoice(order), content=b"<html>Rechnung</html>")
    code, description = error(report)
    assert code == "79503"
    assert description.startswith("InvoiceFileIsNotPDF: Invoice uploaded is not pdf")
    assert last_upload(live).shipment_ids == [order.packages[0].shipment_id]
    _, empty = upload(live, invoice(order), content=b"")
    assert error(empty)[0] == "79540"


def test_missing_and_wrong_options_are_named(live: LiveSandbox) -> None:
    order = shipped_order(live)
    _, nothing = upload(live, {"metadata:TotalAmount": "144.10"})
    assert error(nothing) == (
        "79513",
        "MissingRequestPreferences: Please provide OrderId or ShippingId, InvoiceNumber",
    )
    _, blank = upload(live, invoice(order, **{"metadata:InvoiceNumber": " "}))
    assert error(blank)[1].endswith("Please provide InvoiceNumber")
    _, kind = upload(live, invoice(order, **{"metadata:DocumentType": "Receipt"}))
    assert error(kind) == (
        "79531",
        "InvalidDocumentType: The document type Receipt is not supported",
    )
    _, two = upload(live, invoice(order), marketplaces=(DE, FR))
    assert error(two)[0] == "79523"


def test_the_order_must_be_the_sellers_on_the_feeds_marketplace_and_dispatched(
    live: LiveSandbox,
) -> None:
    order = shipped_order(live)
    other = live.admin("POST", "/sellers", json={"name": "Anderer Händler", "marketplaces": ["DE"]})
    _, foreign = upload(live, invoice(order), seller_id=other["seller_id"])
    assert error(foreign)[1].startswith("InvalidShippingId")
    _, by_order = upload(
        live,
        {"OrderId": order.order_id, "InvoiceNumber": "RE-3"},
        seller_id=other["seller_id"],
    )
    assert error(by_order)[0] == "79517"
    _, marketplace = upload(live, invoice(order), marketplaces=(FR,))
    assert "placed on marketplace" in error(marketplace)[1]
    waiting = make_order(live, "302-2222222-2222222", [item("3")])
    _, unshipped = upload(live, {"OrderId": waiting.order_id, "InvoiceNumber": "RE-4"})
    code, description = error(unshipped)
    assert code == "79517"
    assert "not been dispatched" in description
    _, unknown = upload(live, {"OrderId": "302-9999999-9999999", "InvoiceNumber": "RE-5"})
    assert error(unknown)[0] == "79517"


def test_an_invoice_by_order_id_covers_all_its_shipments(live: LiveSandbox) -> None:
    order = make_order(
        live,
        "302-3333333-3333333",
        [item("1", unit_price="10.70", quantity=3, rate="7", shipping="2.99")],
    )
    ship(order, "DSPLIT0001", {"1": 1})
    ship(order, "DSPLIT0002", {"1": 2})
    _, first_part_only = upload(
        live,
        {"OrderId": order.order_id, "InvoiceNumber": "RE-6", "TotalAmount": "4.57"},
    )
    assert "35.09" in error(first_part_only)[1]
    _, whole = upload(
        live,
        {
            "OrderId": order.order_id,
            "InvoiceNumber": "RE-7",
            "TotalAmount": str(order.grand_total),
            "TotalVATAmount": str(order.total_tax),
        },
    )
    assert summary(whole) == (1, 1, 0)
    assert last_upload(live).shipment_ids == ["DSPLIT0001", "DSPLIT0002"]


def test_a_shipment_takes_one_accepted_invoice(live: LiveSandbox) -> None:
    order = shipped_order(live)
    upload(live, invoice(order))
    _, again = upload(live, invoice(order, **{"metadata:InvoiceNumber": "RE-8"}))
    assert "RE-1111111" in error(again)[1]
    assert last_upload(live).error == "DuplicateInvoice"


def test_an_invoices_transaction_id_is_its_shipments(live: LiveSandbox) -> None:
    order = shipped_order(live)
    _, wrong = upload(live, invoice(order, **{"metadata:TransactionId": "Correction:1:123"}))
    assert error(wrong)[1].startswith("InvalidTransactionId")
    _, right = upload(
        live, invoice(order, **{"metadata:TransactionId": order.packages[0].shipment_id})
    )
    assert summary(right) == (1, 1, 0)


def test_fba_shipments_are_invoiced_by_their_shipment_id(live: LiveSandbox) -> None:
    order = make_order(live, "302-4444444-4444444", [item("1")], fulfilled_by="AMAZON")
    ship_by_amazon(order, "DFBA44444")
    _, report = upload(
        live, {"ShippingId": "DFBA44444", "InvoiceNumber": "RE-9", "TotalAmount": "119.00"}
    )
    assert summary(report) == (1, 1, 0)


def test_the_processor_is_registered_and_uploads_are_listed(live: LiveSandbox) -> None:
    assert feeds.PROCESSORS["UPLOAD_VAT_INVOICE"] is vat_invoices.process_invoice
    order = shipped_order(live)
    upload(live, invoice(order))
    other = live.admin("POST", "/sellers", json={"name": "Anderer Händler", "marketplaces": ["DE"]})
    upload(live, invoice(order), seller_id=other["seller_id"])
    everything = live.admin("GET", "/invoices")
    assert [entry["status"] for entry in everything] == ["ACCEPTED", "REJECTED"]
    mine = live.admin("GET", "/invoices", params={"seller_id": live.seller.seller_id})
    assert len(mine) == 1
    entry = mine[0]
    assert entry["invoice_number"] == "RE-1111111"
    assert entry["total_amount"] == "144.10"
    assert entry["shipping_id"] == order.packages[0].shipment_id
    assert entry["pdf_sha256"]
    assert entry["uploaded_at"].endswith("Z")


# --- what the VIDR shows ---------------------------------------------------------------------


@pytest.fixture
def fast(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    return start_sandbox(time_scale=600)


def test_the_vidr_shows_accepted_and_rejected_uploads(fast: LiveSandbox) -> None:
    accepted = shipped_order(fast, "302-5555555-5555551")
    rejected = shipped_order(fast, "302-5555555-5555552")
    untouched = shipped_order(fast, "302-5555555-5555553")
    upload(fast, invoice(accepted))
    upload(fast, invoice(rejected, **{"metadata:TotalAmount": "144.11"}))
    by_order = {row["order-id"]: row for row in vidr_all(fast)}
    assert by_order[accepted.order_id]["invoice-status"] == "InvoiceUploaded"
    assert by_order[accepted.order_id]["invoice-number"] == "RE-5555551"
    assert by_order[rejected.order_id]["invoice-status"] == "InvoicePending"
    description = by_order[rejected.order_id]["invoice-status-description"]
    assert description.startswith("Invoice upload rejected: TotalAmount 144.11")
    assert by_order[rejected.order_id]["invoice-number"] == ""
    assert by_order[untouched.order_id]["invoice-status-description"] == (
        "Shipment has been dispatched."
    )
    pending = {row["order-id"] for row in vidr(fast, reportOptions={"pendingInvoices": "true"})}
    assert pending == {rejected.order_id, untouched.order_id}
    assert {row["order-id"] for row in vidr(fast)} == pending


# --- acceptance 5, end to end over the Feeds API ---------------------------------------------


def submit_invoice(live: LiveSandbox, options: dict[str, str]) -> ET.Element:
    """createFeedDocument, PUT the PDF, createFeed, poll getFeed, read the processing report."""
    document = live.call("POST", f"{FEEDS}/documents", json={"contentType": "application/pdf"})
    assert document.status_code == 201, document.text
    assert_conforms("feeds.createFeedDocument", document)
    put = httpx.put(
        document.json()["url"], content=PDF, headers={"Content-Type": "application/pdf"}
    )
    assert put.status_code == 200
    created = live.call(
        "POST",
        f"{FEEDS}/feeds",
        json={
            "feedType": "UPLOAD_VAT_INVOICE",
            "marketplaceIds": [DE],
            "inputFeedDocumentId": document.json()["feedDocumentId"],
            "feedOptions": options,
        },
    )
    assert created.status_code == 202, created.text
    assert_conforms("feeds.createFeed", created)
    feed: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        response = live.call("GET", f"{FEEDS}/feeds/{created.json()['feedId']}")
        assert_conforms("feeds.getFeed", response)
        feed = response.json()
        if feed["processingStatus"] in ("DONE", "FATAL", "CANCELLED"):
            break
        time.sleep(0.03)
    assert feed["processingStatus"] == "DONE", feed
    result = live.call("GET", f"{FEEDS}/documents/{feed['resultFeedDocumentId']}")
    assert_conforms("feeds.getFeedDocument", result)
    content = httpx.get(result.json()["url"]).content
    if result.json().get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    return ET.fromstring(content)


def test_acceptance_5_invoice_uploads_through_the_feeds_api(fast: LiveSandbox) -> None:
    right = shipped_order(fast, "302-6666666-6666661")
    wrong = shipped_order(fast, "302-6666666-6666662")
    off_by_a_cent = submit_invoice(
        fast, invoice(wrong, **{"metadata:TotalAmount": str(wrong.grand_total - Decimal("0.01"))})
    )
    assert summary(off_by_a_cent) == (1, 0, 1)
    assert "144.09" in error(off_by_a_cent)[1]
    correct = submit_invoice(fast, invoice(right))
    assert summary(correct) == (1, 1, 0)
    by_order = {row["order-id"]: row for row in vidr_all(fast)}
    assert by_order[right.order_id]["invoice-status"] == "InvoiceUploaded"
    assert by_order[right.order_id]["invoice-number"] == "RE-6666661"
    assert by_order[wrong.order_id]["invoice-status"] == "InvoicePending"
    assert "144.09" in by_order[wrong.order_id]["invoice-status-description"]
