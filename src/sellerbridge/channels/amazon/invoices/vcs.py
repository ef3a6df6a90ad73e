"""VCS with own invoices: each invoice issued from Amazon's VAT calculation, then uploaded.

Under Amazon's VAT Calculation Service the VAT of an order is Amazon's: its rates, its amounts
to the cent and the legal text to print (e.g. for a tax-free intra-community supply). A seller
who issues the invoices themselves ("option 2") reads them from the VAT invoice data report
(:mod:`.vidr`, pending rows, at least twice a day — Amazon's advice) and uploads each invoice;
Amazon rejects one whose totals differ from its own.

One run (:func:`read_vat_rows`, then :func:`issue_vcs_invoices`):

1. **Keep the rows.** Every row is one order item in one shipment or refund. It is stored once,
   by its transaction and order item; its hash (:attr:`~.vidr.VatInvoiceRow.row_hash`) says
   whether Amazon's figures changed since. A changed row replaces the stored one while no
   invoice was made from it; after that the change is an alert, never a silent second invoice.
2. **Issue the invoices** of the orders whose channel is invoiced from Amazon's VAT calculation
   (:meth:`SalesChannel.reports_vat`): once the order has shipped and Amazon's rows cover every
   unit of it, one invoice with each line's VAT-inclusive amount, VAT and rate exactly as
   Amazon's rows (summed over the order's shipments, promotions included), shipping and gift
   wrap per rate, and Amazon's legal text in the invoice's language. The upload then follows
   the usual way (:mod:`.uploads`).

REFUND rows are kept too: they give the transaction id a credit note is uploaded with
(:mod:`.refunds`).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import structlog
from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.invoices.vidr import (
    SHIPMENT,
    VatInvoiceRow,
    read_vat_invoice_report,
)
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError
from sellerbridge.core.orders import ChargeKind, OrderState
from sellerbridge.db.models import (
    AmazonOrderBinding,
    AmazonVatRow,
    Document,
    ImportCursor,
    SalesChannel,
    SalesOrder,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import documents
from sellerbridge.services.documents import ChannelVat, StatedAmounts
from sellerbridge.services.lookup import order_by_number

log = structlog.get_logger(__name__)

ACTOR = "amazon:vcs"
REPORTED_WITHIN = timedelta(days=5)
"""How long after the order a shipped order's VAT calculation may take to show."""
STREAM = "vat-invoice-data"
"""The cursor stream (per marketplace) that remembers when its rows were last read."""
CITATIONS = {"de": "citation-de", "en": "citation-en", "fr": "citation-fr", "it": "citation-it",
             "es": "citation-es"}  # fmt: skip


@dataclass
class RowsRead:
    new: int = 0
    changed: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class VcsReport:
    issued: list[str] = field(default_factory=list)
    """The invoice numbers issued from Amazon's VAT calculation."""
    waiting: int = 0
    """Orders whose rows do not cover every unit yet, or that have not shipped."""
    problems: list[str] = field(default_factory=list)


def read_vat_rows(
    uow: UnitOfWork, client: SpApiClient, account_id: int, marketplace_id: str, *, at: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> RowsRead:  # fmt: skip
    """Read a marketplace's pending VIDR rows and keep what is new or changed."""
    rows = read_vat_invoice_report(client, marketplace_id, pending=True, sleep=sleep)
    with uow:
        read = store_rows(uow.session, account_id, marketplace_id, rows, at=at)
        uow.commit()
    return read


def read_rows_if_due(
    uow: UnitOfWork, client: SpApiClient, account_id: int, marketplace_id: str, *,
    at: datetime, every: timedelta, sleep: Callable[[float], None] | None = None,
) -> RowsRead | None:  # fmt: skip
    """:func:`read_vat_rows`, unless the marketplace's rows were read less than ``every`` ago
    (the report takes Amazon a while; twice a day is Amazon's minimum); None when not due."""
    stream = f"{STREAM}:{marketplace_id}"
    if not due(uow, account_id, stream, at=at, every=every):
        return None
    done(uow, account_id, stream, at=at)  # asked once per interval, even if Amazon fails
    return read_vat_rows(uow, client, account_id, marketplace_id, at=at,
                         **({"sleep": sleep} if sleep else {}))  # fmt: skip


def due(uow: UnitOfWork, account_id: int, stream: str, *, at: datetime, every: timedelta) -> bool:
    """Whether the account's ``stream`` was last read ``every`` or longer before ``at``."""
    with uow:
        cursor = cursor_of(uow.session, account_id, stream)
        return cursor is None or at - cursor.watermark >= every


def done(uow: UnitOfWork, account_id: int, stream: str, *, at: datetime) -> None:
    """Remember that the account's ``stream`` was read at ``at``."""
    with uow:
        cursor = cursor_of(uow.session, account_id, stream)
        if cursor is None:
            uow.session.add(ImportCursor(account_id=account_id, stream=stream, watermark=at))
        else:
            cursor.watermark = at
        uow.commit()


def cursor_of(session: Session, account_id: int, stream: str) -> ImportCursor | None:
    return session.scalars(
        select(ImportCursor).where(ImportCursor.account_id == account_id,
                                   ImportCursor.stream == stream)
    ).first()  # fmt: skip


KEPT_COLUMNS = frozenset({
    "marketplace-id", "order-id", "order-item-id", "shipping-id", "transaction-id",
    "transaction-type", "invoice-number", "invoice-status", "invoice-status-description",
    "is-amazon-invoiced", "order-date", "shipment-date", "asin", "sku", "quantity-purchased",
    "currency", "fulfilled-by", "export-outside-eu", "is-invoice-corrected",
    "original-vat-invoice-number",
})  # fmt: skip


def kept(values: Mapping[str, str]) -> dict[str, str]:
    """What of a row is kept: ids, quantities, Amazon's amounts, rates and legal texts — never
    the buyer's name, addresses, phone or VAT number, which the report carries too."""
    return {
        name: value
        for name, value in values.items()
        if name in KEPT_COLUMNS
        or name.startswith("citation-")
        or ("-vat-" in name and name.endswith(("-amount", "-rate")))
    }


def store_rows(
    session: Session, account_id: int, marketplace_id: str, rows: Iterable[VatInvoiceRow],
    *, at: datetime,
) -> RowsRead:  # fmt: skip
    read = RowsRead()
    for shown in rows:
        row = VatInvoiceRow.of(kept(shown.values))
        if not (row.order_id and row.transaction_id and row.order_item_id):
            read.problems.append(f"a row of order {row.order_id or '?'} names no transaction "
                                 "or order item; it was skipped")  # fmt: skip
            continue
        stored = session.scalars(
            select(AmazonVatRow).where(
                AmazonVatRow.account_id == account_id,
                AmazonVatRow.transaction_id == row.transaction_id,
                AmazonVatRow.order_item_id == row.order_item_id,
            )
        ).first()
        if stored is None:
            session.add(
                AmazonVatRow(
                    account_id=account_id, marketplace_id=marketplace_id,
                    amazon_order_id=row.order_id, transaction_type=row.transaction_type,
                    transaction_id=row.transaction_id, shipping_id=row.shipping_id,
                    order_item_id=row.order_item_id, row_hash=row.row_hash,
                    values=json.dumps(dict(row.values)), seen_at=at,
                )
            )  # fmt: skip
            read.new += 1
        elif stored.row_hash != row.row_hash:
            if stored.document_id is not None:
                read.problems.append(
                    f"Amazon changed its VAT calculation of order {row.order_id} (transaction "
                    f"{row.transaction_id}) after an invoice was issued from it; check it and "
                    "issue a correction invoice if it is needed"
                )
                continue
            stored.row_hash, stored.values, stored.seen_at = (
                row.row_hash, json.dumps(dict(row.values)), at
            )  # fmt: skip
            read.changed += 1
    session.flush()
    return read


def issue_vcs_invoices(
    uow: UnitOfWork, account_id: int, settings: documents.DocumentSettings, *, at: datetime
) -> VcsReport:
    """Issue the invoices Amazon's kept rows make due (see the module docstring)."""
    report = VcsReport()
    with uow:
        candidates = _candidates(uow.session, account_id)
        unreported = _unreported(uow.session, account_id, before=at - REPORTED_WITHIN)
    if unreported:
        report.problems.append(
            f"{len(unreported)} shipped order(s) placed more than "
            f"{REPORTED_WITHIN.days} days ago have no VAT calculation in Amazon's VAT invoice "
            f"data (the first: {unreported[0]}), so they have no invoice: check that Amazon's "
            "VAT Calculation Service is on for their marketplace in Seller Central"
        )
    for number, amazon_order_id in candidates:
        try:
            with uow:
                issued = _issue(uow.session, number, amazon_order_id, account_id, settings, at)
                uow.commit()
        except DomainError as problem:
            report.problems.append(f"{number}: {problem}")
            continue
        if issued is None:
            report.waiting += 1
        else:
            report.issued.append(issued)
    return report


def _vcs_orders(account_id: int) -> Select[str, str]:
    """The account's orders invoiced from Amazon's VAT calculation: number, Amazon order id."""
    return (
        select(SalesOrder.number, AmazonOrderBinding.amazon_order_id)
        .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
        .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
        .where(
            AmazonOrderBinding.account_id == account_id,
            SalesChannel.vat_data_from.is_not(None),
            SalesOrder.ordered_at >= SalesChannel.vat_data_from,
        )
        .order_by(SalesOrder.id)
    )


def _candidates(session: Session, account_id: int) -> list[tuple[str, str]]:
    """Those with shipment rows no invoice was made from."""
    query = _vcs_orders(account_id).where(
        AmazonOrderBinding.amazon_order_id.in_(
            select(AmazonVatRow.amazon_order_id).where(
                AmazonVatRow.account_id == account_id,
                AmazonVatRow.transaction_type == SHIPMENT,
                AmazonVatRow.document_id.is_(None),
            )
        )
    )
    return [(number, amazon_order_id) for number, amazon_order_id in session.execute(query)]


def _unreported(session: Session, account_id: int, *, before: datetime) -> list[str]:
    """Those placed before ``before`` and shipped, without an invoice, of which Amazon has
    reported no shipment."""
    query = _vcs_orders(account_id).where(
        SalesOrder.ordered_at < before,
        SalesOrder.state.in_((OrderState.SHIPPED, OrderState.COMPLETED)),
        ~exists().where(
            AmazonVatRow.account_id == account_id,
            AmazonVatRow.amazon_order_id == AmazonOrderBinding.amazon_order_id,
            AmazonVatRow.transaction_type == SHIPMENT,
        ),
        ~exists().where(Document.order_id == SalesOrder.id, Document.kind == DocumentKind.INVOICE),
    )
    return [number for number, _ in session.execute(query)]


def _issue(
    session: Session,
    number: str,
    amazon_order_id: str,
    account_id: int,
    settings: documents.DocumentSettings,
    at: datetime,
) -> str | None:
    """Issue the order's invoice from its rows, or None while they do not cover it yet."""
    rows = list(
        session.scalars(
            select(AmazonVatRow).where(
                AmazonVatRow.account_id == account_id,
                AmazonVatRow.amazon_order_id == amazon_order_id,
                AmazonVatRow.transaction_type == SHIPMENT,
            )
        )
    )
    order = order_by_number(session, number, for_update=True)
    existing = documents.current_invoice(session, order)
    if existing is not None:  # issued before (by hand, or before the switch): it stands
        for row in rows:
            row.document_id = row.document_id or existing.id
        return None
    if order.state not in (OrderState.SHIPPED, OrderState.COMPLETED):
        return None
    parsed = [VatInvoiceRow.of(json.loads(row.values)) for row in rows]
    units: dict[str, int] = defaultdict(int)
    for shown in parsed:
        units[shown.order_item_id] += int(shown.values.get("quantity-purchased") or 0)
    if any(units.get(line.external_reference or "", 0) < line.quantity for line in order.lines):
        return None  # Amazon has not reported every shipment of it yet
    invoice = documents.issue_invoice(session, number, settings=settings, actor=ACTOR, at=at,
                                      channel_vat=channel_vat(order, parsed))  # fmt: skip
    for row in rows:
        row.document_id = invoice.id
    log.info("invoice issued from Amazon's VAT calculation", order=number, invoice=invoice.number)
    return invoice.number


def channel_vat(order: SalesOrder, rows: list[VatInvoiceRow]) -> ChannelVat:
    """The order's VAT as Amazon's rows state it: per order item, and shipping and gift wrap
    per rate, each summed over the item's shipments with its promotions."""
    by_item: dict[str, list[VatInvoiceRow]] = defaultdict(list)
    for row in rows:
        by_item[row.order_item_id].append(row)
    lines = {}
    for line in order.lines:
        item_rows = by_item.get(line.external_reference or "", [])
        lines[line.id] = _stated(item_rows, "item", "item-promo")
    charges: dict[tuple[ChargeKind, Decimal], list[StatedAmounts]] = defaultdict(list)
    for row in rows:
        for kind, part, promo in ((ChargeKind.SHIPPING, "shipping", "shipping-promo"),
                                  (ChargeKind.GIFT_WRAP, "gift-wrap", "gift-promo")):  # fmt: skip
            stated = _stated([row], part, promo)
            if stated.gross or stated.tax:
                charges[(kind, stated.tax_rate)].append(stated)
    notes = {
        language: text
        for language, column in CITATIONS.items()
        if (text := next((r.values.get(column, "").strip() for r in rows
                          if r.values.get(column, "").strip()), ""))
    }  # fmt: skip
    return ChannelVat(
        lines=lines,
        charges=[(kind, _sum(rate, parts)) for (kind, rate), parts in charges.items()],
        legal_notes=notes,
    )


def _stated(rows: list[VatInvoiceRow], part: str, promo: str) -> StatedAmounts:
    """The VAT-inclusive amount and VAT of ``part`` less its promotion, over ``rows``; the net
    is their difference, so that net and VAT add up to Amazon's amount to the cent."""
    gross = tax = rate = Decimal(0)
    for row in rows:
        gross += row.money(f"{part}-vat-incl-amount") + row.money(f"{promo}-vat-incl-amount")
        tax += row.money(f"{part}-vat-amount") + row.money(f"{promo}-vat-amount")
        rate = percent(row.money(f"{part}-vat-rate"))
    return StatedAmounts(rate, gross - tax, tax, gross)


def _sum(rate: Decimal, parts: list[StatedAmounts]) -> StatedAmounts:
    return StatedAmounts(rate, sum((p.net for p in parts), Decimal(0)),
                         sum((p.tax for p in parts), Decimal(0)),
                         sum((p.gross for p in parts), Decimal(0)))  # fmt: skip


def percent(rate: Decimal) -> Decimal:
    """Amazon's rate (a fraction, ``0.19``) as a percentage (``19``, ``5.5``); one given in
    percent stays."""
    value = rate * 100 if rate < 1 else rate
    whole = value.quantize(Decimal(1))
    return whole if value == whole else value.quantize(Decimal("0.01"))
