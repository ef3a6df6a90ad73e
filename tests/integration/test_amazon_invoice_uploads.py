"""Invoices to Amazon against the sandbox: each uploaded once, when due, accepted with its
totals to the cent; a rejection shows Amazon's reason and a retry after the fix goes through."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.dispatch import label_buyer
from sellerbridge.channels.amazon.invoices.uploads import ALERT as UPLOAD_ALERT
from sellerbridge.channels.amazon.invoices.uploads import InvoiceUploader, UploadReport
from sellerbridge.channels.amazon.invoices.vidr import read_vat_invoice_report
from sellerbridge.cli.main import app
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonInvoiceUpload,
    Document,
    Fulfillment,
    InvoiceMode,
    UploadStatus,
)
from sellerbridge.services import documents
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.dispatch import dispatch
from sellerbridge.services.fba import invoice_fba_orders
from sellerbridge.services.lookup import order_by_number
from sellerbridge.services.shipping import Package, ship_order
from tests.amazon import Shop
from tests.integration.test_amazon_confirmations import run as confirm
from tests.integration.test_amazon_confirmations import shipped_order
from tests.integration.test_documents import SELLER, SETTINGS
from tests.integration.test_fba_invoices import place_fba

DE = "A1PA6795UKMFR9"
UPLOADING = {Fulfillment.FBM: InvoiceMode.UPLOAD, Fulfillment.FBA: InvoiceMode.UPLOAD}


def upload(shop: Shop, **settings: Any) -> UploadReport:
    with shop.client() as client:
        return InvoiceUploader(shop.engine, shop.account_id, client,
                               shop.settings.model_copy(update=settings)).run()  # fmt: skip


def upload_until_settled(shop: Shop, **settings: Any) -> UploadReport:
    """Upload runs until Amazon has processed every feed (time-scaled: fractions of a second);
    what they did, added up."""
    total = UploadReport()
    for _ in range(50):
        report = upload(shop, **settings)
        total.queued += report.queued
        total.sent += report.sent
        total.accepted += report.accepted
        total.rejected += report.rejected
        total.unknown += report.unknown
        if not (report.sent or report.waiting):
            return total
        time.sleep(0.1)
    raise AssertionError("the uploads did not settle")


def sandbox_uploads(shop: Shop) -> list[Any]:
    judged: list[Any] = shop.live.admin(
        "GET", "/invoices", params={"seller_id": shop.live.seller.seller_id}
    )
    return judged


def ship_with_label(shop: Shop, **spec: Any) -> tuple[str, str]:
    """An FBM order imported, released, dispatched with a Buy Shipping label and verified."""
    order_id, number = shipped_order(shop, **spec)
    settings = shop.settings.model_copy(update={"seller": SELLER})
    with label_buyer(shop.engine, settings) as buy_label:
        report = dispatch(shop.engine, SETTINGS, actor="t", at=utcnow(), buy_label=buy_label)
    assert report.shipped == [number]
    assert confirm(shop).verified == 1
    return order_id, number


def test_each_invoice_is_uploaded_once_and_accepted_with_its_totals(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    shop.sync()  # whatever the sandbox made first, invoiced before uploads are switched on
    invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow())
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    fbm_order, _ = ship_with_label(shop, items=[{"sku": "SB-0001", "quantity": 2},
                                                {"sku": "SB-0002", "quantity": 1}])  # fmt: skip
    fba_order = place_fba(shop)
    shop.sync()
    assert invoice_fba_orders(shop.engine, SETTINGS, shop.account_id, at=utcnow()).invoiced == 1

    report = upload_until_settled(shop)
    assert (report.queued, report.sent, report.accepted) == (2, 2, 2)
    assert (report.rejected, report.unknown) == ([], [])
    judged = sandbox_uploads(shop)
    assert {u["order_id"] for u in judged} == {fbm_order, fba_order}
    assert {u["status"] for u in judged} == {"ACCEPTED"}
    with shop.uow as uow:
        documents = {
            d.number: d
            for d in uow.session.scalars(
                select(Document).join(
                    AmazonInvoiceUpload, AmazonInvoiceUpload.document_id == Document.id
                )
            )
        }
        for sent in judged:  # our totals are Amazon's to the cent
            document = documents[sent["invoice_number"]]
            assert Decimal(sent["amazon_total"]) == document.total_gross
            assert Decimal(sent["amazon_vat"]) == document.total_tax

    with shop.client() as client:  # Amazon's VAT invoice data report shows them uploaded
        rows = read_vat_invoice_report(client, DE, until=utcnow(), sleep=lambda _: time.sleep(0.1))
    shown = {(r.order_id, r.invoice_status, r.invoice_number) for r in rows}
    for sent in judged:
        assert (sent["order_id"], "InvoiceUploaded", sent["invoice_number"]) in shown

    again = upload_until_settled(shop)
    assert (again.queued, again.sent) == (0, 0)  # exactly once
    assert len(sandbox_uploads(shop)) == 2


def test_a_rejected_invoice_shows_amazons_reason_and_goes_after_the_fix(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    order_id, number = shipped_order(shop, items=[{"sku": "SB-0003", "quantity": 1}])
    # Shipped by hand and invoiced, but its confirmation has not reached Amazon yet: after the
    # fallback days (0 here) the invoice goes all the same, and Amazon refuses an invoice for
    # an order it has not seen dispatched.
    ship_order(shop.uow, number, [Package("DHL", "00340434161094042557")], actor="t",
               at=utcnow())  # fmt: skip
    with shop.uow as uow:
        invoice = documents.issue_invoice(uow.session, number, settings=SETTINGS, actor="t",
                                          at=utcnow()).number  # fmt: skip
        uow.commit()
    report = upload_until_settled(shop, invoice_upload_after_days=0)
    ((refused, reason),) = report.rejected
    assert refused == invoice
    assert "79517" in reason  # InvalidOrderId: invoices are due after dispatch
    environment = shop.environment() | {"COLUMNS": "250"}
    shown = CliRunner().invoke(app, ["amazon", "uploads", "--state", "rejected"], env=environment)
    assert shown.exit_code == 0, shown.output
    assert invoice in shown.output
    assert "79517" in shown.output
    one = CliRunner().invoke(app, ["amazon", "uploads", "show", invoice], env=environment)
    assert one.exit_code == 0, one.output
    assert "rejected" in one.output
    assert "invoices are only due after shipment" in " ".join(one.output.split())
    with shop.uow as uow:
        assert [a.kind for a in open_alerts(uow.session)] == [UPLOAD_ALERT]

    # The fix: the shipment confirmation goes, Amazon shows the parcel; the operator retries.
    assert confirm(shop).verified == 1
    retried = CliRunner().invoke(app, ["amazon", "uploads", "retry", invoice], env=environment)
    assert retried.exit_code == 0, retried.output
    report = upload_until_settled(shop)
    assert (report.sent, report.accepted, report.rejected) == (1, 1, [])
    with shop.uow as uow:
        row = uow.session.scalars(select(AmazonInvoiceUpload)).one()
        assert (row.status, row.attempts) == (UploadStatus.ACCEPTED, 2)
    assert [u["status"] for u in sandbox_uploads(shop)] == ["REJECTED", "ACCEPTED"]
    with shop.uow as uow:
        assert open_alerts(uow.session) == []  # settled
    assert order_id in {u["order_id"] for u in sandbox_uploads(shop)}


def test_switching_to_amazon_issuing_after_own_invoices_needs_a_start_day(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop()
    accounts.configure(shop.uow, None, invoice_modes=UPLOADING, invoice_upload_from=utcnow())
    _, first = ship_with_label(shop, items=[{"sku": "SB-0004", "quantity": 1}])  # ours
    environment = shop.environment() | {"COLUMNS": "250"}

    refused = CliRunner().invoke(
        app, ["amazon", "configure", "--invoices-fbm", "vcs_amazon"], env=environment
    )
    assert refused.exit_code != 0
    said = " ".join(refused.output.split())
    assert "has issued 1 invoice(s)" in said
    assert "--force-from" in said
    with shop.uow as uow:
        assert uow.session.get_one(AmazonAccount, shop.account_id).invoice_mode_fbm is (
            InvoiceMode.UPLOAD
        )

    too_early = CliRunner().invoke(
        app,
        ["amazon", "configure", "--invoices-fbm", "vcs_amazon", "--force-from",
         utcnow().strftime("%Y-%m-%d")],
        env=environment,
    )  # fmt: skip
    assert too_early.exit_code != 0  # today's order is ours already
    assert "Choose a later day" in " ".join(too_early.output.split())
    # Forced from just after the first order (the command line takes a day; both orders are
    # placed today)
    with shop.uow as uow:
        start = order_by_number(uow.session, first).ordered_at + timedelta(microseconds=1)
    accounts.configure(shop.uow, None, invoice_modes={Fulfillment.FBM: InvoiceMode.VCS_AMAZON},
                       force_from=start)  # fmt: skip
    # From then on Amazon invoices the FBM orders: none of ours is issued, uploaded or mailed.
    _, number = ship_with_label(shop, items=[{"sku": "SB-0004", "quantity": 1}])
    with shop.uow as uow:
        kinds = [d.kind for d in documents.documents_of(uow.session, number)]
    assert kinds == [DocumentKind.DELIVERY_NOTE]
    report = upload_until_settled(shop)
    assert (report.queued, report.sent) == (1, 1)  # only the invoice from before the switch
