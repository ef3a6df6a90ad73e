"""The demo's fulfilment: what follows the import, in the order the worker does it.

In production these steps run on the worker's schedule (``jobs/app.py``): the FBA invoices and
the automatic dispatch after each import, the shipment confirmations whenever some are due. The
demo runs each of them once, while its sandbox is up — the confirmations until each one is
verified or failed — so that every imported order ends where the summary can show it: shipped
with a verified confirmation, invoiced by Amazon's warehouse, or waiting with its reason.

Nothing is caught here: an order the release, the dispatch, the FBA invoicing or the
confirmations cannot handle is in their reports with its reason, and any other error ends the
demo with its traceback.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.dispatch import label_buyer
from sellerbridge.channels.amazon.fba import buyer_emails
from sellerbridge.channels.amazon.invoices.cycle import run_invoicing
from sellerbridge.channels.amazon.invoices.uploads import UploadReport
from sellerbridge.channels.amazon.shipments.confirm import ConfirmationExporter, ConfirmationReport
from sellerbridge.channels.amazon.stock.exporter import PushReport
from sellerbridge.channels.amazon.stock.sync import sync_stock
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonInvoiceUpload,
    AmazonOrderBinding,
    ConfirmationStatus,
    Document,
    Fulfillment,
    SalesChannel,
    SalesOrder,
    Shipment,
    ShipmentConfirmation,
    UploadStatus,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo.progress import Reporter
from sellerbridge.secrets import secret_box
from sellerbridge.services import queries
from sellerbridge.services.dispatch import DispatchReport, dispatch
from sellerbridge.services.documents import DocumentSettings
from sellerbridge.services.fba import FbaReport, invoice_fba_orders
from sellerbridge.services.orders import release_order

DOCUMENTS_FOLDER = "documents"
LABELS_FOLDER = "labels"
LABEL_SUFFIXES = {"PDF": "pdf", "PNG": "png"}
"""File suffix by label format; every ZPL variant (ZPL, ZPL203, ZPL300) is ``zpl``."""
CONFIRMATION_ROUNDS = 3
UPLOAD_ROUNDS = 50
STOCK_POLL_SECONDS = 0.2
"""How long the demo waits between looks at Amazon's reports and feeds (time-scaled)."""
"""Runs of the confirmation exporter at most. Amazon shows a Buy Shipping package at once, so
the first run verifies them all; a later run only reads what Amazon did not show yet and is
due again now (the exporter's next reads are minutes apart, which the demo does not wait)."""


@dataclass(frozen=True)
class Problem:
    """An order the demo could not take further, and why."""

    order: str
    """Empty when the reason names it (a confirmation's alert text)."""
    step: str
    """Where it stopped: ``release``, ``dispatch``, ``confirmation``, ``FBA invoice``."""
    reason: str


@dataclass
class Release:
    released: list[str] = field(default_factory=list)
    waiting: dict[str, str] = field(default_factory=dict)
    """Open FBM orders left open, and why (the stock they still wait for)."""


@dataclass
class Confirmations:
    report: ConfirmationReport = field(default_factory=ConfirmationReport)
    rounds: int = 0
    unfinished: int = 0
    """Sent or pending after the last run: not verified yet, not failed."""


def release_stocked_fbm_orders(uow: UnitOfWork, account_id: int, *, actor: str) -> Release:
    """Release the account's open FBM orders whose stock is all reserved; say what the others
    wait for. (An operator does this in the morning: `sellerbridge orders release`.)"""
    with uow:
        open_orders = list(
            uow.session.scalars(
                select(SalesOrder.number)
                .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
                .where(
                    AmazonOrderBinding.account_id == account_id,
                    AmazonOrderBinding.fulfillment == Fulfillment.FBM,
                    SalesOrder.state == OrderState.OPEN,
                )
                .order_by(SalesOrder.id)
            )
        )
        missing: dict[str, list[str]] = defaultdict(list)
        for shortage in queries.shortages(uow.session):
            wanted = shortage.wanted - shortage.reserved
            missing[shortage.order_number].append(f"{wanted} × {shortage.article_number}")
    release = Release()
    for number in open_orders:
        if number in missing:
            release.waiting[number] = f"waits for stock: {', '.join(missing[number])}"
        else:
            release_order(uow, number, actor=actor)
            release.released.append(number)
    return release


def dispatch_with_labels(
    engine: Engine,
    settings: Settings,
    document_settings: DocumentSettings,
    *,
    actor: str,
    reporter: Reporter,
) -> DispatchReport:
    """The automatic dispatch of every released order, with Amazon Buy Shipping labels."""
    with UnitOfWork(engine) as uow:
        due = uow.session.scalar(
            select(func.count(SalesOrder.id))
            .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
            .where(
                SalesOrder.state == OrderState.RELEASED,
                SalesChannel.fulfilled_externally.is_(False),
            )
        )
    total = due or 0
    with (
        label_buyer(engine, settings) as buy_label,
        reporter.track("Dispatching: documents and Buy Shipping labels", total) as completed,
    ):
        done: list[str] = []

        def count(number: str) -> None:
            done.append(number)
            completed(len(done))

        return dispatch(
            engine,
            document_settings,
            actor=actor,
            at=utcnow(),
            batch_size=max(total, 1),  # one batch: an order that fails is not taken again
            buy_label=buy_label,
            on_order=count,
            partial=settings.partial_shipments,
        )


def confirm_until_verified(
    engine: Engine, account: AmazonAccount, settings: Settings, *, reporter: Reporter
) -> Confirmations:
    """Run the shipment confirmation exporter until nothing it can do now is left."""
    result = Confirmations()
    total = _unfinished_confirmations(engine, account.id)
    with (
        accounts.client_for(
            account, secret_box(settings), engine=engine, settings=settings
        ) as client,  # fmt: skip
        reporter.track("Confirming shipments at Amazon", total) as completed,
    ):
        exporter = ConfirmationExporter(engine, account.id, client, settings, clock=utcnow)
        while result.rounds < CONFIRMATION_ROUNDS:
            report = exporter.run()
            result.rounds += 1
            _add(result.report, report)
            completed(result.report.verified + result.report.failed)
            result.unfinished = _unfinished_confirmations(engine, account.id)
            if not result.unfinished or not (report.sent or report.verified or report.failed):
                break
    return result


def invoice_fba(
    engine: Engine, settings: Settings, account_id: int, *, reporter: Reporter
) -> FbaReport:
    with (
        reporter.track("Invoicing FBA orders", None),
        buyer_emails(engine, settings, account_id) as lookup,
    ):
        return invoice_fba_orders(engine, DocumentSettings.of(settings), account_id,
                                  at=utcnow(), buyer_emails=lookup)  # fmt: skip


def sync_stock_to_amazon(
    engine: Engine, account: AmazonAccount, settings: Settings, *, reporter: Reporter
) -> PushReport:
    """One stock sync as the worker runs it: FBA inventory in, Amazon's listings read, every
    FBM quantity that differs sent, the feeds' results read."""
    with (
        accounts.client_for(account, secret_box(settings), engine=engine,
                            settings=settings) as client,
        reporter.track("Sending the stock to Amazon", None),
    ):  # fmt: skip
        return sync_stock(engine, account.id, client, settings, wait_seconds=120,
                          sleep=lambda _: time.sleep(STOCK_POLL_SECONDS))  # fmt: skip


@dataclass
class Invoicing:
    """What the invoicing runs did, added up."""

    upload: UploadReport = field(default_factory=UploadReport)
    corrected: list[str] = field(default_factory=list)
    returned: int = 0
    problems: list[str] = field(default_factory=list)


def invoicing(
    engine: Engine, account: AmazonAccount, settings: Settings, *, title: str, reporter: Reporter
) -> Invoicing:
    """Invoicing runs, as the worker's (refunds' corrections, uploads), until Amazon has
    processed every document sent."""
    total = Invoicing()
    with (
        accounts.client_for(account, secret_box(settings), engine=engine,
                            settings=settings) as client,
        reporter.track(title, None),
    ):  # fmt: skip
        for _ in range(UPLOAD_ROUNDS):
            run = run_invoicing(engine, account.id, client, settings, force=True)
            upload = run.upload
            total.upload.queued += upload.queued
            total.upload.sent += upload.sent
            total.upload.accepted += upload.accepted
            total.upload.rejected += upload.rejected
            total.upload.unknown += upload.unknown
            total.corrected += run.refunds.corrected
            total.returned += run.refunds.returned
            total.problems += run.problems
            if not (upload.sent or upload.waiting or upload.queued or run.refunds.corrected):
                break
            time.sleep(STOCK_POLL_SECONDS)
    return total


def refund_some_orders(base_url: str, engine: Engine, account_id: int, count: int) -> list[str]:
    """Amazon refunds one unit of the first ``count`` orders whose invoice it accepted (posted
    ten minutes ago, as Amazon lists refunds a little late); their Amazon order ids."""
    with UnitOfWork(engine) as uow:
        orders = uow.session.scalars(
            select(AmazonInvoiceUpload.amazon_order_id)
            .where(AmazonInvoiceUpload.account_id == account_id,
                   AmazonInvoiceUpload.document_type == "Invoice",
                   AmazonInvoiceUpload.status == UploadStatus.ACCEPTED)
            .order_by(AmazonInvoiceUpload.id)
            .limit(count)
        ).all()  # fmt: skip
    posted = (utcnow() - timedelta(minutes=10)).isoformat()
    for order_id in orders:
        items = httpx.get(f"{base_url}/_sandbox/orders/{order_id}").json()["items"]
        response = httpx.post(f"{base_url}/_sandbox/orders/{order_id}/refunds", json={
            "items": [{"orderItemId": items[0]["order_item_id"], "quantity": 1}],
            "postedAt": posted})  # fmt: skip
        response.raise_for_status()
    return list(orders)


def write_files(engine: Engine, folder: Path) -> tuple[int, int]:
    """Write every issued document (``documents/<number>.pdf``) and every bought label
    (``labels/<order>-<shipment>.<pdf|png|zpl>``) into ``folder``; returns how many of each."""
    documents, labels = folder / DOCUMENTS_FOLDER, folder / LABELS_FOLDER
    documents.mkdir(exist_ok=True)
    labels.mkdir(exist_ok=True)
    written_documents = written_labels = 0
    with UnitOfWork(engine) as uow:
        for number, pdf in uow.session.execute(select(Document.number, Document.pdf)):
            (documents / f"{number}.pdf").write_bytes(pdf)
            written_documents += 1
        for order, shipment, label, label_format in uow.session.execute(
            select(SalesOrder.number, Shipment.id, Shipment.label, Shipment.label_format)
            .join(SalesOrder, SalesOrder.id == Shipment.order_id)
            .order_by(Shipment.id)
        ):
            if label is None:  # shipped with a tracking number of the merchant's own
                continue
            (labels / f"{order}-{shipment}.{label_suffix(label_format)}").write_bytes(label)
            written_labels += 1
    return written_documents, written_labels


def label_suffix(label_format: str | None) -> str:
    """The file suffix of a label format (PDF, PNG, ZPL, ZPL203, ZPL300)."""
    upper = (label_format or "").upper()
    return LABEL_SUFFIXES.get(upper, "zpl" if upper.startswith("ZPL") else "bin")


def _unfinished_confirmations(engine: Engine, account_id: int) -> int:
    with UnitOfWork(engine) as uow:
        return (
            uow.session.scalar(
                select(func.count(ShipmentConfirmation.id)).where(
                    ShipmentConfirmation.account_id == account_id,
                    ShipmentConfirmation.status.in_(
                        (ConfirmationStatus.PENDING, ConfirmationStatus.SENT)
                    ),
                )
            )
            or 0
        )


def _add(total: ConfirmationReport, report: ConfirmationReport) -> None:
    total.sent += report.sent
    total.verified += report.verified
    total.failed += report.failed
    total.postponed = report.postponed  # what the last run left for later
    total.held += report.held
    total.problems.extend(report.problems)
