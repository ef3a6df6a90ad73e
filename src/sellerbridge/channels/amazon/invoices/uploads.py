"""Invoices to Amazon: each invoice of an Amazon order uploaded once (``UPLOAD_VAT_INVOICE``).

Amazon measures sellers on invoices for business buyers within one business day of shipment,
and shows an uploaded invoice to the buyer in their account. An account uploads the invoices of
a fulfilment channel whose invoice mode is *own invoices uploaded* or *VCS with own invoices*
(:class:`~sellerbridge.db.models.InvoiceMode`), from ``invoice_upload_from`` on.

One run (:meth:`InvoiceUploader.run`, per account, under the caller's lock):

1. **Queue** the invoices that are due: an FBA order's at once (Amazon shipped it); an FBM
   order's once every shipment confirmation of the order is verified at Amazon — an invoice
   uploaded before the shipment is dispatched is rejected — or ``invoice_upload_after_days``
   after it was issued, whichever comes first. One row per document: the unique key is the
   document, so no document is ever queued twice.
2. **Read results** of submitted feeds: the processing report says accepted, or rejected with
   Amazon's code and reason (``sellerbridge amazon uploads`` shows it; ``retry`` sends it again
   after the cause is fixed). A feed Amazon ends FATAL was not processed: it goes again.
3. **Settle unknown ones** from Amazon's VAT invoice data report (:mod:`.vidr`), once
   ``invoice_upload_unknown_wait_minutes`` have passed since they were sent (longer than Amazon
   takes to process a feed): an order whose shipments show our invoice number as uploaded is
   accepted; one whose shipments all still wait for an invoice did not get it, and it goes
   again; one the report does not show stays unknown for a person.
4. **Send** the pending ones, one feed each: the exact PDF that was issued, with its metadata
   (order id, invoice number, VAT-inclusive total, VAT) in ``feedOptions``. A row is claimed
   (*sending*) before ``createFeed``; a lost answer, or a run that died while sending, leaves
   it *unknown* with an alert — never sent again before step 3 has looked, because a second
   upload of the same invoice is exactly what must not happen. The operator can settle one
   with ``retry`` (send) or ``accept``.

A correction invoice made from an Amazon refund (:mod:`.refunds`) goes as a ``CreditNote``
with the refund's transaction id, once that id is known and the invoice it corrects was
accepted (Amazon takes a credit note only for an invoice it has).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import chain
from xml.etree import ElementTree as ET

import structlog
from sqlalchemy import Engine, Select, exists, insert, null, select
from sqlalchemy.orm import Session, aliased

from sellerbridge.channels.amazon.invoices.vidr import (
    SHIPMENT,
    UPLOADED_STATUSES,
    VatInvoiceRow,
    read_vat_invoice_report,
)
from sellerbridge.channels.amazon.spapi import (
    AmbiguousError,
    AuthError,
    RejectedError,
    SpApiClient,
    SpApiError,
)
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError, NotFound
from sellerbridge.core.orders import OrderState
from sellerbridge.db.bulk import execute_batched
from sellerbridge.db.locks import exclusive
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonInvoiceUpload,
    AmazonOrderBinding,
    AmazonRefund,
    ConfirmationStatus,
    Document,
    Fulfillment,
    InvoiceMode,
    SalesOrder,
    Severity,
    ShipmentConfirmation,
    UploadStatus,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.alerts import raise_alert, resolve_alerts

log = structlog.get_logger(__name__)

FEED_TYPE = "UPLOAD_VAT_INVOICE"
PDF = "application/pdf"
ALERT = "amazon_invoice_upload"
LOCK = "invoice-upload"
UPLOADING = frozenset({InvoiceMode.UPLOAD, InvoiceMode.VCS_OWN})
REASON_MAX = 500


@dataclass
class UploadReport:
    queued: int = 0
    sent: int = 0
    accepted: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    """(document number, Amazon's reason)."""
    unknown: list[str] = field(default_factory=list)
    """Document numbers whose upload may or may not have reached Amazon."""
    waiting: int = 0
    """Feeds Amazon is still processing."""


class InvoiceUploader:
    """Uploads one account's due invoices to Amazon and reads the results."""

    def __init__(
        self,
        engine: Engine,
        account_id: int,
        client: SpApiClient,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._uow = UnitOfWork(engine)
        self._account_id = account_id
        self._client = client
        self._settings = settings
        self._clock = clock
        with self._uow as uow:
            self._name = uow.session.get_one(AmazonAccount, account_id).name

    def run(self) -> UploadReport:
        """One run under the account's upload lock (raises ``LockTaken`` while another runs:
        two runs must never send the same invoice)."""
        with exclusive(self._engine, f"{LOCK}:{self._account_id}"):
            return self._run()

    def _run(self) -> UploadReport:
        report = UploadReport()
        with self._uow as uow:
            after = timedelta(days=self._settings.invoice_upload_after_days)
            report.queued = queue_uploads(uow.session, self._account_id, at=self._clock(),
                                          after=after)  # fmt: skip
            report.unknown += self._interrupted(uow)
            uow.commit()
        self._read_results(report)
        self._settle_unknown(report)
        self._send_pending(report)
        self._alert(report)
        return report

    # --- sending -------------------------------------------------------------------------------

    def _send_pending(self, report: UploadReport) -> None:
        with self._uow as uow:
            pending = list(
                uow.session.scalars(
                    select(AmazonInvoiceUpload.id)
                    .where(
                        AmazonInvoiceUpload.account_id == self._account_id,
                        AmazonInvoiceUpload.status == UploadStatus.PENDING,
                    )
                    .order_by(AmazonInvoiceUpload.id)
                )
            )
        for upload_id in pending:
            self._send(upload_id, report)

    def _send(self, upload_id: int, report: UploadReport) -> None:
        with self._uow as uow:
            upload = uow.session.get_one(AmazonInvoiceUpload, upload_id)
            document = uow.session.get_one(Document, upload.document_id)
            pdf, number = document.pdf, document.number
            marketplace = upload.marketplace_id
            options = {
                "metadata:OrderId": upload.amazon_order_id,
                "metadata:InvoiceNumber": number,
                "metadata:DocumentType": upload.document_type,
                "metadata:TotalAmount": _amount(document.total_gross),
                "metadata:TotalVATAmount": _amount(document.total_tax),
            }
            if upload.transaction_id:
                options["metadata:TransactionId"] = upload.transaction_id
        try:
            file = self._client.create_feed_document(PDF)
            self._client.upload_document(file.url, pdf, PDF)
        except AuthError:
            raise
        except SpApiError as error:  # nothing was submitted: it stays pending
            log.info("invoice upload postponed", document=number, error=str(error))
            return
        with self._uow as uow:  # the claim: from here on, Amazon may have it
            upload = uow.session.get_one(AmazonInvoiceUpload, upload_id)
            upload.status, upload.sent_at = UploadStatus.SENDING, self._clock()
            upload.attempts += 1
            uow.commit()
        outcome, feed_id, reason = UploadStatus.SUBMITTED, None, None
        try:
            feed_id = self._client.create_feed(FEED_TYPE, [marketplace], file.feed_document_id,
                                               options)  # fmt: skip
        except AmbiguousError as error:
            outcome, reason = UploadStatus.UNKNOWN, f"Amazon may have it: {error}"
            report.unknown.append(number)
        except RejectedError as error:
            outcome, reason = UploadStatus.REJECTED, str(error)
            report.rejected.append((number, reason))
        except AuthError:
            self._set(upload_id, UploadStatus.PENDING, None, None)  # refused before sending
            raise
        except SpApiError:  # throttled or unreachable before it was sent: it stays pending
            outcome = UploadStatus.PENDING
        self._set(upload_id, outcome, feed_id, reason)
        report.sent += outcome is UploadStatus.SUBMITTED

    # --- results -------------------------------------------------------------------------------

    def _read_results(self, report: UploadReport) -> None:
        with self._uow as uow:
            submitted = list(
                uow.session.execute(
                    select(AmazonInvoiceUpload.id, AmazonInvoiceUpload.feed_id, Document.number)
                    .join(Document, Document.id == AmazonInvoiceUpload.document_id)
                    .where(
                        AmazonInvoiceUpload.account_id == self._account_id,
                        AmazonInvoiceUpload.status == UploadStatus.SUBMITTED,
                    )
                    .order_by(AmazonInvoiceUpload.id)
                )
            )
        for upload_id, feed_id, number in submitted:
            assert feed_id is not None  # a submitted upload has its feed
            try:
                feed = self._client.get_feed(feed_id)
                status = str(feed.processing_status)
                if status in ("IN_QUEUE", "IN_PROGRESS"):
                    report.waiting += 1
                    continue
                if status != "DONE" or feed.result_feed_document_id is None:
                    # Not processed: safe to send again.
                    self._set(upload_id, UploadStatus.PENDING, None, f"Amazon ended it {status}")
                    continue
                location = self._client.get_feed_document(feed.result_feed_document_id)
                rejection = processing_error(self._client.download_document(location))
            except ET.ParseError:  # its fate is in the VAT invoice data report instead
                self._set(upload_id, UploadStatus.UNKNOWN, None,
                          "Amazon's processing report could not be read")  # fmt: skip
                report.unknown.append(number)
                continue
            except AuthError:
                raise
            except SpApiError as error:
                log.info("invoice upload result not read yet", feed=feed_id, error=str(error))
                report.waiting += 1
                continue
            if rejection is None:
                self._set(upload_id, UploadStatus.ACCEPTED, feed_id, None)
                report.accepted += 1
            else:
                self._set(upload_id, UploadStatus.REJECTED, feed_id, rejection)
                report.rejected.append((number, rejection))

    def _settle_unknown(self, report: UploadReport) -> None:
        now = self._clock()
        wait = timedelta(minutes=self._settings.invoice_upload_unknown_wait_minutes)
        with self._uow as uow:
            unknown = list(
                uow.session.execute(
                    select(AmazonInvoiceUpload.id, AmazonInvoiceUpload.marketplace_id,
                           AmazonInvoiceUpload.amazon_order_id, AmazonInvoiceUpload.transaction_id,
                           Document.number)
                    .join(Document, Document.id == AmazonInvoiceUpload.document_id)
                    .where(
                        AmazonInvoiceUpload.account_id == self._account_id,
                        AmazonInvoiceUpload.status == UploadStatus.UNKNOWN,
                        AmazonInvoiceUpload.sent_at <= now - wait,
                    )
                )
            )  # fmt: skip
        shown: dict[str, dict[str, list[VatInvoiceRow]]] = {}
        for upload_id, marketplace, order_id, transaction_id, number in unknown:
            if marketplace not in shown:
                try:
                    rows = read_vat_invoice_report(self._client, marketplace, until=now)
                except AuthError:
                    raise
                except (SpApiError, DomainError) as error:
                    log.info("VAT invoice data report not read", error=str(error))
                    return
                shown[marketplace] = defaultdict(list)
                for row in rows:
                    shown[marketplace][row.order_id].append(row)
            rows = [  # a credit note's refund rows, else the shipments' rows
                r for r in shown[marketplace].get(order_id, [])
                if (r.transaction_id == transaction_id if transaction_id
                    else r.transaction_type == SHIPMENT)
            ]  # fmt: skip
            if any(r.invoice_status in UPLOADED_STATUSES and r.invoice_number == number
                   for r in rows):  # fmt: skip
                self._set(upload_id, UploadStatus.ACCEPTED, None, None)
                report.accepted += 1
                report.unknown = [n for n in report.unknown if n != number]
            elif rows and all(r.invoice_status not in UPLOADED_STATUSES for r in rows):
                self._set(upload_id, UploadStatus.PENDING, None, None)  # Amazon never got it
                report.unknown = [n for n in report.unknown if n != number]

    # --- recording -----------------------------------------------------------------------------

    def _interrupted(self, uow: UnitOfWork) -> list[str]:
        """Rows a dead run left *sending* (only a run holding the lock sends): unknown."""
        stuck = list(
            uow.session.execute(
                select(AmazonInvoiceUpload, Document.number)
                .join(Document, Document.id == AmazonInvoiceUpload.document_id)
                .where(
                    AmazonInvoiceUpload.account_id == self._account_id,
                    AmazonInvoiceUpload.status == UploadStatus.SENDING,
                )
            )
        )
        for upload, _ in stuck:
            upload.status = UploadStatus.UNKNOWN
            upload.reason = "a run stopped while sending it: Amazon may have it"
        return [number for _, number in stuck]

    def _set(
        self, upload_id: int, status: UploadStatus, feed_id: str | None, reason: str | None
    ) -> None:
        with self._uow as uow:
            upload = uow.session.get_one(AmazonInvoiceUpload, upload_id)
            upload.status, upload.reason = status, reason[:REASON_MAX] if reason else None
            if feed_id is not None:
                upload.feed_id = feed_id
            if status in (UploadStatus.ACCEPTED, UploadStatus.REJECTED):
                upload.finished_at = self._clock()
            uow.commit()

    def _alert(self, report: UploadReport) -> None:
        problems = [f"{n} (Amazon may have it)" for n in report.unknown] + [
            f"{n}: {why}" for n, why in report.rejected
        ]
        with self._uow as uow:
            if problems:
                raise_alert(
                    uow.session, kind=ALERT, severity=Severity.ERROR, subject=self._name,
                    at=self._clock(),
                    message=f"{len(problems)} invoice upload(s) of account {self._name} need a "
                    f"look; the first: {problems[0]}. `sellerbridge amazon uploads` lists them.",
                )  # fmt: skip
            elif report.accepted and not uow.session.scalar(
                select(
                    exists().where(
                        AmazonInvoiceUpload.account_id == self._account_id,
                        AmazonInvoiceUpload.status.in_(
                            (UploadStatus.REJECTED, UploadStatus.UNKNOWN)
                        ),
                    )
                )
            ):  # resolved once none needs a look any more
                resolve_alerts(uow.session, kind=ALERT, subject=self._name, at=self._clock())
            uow.commit()


def uploading_fulfilments(account: AmazonAccount) -> list[Fulfillment]:
    """The fulfilment channels whose documents the account uploads. Under VCS with Amazon
    issuing, the ones sellerbridge issued before the switch (for the orders placed before it)
    still go, if uploads were on (they have a start)."""
    uploading = UPLOADING | (
        {InvoiceMode.VCS_AMAZON} if account.invoice_upload_from is not None else set()
    )
    return [
        fulfillment
        for fulfillment, mode in (
            (Fulfillment.FBM, account.invoice_mode_fbm),
            (Fulfillment.FBA, account.invoice_mode_fba),
        )
        if mode in uploading
    ]


def queue_uploads(session: Session, account_id: int, *, at: datetime, after: timedelta) -> int:
    """Queue the account's invoices that are due to be uploaded (see the module docstring)."""
    account = session.get_one(AmazonAccount, account_id)
    channels = uploading_fulfilments(account)
    if not channels:
        return 0
    of_order = (ShipmentConfirmation.account_id == AmazonOrderBinding.account_id) & (
        ShipmentConfirmation.amazon_order_id == AmazonOrderBinding.amazon_order_id
    )
    unconfirmed = exists().where(
        of_order, ShipmentConfirmation.status != ConfirmationStatus.VERIFIED
    )
    # All of it shipped and Amazon shows every package: the invoice covers what Amazon has.
    all_out = SalesOrder.state.in_((OrderState.SHIPPED, OrderState.COMPLETED))
    shipped = all_out & ~unconfirmed
    query = (
        select(Document.id, AmazonOrderBinding.marketplace_id, AmazonOrderBinding.amazon_order_id)
        .join(AmazonOrderBinding, AmazonOrderBinding.order_id == Document.order_id)
        .join(SalesOrder, SalesOrder.id == Document.order_id)
        .where(
            AmazonOrderBinding.account_id == account_id,
            AmazonOrderBinding.fulfillment.in_(channels),
            Document.kind == DocumentKind.INVOICE,
            ~exists().where(AmazonInvoiceUpload.document_id == Document.id),
            (AmazonOrderBinding.fulfillment == Fulfillment.FBA)
            | shipped
            # the fallback for a confirmation Amazon does not show (the parcel left all the same)
            | (all_out & (Document.issued_at <= at - after)),
        )
    )
    if account.invoice_upload_from is not None:
        query = query.where(Document.issued_at >= account.invoice_upload_from)
    invoice_upload = aliased(AmazonInvoiceUpload)
    credit_notes = (
        select(Document.id, AmazonOrderBinding.marketplace_id, AmazonOrderBinding.amazon_order_id,
               AmazonRefund.transaction_id)
        .join(AmazonRefund, AmazonRefund.document_id == Document.id)
        .join(AmazonOrderBinding, AmazonOrderBinding.order_id == Document.order_id)
        .where(
            AmazonOrderBinding.account_id == account_id,
            AmazonOrderBinding.fulfillment.in_(channels),
            AmazonRefund.transaction_id.is_not(None),
            ~exists().where(AmazonInvoiceUpload.document_id == Document.id),
            exists().where(invoice_upload.document_id == Document.corrects_id,
                           invoice_upload.status == UploadStatus.ACCEPTED),
        )
    )  # fmt: skip
    return execute_batched(
        session,
        insert(AmazonInvoiceUpload),
        (
            {
                "account_id": account_id,
                "document_id": document_id,
                "marketplace_id": marketplace,
                "amazon_order_id": order_id,
                "document_type": "CreditNote" if transaction_id else "Invoice",
                "transaction_id": transaction_id,
                "status": UploadStatus.PENDING,
                "created_at": at,
            }
            for document_id, marketplace, order_id, transaction_id in chain(
                session.execute(query.add_columns(null())), session.execute(credit_notes)
            )
        ),
    )


def processing_error(report: bytes) -> str | None:
    """The rejection in an ``UPLOAD_VAT_INVOICE`` processing report (Amazon's XML
    ``ProcessingReport``), as "code: description"; None when the invoice was accepted."""
    # Amazon's answer over TLS; ElementTree resolves no external entities and expat (>= 2.4)
    # stops entity-expansion bombs.
    root = ET.fromstring(report)  # noqa: S314
    errors = root.findtext(".//ProcessingSummary/MessagesWithError", default="0").strip()
    if errors in ("", "0"):
        return None
    result = root.find(".//Result")
    if result is None:
        return "Amazon rejected it without a reason"
    code = result.findtext("ResultMessageCode", default="").strip()
    description = result.findtext("ResultDescription", default="").strip()
    return f"{code}: {description}" if code else description or "rejected"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class UploadView:
    number: str
    order: str
    amazon_order_id: str
    status: UploadStatus
    attempts: int
    reason: str | None
    feed_id: str | None
    document_type: str
    transaction_id: str | None
    sent_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, upload: AmazonInvoiceUpload, number: str, order: str) -> UploadView:
        return cls(number, order, upload.amazon_order_id, upload.status, upload.attempts,
                   upload.reason, upload.feed_id, upload.document_type, upload.transaction_id,
                   upload.sent_at, upload.finished_at)  # fmt: skip


def _with_numbers() -> Select[AmazonInvoiceUpload, str, str]:
    return (
        select(AmazonInvoiceUpload, Document.number, SalesOrder.number)
        .join(Document, Document.id == AmazonInvoiceUpload.document_id)
        .join(SalesOrder, SalesOrder.id == Document.order_id)
    )


def uploads(
    session: Session, account_id: int | None = None, status: UploadStatus | None = None
) -> list[UploadView]:
    """The uploads, newest first."""
    query = _with_numbers().order_by(AmazonInvoiceUpload.id.desc())
    if account_id is not None:
        query = query.where(AmazonInvoiceUpload.account_id == account_id)
    if status is not None:
        query = query.where(AmazonInvoiceUpload.status == status)
    return [
        UploadView.of(upload, number, order) for upload, number, order in session.execute(query)
    ]


def upload_of(session: Session, number: str) -> UploadView:
    """The upload of invoice or correction invoice ``number``."""
    return UploadView.of(*_upload_row(session, number))


def _upload_row(session: Session, number: str) -> tuple[AmazonInvoiceUpload, str, str]:
    row = session.execute(_with_numbers().where(Document.number == number.strip())).first()
    if row is None:
        raise NotFound(f"{number} has no upload to Amazon.",
                       hint="`sellerbridge amazon uploads` lists them.")  # fmt: skip
    upload, document, order = row
    return upload, document, order


def settle(session: Session, number: str, *, accepted: bool) -> UploadView:
    """After the cause is fixed: send a rejected (or unknown) upload again; or, for an unknown
    one Seller Central shows as uploaded, record it accepted."""
    upload, number, order = _upload_row(session, number)
    allowed = {UploadStatus.UNKNOWN} if accepted else {UploadStatus.REJECTED, UploadStatus.UNKNOWN}
    if upload.status not in allowed:
        raise DomainError(
            f"The upload of {number} is {upload.status.value}; only "
            f"{' or '.join(sorted(s.value for s in allowed))} ones can be "
            f"{'marked accepted' if accepted else 'sent again'}."
        )
    upload.status = UploadStatus.ACCEPTED if accepted else UploadStatus.PENDING
    upload.reason = "accepted by hand (shown in Seller Central)" if accepted else None
    return UploadView.of(upload, number, order)
