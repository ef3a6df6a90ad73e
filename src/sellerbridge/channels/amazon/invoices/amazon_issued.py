"""Invoices Amazon issued (VCS with Amazon issuing), recorded for the books.

Under the invoice mode ``vcs_amazon`` (:class:`~sellerbridge.db.models.InvoiceMode`) Amazon
issues the invoices of a channel's orders in the seller's name and sellerbridge issues none.
The books still need them: Amazon lists each in the Amazon VAT Calculation Report,
``SC_VAT_TAX_REPORT`` — comma-separated, one row per item of a shipment (or refund), with
Amazon's invoice number, its link and the VAT-inclusive amounts and VAT of the item, its
shipping and gift wrap (promotions as negative amounts). Its document holds personal data and
is read with a Restricted Data Token. A shipment shows about three days after it left.

One run (:func:`record_amazon_invoices`, per account):

1. **Plan** per marketplace where a fulfilment channel is in mode ``vcs_amazon``: read from
   the latest of the channel's start (``channel_invoices_from``), 90 days ago (what is fetched
   at all; older invoices are in Seller Central) and the point the last run read up to less
   :data:`OVERLAP` — Amazon shows a shipment about three days after it left, so the days just
   before that point were not complete yet; reading an invoice twice is harmless — up to now,
   in windows of at most :data:`WINDOW` (Amazon reads whole days and documents no limit; the
   sandbox allows 31 days). The point is an import cursor per marketplace, moved with each
   window's records in one transaction: a run that stops resumes after the last window read,
   and a marketplace without sales is not read back 90 days every time.
2. **Fetch** each window's report and poll it: a report Amazon cancels has no data; a FATAL
   one (or one not done in half an hour) is a :class:`DomainError` saying what to
   check, and stops the run; what was recorded before it stays.
3. **Record** one row per Amazon invoice: the report's rows aggregated per (transaction,
   invoice number), linked to the imported order by its binding. The invoice number is unique
   per account, so a second run (or two at once) records nothing twice. A refund's credit
   note (``REFUND``) is recorded the same way, its totals negative as the report states them.
   A record whose order is not imported yet is linked by a later run, once it is.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import structlog
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.reports import report_content
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonChannel,
    AmazonMarketplace,
    AmazonOrderBinding,
    AmazonVatInvoice,
    Fulfillment,
    ImportCursor,
    InvoiceMode,
    SalesChannel,
    SalesOrder,
)
from sellerbridge.db.sql import insert_if_absent
from sellerbridge.db.uow import UnitOfWork

log = structlog.get_logger(__name__)

REPORT_TYPE = "SC_VAT_TAX_REPORT"
# The marketplaces Amazon offers the report on (SP-API's tax report type values).
REPORT_MARKETPLACES = frozenset(
    {
        "A1PA6795UKMFR9",  # DE
        "A1RKKUPIHCS9HS",  # ES
        "APJ6JRA9NG5V4",  # IT
        "A13V1IB3VIYZZH",  # FR
        "A1805IZSGTT6HS",  # NL
        "A2NODRKZP88ZB9",  # SE
        "A1C3SOZRARQ6R3",  # PL
        "AMEN7PMS3EDWL",  # BE
        "A1F83G8C2ARO7P",  # UK
    }
)
KEPT = timedelta(days=90)
OVERLAP = timedelta(days=10)
STREAM = "amazon-vat-invoices:"
"""The import cursor of a marketplace is this and its id."""
WINDOW = timedelta(days=30)
CHARGES = ("OUR_PRICE", "SHIPPING", "GIFTWRAP")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


@dataclass(frozen=True)
class Window:
    """One report to read: a marketplace's days from ``start`` to ``end``."""

    marketplace_id: str
    start: datetime
    end: datetime


@dataclass
class RecordReport:
    new: int = 0
    """Amazon invoices recorded by this run."""
    known: int = 0
    """Invoices in the reports that were recorded before."""
    not_imported: set[str] = field(default_factory=set)
    """Amazon order ids of invoices recorded without their order (it is not imported)."""
    linked: int = 0
    """Earlier records linked to their order, imported since."""
    reports: int = 0
    skipped_marketplaces: list[str] = field(default_factory=list)
    """Marketplaces in mode vcs_amazon where Amazon offers no VAT calculation report."""
    seen: set[str] = field(default_factory=set)
    """The invoice numbers this run read: windows share their boundary day, and an invoice
    read twice in one run is counted once."""


@dataclass(frozen=True)
class AmazonInvoiceRecord:
    """One of Amazon's invoices as the report shows it, its rows added up."""

    amazon_order_id: str
    shipment_id: str
    transaction_type: str
    transaction_id: str
    invoice_number: str
    total_gross: Decimal
    total_tax: Decimal
    currency: str
    invoice_url: str | None
    issued_at: datetime | None
    shipped_at: datetime | None


def record_amazon_invoices(
    engine: Engine,
    account_id: int,
    client: SpApiClient,
    *,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    on_window: Callable[[Window, int, int], None] | None = None,
) -> RecordReport:
    """Record the invoices Amazon issued for the account's ``vcs_amazon`` channels (see the
    module docstring). ``on_window(window, index, count)`` is told before each report."""
    uow = UnitOfWork(engine)
    report = RecordReport()
    now = clock()
    with uow:
        windows, report.skipped_marketplaces = plan_windows(uow.session, account_id, now)
    for index, window in enumerate(windows):
        if on_window is not None:
            on_window(window, index, len(windows))
        records = read_amazon_invoices(client, window, sleep=sleep)
        report.reports += 1
        with uow:
            _record(uow.session, account_id, window.marketplace_id, records, now, report)
            _read_up_to(uow.session, account_id, window)
            uow.commit()
    with uow:
        report.linked = link_imported_orders(uow.session, account_id)
        uow.commit()
    log.info("amazon invoices recorded", account=account_id, new=report.new, known=report.known,
             not_imported=len(report.not_imported), reports=report.reports)  # fmt: skip
    return report


# --- planning ------------------------------------------------------------------------------


def plan_windows(
    session: Session, account_id: int, now: datetime
) -> tuple[list[Window], list[str]]:
    """The reports to read, and the ``vcs_amazon`` marketplaces Amazon has none for."""
    account = session.get_one(AmazonAccount, account_id)
    modes = {Fulfillment.FBM: account.invoice_mode_fbm, Fulfillment.FBA: account.invoice_mode_fba}
    amazon_issuing = [f for f, mode in modes.items() if mode is InvoiceMode.VCS_AMAZON]
    if not amazon_issuing:
        return [], []
    starts = session.execute(
        select(AmazonChannel.marketplace_id, func.min(SalesChannel.channel_invoices_from))
        .join(SalesChannel, SalesChannel.id == AmazonChannel.channel_id)
        .join(
            AmazonMarketplace,
            (AmazonMarketplace.account_id == AmazonChannel.account_id)
            & (AmazonMarketplace.marketplace_id == AmazonChannel.marketplace_id),
        )
        .where(
            AmazonChannel.account_id == account_id,
            AmazonChannel.fulfillment.in_(amazon_issuing),
            SalesChannel.channel_invoices_from.is_not(None),
            AmazonMarketplace.import_enabled.is_(True),
        )
        .group_by(AmazonChannel.marketplace_id)
        .order_by(AmazonChannel.marketplace_id)
    ).all()
    read_up_to = dict(
        session.execute(
            select(ImportCursor.stream, ImportCursor.watermark).where(
                ImportCursor.account_id == account_id, ImportCursor.stream.startswith(STREAM)
            )
        ).all()
    )
    windows: list[Window] = []
    skipped: list[str] = []
    for marketplace_id, channel_start in starts:
        if marketplace_id not in REPORT_MARKETPLACES:
            skipped.append(marketplace_id)
            continue
        assert channel_start is not None  # channels without a start are not selected
        start = max(channel_start, now - KEPT)
        last = read_up_to.get(_stream(marketplace_id))
        if last is not None:
            start = max(start, last - OVERLAP)
        windows.extend(_windows(marketplace_id, start, now))
    return windows, skipped


def _stream(marketplace_id: str) -> str:
    return f"{STREAM}{marketplace_id}"


def _windows(marketplace_id: str, start: datetime, end: datetime) -> Iterator[Window]:
    while start < end:
        stop = min(start + WINDOW, end)
        yield Window(marketplace_id, start, stop)
        start = stop


# --- reading the report --------------------------------------------------------------------


def read_amazon_invoices(
    client: SpApiClient, window: Window, *, sleep: Callable[[float], None] = time.sleep
) -> list[AmazonInvoiceRecord]:
    """Amazon's invoices in the VAT calculation report of one window."""
    report_id = client.create_report(
        REPORT_TYPE, [window.marketplace_id], data_start_time=window.start, data_end_time=window.end
    )
    content = report_content(
        client, report_id, restricted=True, sleep=sleep,
        fatal=lambda: DomainError(
            f"Amazon could not produce its VAT calculation report {report_id} "
            f"({REPORT_TYPE}, {window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}).",
            hint="Amazon makes it for sellers enrolled in its VAT Calculation Service with "
            "Amazon issuing the invoices: check that setting in Seller Central (Tax "
            "settings), then run `sellerbridge amazon vat-invoices --fetch` again.",
        ),
    )  # fmt: skip
    return aggregate(parse_rows(content)) if content is not None else []


def parse_rows(content: bytes) -> list[dict[str, str]]:
    """The report's rows by column name (comma-separated; a tab-separated file is read too)."""
    text = content.decode("utf-8-sig")
    header = text.partition("\n")[0]
    delimiter = "\t" if "\t" in header and "," not in header else ","
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def aggregate(rows: Iterable[dict[str, str]]) -> list[AmazonInvoiceRecord]:
    """One record per (transaction, invoice number); rows without Amazon's number (a
    transaction Amazon did not invoice) are left out."""
    grouped: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        number = (row.get("VAT Invoice Number") or "").strip()
        if not number:
            continue
        transaction = (row.get("Transaction ID") or row.get("Shipment ID") or "").strip()
        grouped.setdefault((transaction, number), []).append(row)
    records = []
    for (transaction, number), lines in grouped.items():
        first = lines[0]
        shipped = _day(first.get("Shipment Date"))
        records.append(
            AmazonInvoiceRecord(
                amazon_order_id=first.get("Order ID", "").strip(),
                shipment_id=(first.get("Shipment ID") or "").strip(),
                transaction_type=(first.get("Transaction Type") or "").strip().upper(),
                transaction_id=transaction,
                invoice_number=number,
                total_gross=_sum(lines, ("Tax Inclusive Selling Price",
                                         "Tax Inclusive Promo Amount")),
                total_tax=_sum(lines, ("Tax Amount", "Tax Amount Promo")),
                currency=(first.get("Currency") or "").strip(),
                invoice_url=(first.get("Invoice Url") or "").strip() or None,
                issued_at=_day(first.get("Tax Calculation Date")) or shipped,
                shipped_at=shipped,
            )
        )  # fmt: skip
    return records


def _sum(lines: list[dict[str, str]], columns: tuple[str, str]) -> Decimal:
    total = Decimal(0)
    for line in lines:
        for charge in CHARGES:
            for column in columns:
                value = (line.get(f"{charge} {column}") or "").strip()
                if not value:
                    continue
                try:
                    total += Decimal(value)
                except InvalidOperation:
                    raise DomainError(
                        f"Amazon's VAT calculation report has {value!r} as "
                        f"{charge} {column} of invoice {line.get('VAT Invoice Number')}.",
                        hint="Nothing of that report was recorded; the next run reads it again.",
                    ) from None
    return total


def _day(text: str | None) -> datetime | None:
    """A date of the report (``28-Aug-2026 UTC``, also with a time, or ISO 8601) in UTC."""
    value = (text or "").strip().removesuffix(" UTC")
    if not value:
        return None
    parts = value.split(" ")[0].split("-")
    if len(parts) == 3 and parts[1][:3].lower() in _MONTHS:
        day, month, year = parts
        try:
            return datetime(int(year), _MONTHS[month[:3].lower()], int(day), tzinfo=UTC)
        except ValueError:
            return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# --- recording -----------------------------------------------------------------------------


def _record(
    session: Session,
    account_id: int,
    marketplace_id: str,
    records: list[AmazonInvoiceRecord],
    now: datetime,
    report: RecordReport,
) -> None:
    if not records:
        return
    numbers = [record.invoice_number for record in records]
    known = set(
        session.scalars(
            select(AmazonVatInvoice.invoice_number).where(
                AmazonVatInvoice.account_id == account_id,
                AmazonVatInvoice.invoice_number.in_(numbers),
            )
        )
    )
    orders = dict(
        session.execute(
            select(AmazonOrderBinding.amazon_order_id, AmazonOrderBinding.order_id).where(
                AmazonOrderBinding.account_id == account_id,
                AmazonOrderBinding.marketplace_id == marketplace_id,
                AmazonOrderBinding.amazon_order_id.in_({r.amazon_order_id for r in records}),
            )
        ).all()
    )
    for record in records:
        if record.invoice_number in report.seen:
            continue
        report.seen.add(record.invoice_number)
        if record.invoice_number in known:
            report.known += 1
            continue
        order_id = orders.get(record.amazon_order_id)
        insert_if_absent(
            session,
            AmazonVatInvoice,
            {
                "account_id": account_id,
                "marketplace_id": marketplace_id,
                "amazon_order_id": record.amazon_order_id,
                "order_id": order_id,
                "shipment_id": record.shipment_id,
                "transaction_type": record.transaction_type,
                "transaction_id": record.transaction_id,
                "invoice_number": record.invoice_number,
                "total_gross": record.total_gross,
                "total_tax": record.total_tax,
                "currency": record.currency,
                "invoice_url": record.invoice_url,
                "issued_at": record.issued_at,
                "shipped_at": record.shipped_at,
                "recorded_at": now,
            },
        )
        report.new += 1
        if order_id is None:
            report.not_imported.add(record.amazon_order_id)


def _read_up_to(session: Session, account_id: int, window: Window) -> None:
    stream = _stream(window.marketplace_id)
    cursor = session.scalars(
        select(ImportCursor).where(ImportCursor.account_id == account_id,
                                   ImportCursor.stream == stream)
    ).one_or_none()  # fmt: skip
    if cursor is None:
        session.add(ImportCursor(account_id=account_id, stream=stream, watermark=window.end))
    else:
        cursor.watermark = max(cursor.watermark, window.end)


def link_imported_orders(session: Session, account_id: int) -> int:
    """Link the account's records whose order was imported after they were recorded."""
    bound = (
        select(AmazonOrderBinding.order_id)
        .where(
            AmazonOrderBinding.account_id == AmazonVatInvoice.account_id,
            AmazonOrderBinding.marketplace_id == AmazonVatInvoice.marketplace_id,
            AmazonOrderBinding.amazon_order_id == AmazonVatInvoice.amazon_order_id,
        )
        .scalar_subquery()
    )
    unlinked = (AmazonVatInvoice.account_id == account_id) & AmazonVatInvoice.order_id.is_(None)
    result = session.execute(
        update(AmazonVatInvoice)
        .where(unlinked, bound.is_not(None))
        .values(order_id=bound)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- listing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AmazonInvoiceView:
    invoice_number: str
    order: str | None
    """The ERP order number (None: the order is not imported)."""
    amazon_order_id: str
    transaction_type: str
    total_gross: Decimal
    total_tax: Decimal
    currency: str
    issued_at: datetime | None
    invoice_url: str | None


def amazon_invoices(
    session: Session, account_id: int | None = None, order: str | None = None
) -> list[AmazonInvoiceView]:
    """The recorded Amazon invoices, newest first; ``order`` is an order number or an Amazon
    order id."""
    query = (
        select(AmazonVatInvoice, SalesOrder.number)
        .outerjoin(SalesOrder, SalesOrder.id == AmazonVatInvoice.order_id)
        .order_by(AmazonVatInvoice.issued_at.desc(), AmazonVatInvoice.id.desc())
    )
    if account_id is not None:
        query = query.where(AmazonVatInvoice.account_id == account_id)
    if order is not None:
        query = query.where(
            (SalesOrder.number == order) | (AmazonVatInvoice.amazon_order_id == order)
        )
    return [
        AmazonInvoiceView(
            row.invoice_number,
            number,
            row.amazon_order_id,
            row.transaction_type,
            row.total_gross,
            row.total_tax,
            row.currency,
            row.issued_at,
            row.invoice_url,
        )
        for row, number in session.execute(query)
    ]
