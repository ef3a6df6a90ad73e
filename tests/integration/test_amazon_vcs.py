"""VCS with own invoices against the sandbox: the invoice of an order is issued from Amazon's
VAT invoice data, line by line exactly Amazon's VAT, and Amazon accepts its upload."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.invoices.cycle import InvoicingReport, run_invoicing
from sellerbridge.channels.amazon.invoices.vidr import VatInvoiceRow, read_vat_invoice_report
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError
from sellerbridge.db.models import AmazonVatRow, Document, Fulfillment, InvoiceMode
from sellerbridge.services import documents
from sellerbridge.services.fba import invoice_fba_orders
from sellerbridge.services.lookup import order_by_number
from tests.amazon import Shop
from tests.integration.test_amazon_invoice_uploads import DE, sandbox_uploads, ship_with_label
from tests.integration.test_documents import SETTINGS
from tests.integration.test_fba_invoices import place_fba

VCS_OWN = {Fulfillment.FBM: InvoiceMode.VCS_OWN, Fulfillment.FBA: InvoiceMode.VCS_OWN}
UPLOADING = {Fulfillment.FBM: InvoiceMode.UPLOAD, Fulfillment.FBA: InvoiceMode.UPLOAD}


def invoicing_until_settled(shop: Shop, **settings: Any) -> list[InvoicingReport]:
    """Runs until Amazon has processed every upload (time-scaled: fractions of a second)."""
    runs = []
    settings = {"seller": SETTINGS.seller, **settings}
    for _ in range(50):
        with shop.client() as client:
            report = run_invoicing(shop.engine, shop.account_id, client,
                                   shop.settings.model_copy(update=settings), force=True,
                                   sleep=lambda _: time.sleep(0.05))  # fmt: skip
        runs.append(report)
        if not (report.upload.sent or report.upload.waiting or report.vcs.issued):
            return runs
        time.sleep(0.1)
    raise AssertionError("invoicing did not settle")


def pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def vidr_rows(shop: Shop) -> list[VatInvoiceRow]:
    with shop.client() as client:
        return read_vat_invoice_report(client, DE, until=utcnow(), sleep=lambda _: time.sleep(0.1))


def test_vcs_invoices_carry_exactly_amazons_vat_per_line_and_are_accepted(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    shop.sync()  # what the sandbox made first is invoiced the usual way before the switch
    invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow())
    accounts.configure(shop.uow, None, invoice_modes=VCS_OWN, invoice_upload_from=utcnow())

    # A domestic order with a promotion, and a tax-free intra-community one to a business.
    domestic, domestic_number = ship_with_label(shop, items=[
        {"sku": "SB-0001", "quantity": 2, "promotion_discount": "3.00"},
        {"sku": "SB-0002", "quantity": 1}])  # fmt: skip
    b2b, b2b_number = ship_with_label(shop, items=[{"sku": "SB-0003", "quantity": 1}],
                                      vat_id="ATU13585627", ship_to_country="AT")  # fmt: skip
    fba = place_fba(shop)
    shop.sync()
    # Shipped, but not invoiced at shipment: the invoice waits for Amazon's VAT calculation.
    assert invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow()).invoiced == 0
    fba_number = shop.erp(fba).number
    with shop.uow as uow:
        for number in (domestic_number, b2b_number, fba_number):
            order = order_by_number(uow.session, number)
            assert documents.current_invoice(uow.session, order) is None
            with pytest.raises(DomainError, match="Amazon's VAT calculation"):  # nor by hand
                documents.issue_invoice(uow.session, number, settings=SETTINGS, actor="t",
                                        at=utcnow())  # fmt: skip

    with pytest.raises(DomainError, match="wait for their invoice"):  # nothing would invoice them
        accounts.configure(shop.uow, None, invoice_modes=UPLOADING)

    runs = invoicing_until_settled(shop)
    issued = [number for run in runs for number in run.vcs.issued]
    assert len(issued) == 3
    judged = {u["order_id"]: u for u in sandbox_uploads(shop)}
    assert {judged[o]["status"] for o in (domestic, b2b, fba)} == {"ACCEPTED"}

    rows = [r for r in vidr_rows(shop) if r.order_id in (domestic, b2b, fba)]
    rates = {  # the rate Amazon calculated each item at
        item.order_item_id: item.vat_rate
        for order in shop.sandbox_orders() if order.order_id in (domestic, b2b, fba)
        for item in order.items
    }  # fmt: skip
    by_item: dict[str, list[VatInvoiceRow]] = defaultdict(list)
    for row in rows:
        by_item[row.order_item_id].append(row)
    with shop.uow as uow:
        for amazon_order_id, number in ((domestic, domestic_number), (b2b, b2b_number),
                                        (fba, fba_number)):  # fmt: skip
            order = order_by_number(uow.session, number)
            invoice = documents.current_invoice(uow.session, order)
            assert invoice is not None
            assert invoice.number in issued
            assert judged[amazon_order_id]["invoice_number"] == invoice.number
            assert Decimal(judged[amazon_order_id]["amazon_total"]) == invoice.total_gross
            lines = {line.order_line_id: line for line in invoice.lines}
            for order_line in order.lines:  # each line: exactly Amazon's amount, VAT and rate
                line, shown = lines[order_line.id], by_item[order_line.external_reference or ""]
                assert line.gross == sum(
                    r.money("item-vat-incl-amount") + r.money("item-promo-vat-incl-amount")
                    for r in shown
                )
                assert line.tax == sum(
                    r.money("item-vat-amount") + r.money("item-promo-vat-amount") for r in shown
                )
                assert line.tax_rate == rates[order_line.external_reference or ""]  # Amazon's rate
        b2b_invoice = documents.current_invoice(
            uow.session, order_by_number(uow.session, b2b_number)
        )
        assert b2b_invoice is not None
        assert b2b_invoice.total_tax == 0
        citation = next(r.values["citation-de"] for r in rows if r.order_id == b2b)
        assert citation
        printed = " ".join(pdf_text(b2b_invoice.pdf).split())
        assert " ".join(citation.split()) in printed  # Amazon's legal text

    again = invoicing_until_settled(shop)  # the rows are worked on once
    assert [n for run in again for n in run.vcs.issued] == []
    with shop.uow as uow:
        invoices = uow.session.scalars(
            select(func.count(Document.id))
            .where(Document.kind == DocumentKind.INVOICE,
                   Document.order_id.in_([order_by_number(uow.session, n).id for n in
                                          (domestic_number, b2b_number, fba_number)]))
            .group_by(Document.order_id)
        ).all()  # fmt: skip
        assert invoices == [1, 1, 1]  # one invoice per order
        kept = " ".join(row.values for row in uow.session.scalars(select(AmazonVatRow)))
        for personal in ("buyer-name", "ship-address-1", "recipient-name", "buyer-vat-number"):
            assert personal not in kept  # Amazon's figures kept, never the buyer's data
        assert uow.session.scalar(
            select(func.count(AmazonVatRow.id)).where(AmazonVatRow.document_id.is_(None),
                                                      AmazonVatRow.transaction_type == "SHIPMENT",
                                                      AmazonVatRow.amazon_order_id.in_(
                                                          (domestic, b2b, fba)))
        ) == 0  # fmt: skip
    assert len([u for u in sandbox_uploads(shop) if u["order_id"] in (domestic, b2b, fba)]) == 3
