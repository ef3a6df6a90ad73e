"""Amazon's refunds: each one a correction invoice, uploaded as a credit note; FBM returns back
into stock for inspection.

When Amazon refunds a buyer (a return, a cancellation after shipment, a partial refund), the
merchant's invoice must be corrected by exactly what was paid back, and a business buyer gets
the credit note within one business day. One run (:class:`RefundProcessor`, per account):

1. **Read the refunds** from the Finances API (``listFinancialEvents``, refund events) from the
   account's watermark, read again two days back each time (Amazon posts some events late; a
   refund is kept once, by its order and Amazon's adjustment item ids).
2. **Correct the invoice**: the order's invoice gets a correction invoice with its own number
   that names it, per refunded item the units and the amounts Amazon paid back (item, its
   VAT, shipping, gift wrap; a refund of part of an amount without units is a line of its own)
   — so the correction equals the refund to the cent. Units of a merchant-fulfilled order go to
   the returns warehouse (:func:`~sellerbridge.services.stock.book_return`), never straight
   back to sellable stock. A refund of an order not imported yet, or not invoiced yet, waits;
   one of an order Amazon invoices itself (VCS with Amazon issuing) is Amazon's to correct; one
   that cannot be corrected (more than was invoiced, a charge sellerbridge does not know, the
   merchant's details missing) waits with the reason, alerted and tried again every run, until
   it can be or a person dismisses it (``sellerbridge amazon refunds dismiss``).
3. **Find the transaction id** a credit note is uploaded with: the refund's ``REFUND`` rows in
   Amazon's VAT invoice data report (:mod:`.vcs` keeps them), matched by order, order items and
   amount. The upload (:mod:`.uploads`) then sends it as ``CreditNote``, after the invoice.

Amazon states a refunded item's ``Principal`` with the VAT included and the VAT in ``Tax`` (as
the Orders API states prices for European marketplaces); the amounts are negative.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Engine, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.invoices import attempt
from sellerbridge.channels.amazon.invoices.uploads import uploading_fulfilments
from sellerbridge.channels.amazon.invoices.vcs import cursor_of, read_rows_if_due
from sellerbridge.channels.amazon.invoices.vidr import REFUND, VatInvoiceRow
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.channels.amazon.spapi.models.finances import (
    FinancialEvent,
    FinancialEventsPage,
)
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError, InvalidInput, NotFound
from sellerbridge.core.money import quantize
from sellerbridge.core.orders import ChargeKind
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonOrderBinding,
    AmazonRefund,
    AmazonVatRow,
    Document,
    DocumentLineRecord,
    Fulfillment,
    ImportCursor,
    RefundStatus,
    SalesOrder,
    SalesOrderLine,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import documents, stock
from sellerbridge.services.documents import Refunded
from sellerbridge.services.lookup import order_by_number

log = structlog.get_logger(__name__)

ACTOR = "amazon:refunds"
STREAM = "refunds"
REREAD = timedelta(days=2)
"""How far back each run reads again: Amazon may post an event late."""
SETTLED = timedelta(minutes=3)
"""Amazon lists events posted more than two minutes before the request."""
FIRST_LOOK = timedelta(days=30)
TRANSACTION_WAIT = timedelta(days=2)
"""How long a credit note may wait for its refund's transaction id before it is a problem."""
"""How far back the first run of an account looks."""
REASON_MAX = 500

PROMOTION = "Promotion"
"""The promotions of a refunded item, VAT included (Amazon does not state their VAT)."""
# Amazon's charge types, by the invoice line they take back.
ITEM_CHARGES = {"Principal": "gross", "Tax": "tax"}
CHARGES = {
    "ShippingCharge": (ChargeKind.SHIPPING, "gross"),
    "ShippingTax": (ChargeKind.SHIPPING, "tax"),
    "GiftWrap": (ChargeKind.GIFT_WRAP, "gross"),
    "GiftWrapTax": (ChargeKind.GIFT_WRAP, "tax"),
}


@dataclass
class RefundReport:
    new: int = 0
    corrected: list[str] = field(default_factory=list)
    """The correction invoices issued."""
    waiting: int = 0
    returned: int = 0
    """Units booked into the returns warehouse."""
    matched: int = 0
    """Credit notes whose transaction id was found."""
    problems: list[str] = field(default_factory=list)


class RefundProcessor:
    """Turns one account's Amazon refunds into correction invoices and credit notes."""

    def __init__(
        self,
        engine: Engine,
        account_id: int,
        client: SpApiClient,
        settings: documents.DocumentSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._uow = UnitOfWork(engine)
        self._account_id = account_id
        self._client = client
        self._settings = settings
        self._clock = clock
        self._sleep = sleep

    def run(self, *, read_every: timedelta) -> RefundReport:
        """Read, correct, and find transaction ids, reading Amazon's VAT invoice data report
        at most once per ``read_every`` and marketplace."""
        report = RefundReport()
        report.new = attempt(report.problems, "Amazon's refunds (Finances API)",
                             partial(self.read_refunds, every=read_every)) or 0  # fmt: skip
        self.correct(report)
        self.find_transactions(report, read_every=read_every)
        return report

    # --- 1. reading ------------------------------------------------------------------------

    def read_refunds(self, *, every: timedelta = timedelta(0)) -> int:
        """Keep the refunds Amazon posted since the watermark (unless it was read less than
        ``every`` ago); returns how many are new."""
        now = self._clock()
        with self._uow as uow:
            cursor = cursor_of(uow.session, self._account_id, STREAM)
            after = cursor.watermark - REREAD if cursor else now - FIRST_LOOK
            if cursor is not None and now - SETTLED - cursor.watermark < every:
                return 0
        before = now - SETTLED
        if before <= after:
            return 0
        new = self._keep_pages(
            lambda token: self._client.list_financial_events(after, posted_before=before,
                                                             next_token=token)
        )  # fmt: skip
        with self._uow as uow:  # the window is read: the next run starts from its end
            cursor = cursor_of(uow.session, self._account_id, STREAM)
            if cursor is None:
                cursor = ImportCursor(account_id=self._account_id, stream=STREAM, watermark=before)
                uow.session.add(cursor)
            cursor.watermark = max(cursor.watermark, before)
            uow.commit()
        return new

    def read_order(self, amazon_order_id: str) -> int:
        """Keep one order's refunds now (``listFinancialEventsByOrderId``), e.g. one Amazon
        posted a minute ago, which the listing of all events shows only later."""
        return self._keep_pages(
            lambda token: self._client.list_financial_events_by_order_id(amazon_order_id,
                                                                         next_token=token)
        )  # fmt: skip

    def _keep_pages(self, fetch: Callable[[str | None], FinancialEventsPage]) -> int:
        """Keep the refunds of every page ``fetch`` (given the page's token) reads."""
        new, token = 0, None
        while True:
            page = fetch(token)
            with self._uow as uow:
                new += sum(self._keep(uow.session, event) for event in page.refunds)
                uow.commit()
            token = page.next_token
            if token is None:
                return new

    def _keep(self, session: Session, event: FinancialEvent) -> bool:
        ids = sorted(
            item.order_adjustment_item_id or item.order_item_id or "" for item in event.items
        )
        key = hashlib.sha256(
            f"{event.amazon_order_id}|{event.posted_date.isoformat()}|{','.join(ids)}".encode()
        ).hexdigest()
        if session.scalars(
            select(AmazonRefund.id).where(AmazonRefund.account_id == self._account_id,
                                          AmazonRefund.refund_key == key)
        ).first():  # fmt: skip
            return False
        items, currency = [], ""
        gross = tax = Decimal(0)
        for item in event.items:
            amounts: dict[str, Decimal] = defaultdict(Decimal)
            for charge in item.charges:
                amounts[charge.charge_type] += -charge.amount
                currency = currency or charge.currency
                if charge.charge_type.endswith("Tax"):
                    tax += -charge.amount
                else:
                    gross += -charge.amount
            for promotion in item.promotions:  # taken back from what is refunded
                amounts[PROMOTION] += -promotion.amount
                gross += -promotion.amount
            items.append({"order_item_id": item.order_item_id, "sku": item.seller_sku,
                          "quantity": item.quantity,
                          "amounts": {k: str(v) for k, v in amounts.items()}})  # fmt: skip
        nested = session.begin_nested()
        try:
            session.add(
                AmazonRefund(
                    account_id=self._account_id, amazon_order_id=event.amazon_order_id,
                    refund_key=key, posted_at=event.posted_date, currency=currency or "EUR",
                    total_gross=gross, total_tax=tax, items=json.dumps(items),
                    status=RefundStatus.WAITING, created_at=self._clock(),
                )
            )  # fmt: skip
            nested.commit()
        except IntegrityError:  # another run kept it a moment ago
            nested.rollback()
            return False
        return True

    # --- 2. correcting ---------------------------------------------------------------------

    def correct(self, report: RefundReport) -> None:
        with self._uow as uow:
            waiting = list(
                uow.session.scalars(
                    select(AmazonRefund.id)
                    .where(AmazonRefund.account_id == self._account_id,
                           AmazonRefund.status == RefundStatus.WAITING)
                    .order_by(AmazonRefund.posted_at, AmazonRefund.id)
                )
            )  # fmt: skip
        for refund_id in waiting:
            try:
                with self._uow as uow:
                    self._correct(uow.session, refund_id, report)
                    uow.commit()
            except DomainError as problem:  # kept waiting with the reason, tried again next run
                with self._uow as uow:
                    refund = uow.session.get_one(AmazonRefund, refund_id)
                    refund.reason = str(problem)[:REASON_MAX]
                    report.problems.append(f"refund of {refund.amazon_order_id}: {problem}")
                    uow.commit()

    def _correct(self, session: Session, refund_id: int, report: RefundReport) -> None:
        refund = session.get_one(AmazonRefund, refund_id)
        binding = session.scalars(
            select(AmazonOrderBinding).where(
                AmazonOrderBinding.account_id == self._account_id,
                AmazonOrderBinding.amazon_order_id == refund.amazon_order_id,
            )
        ).first()
        if binding is None:
            refund.reason = "the order is not imported yet"
            report.waiting += 1
            return
        order = order_by_number(session, binding.order.number, for_update=True)
        if order.channel.invoices(order):
            refund.status, refund.reason = RefundStatus.AMAZON, "Amazon issues the credit note"
            return
        invoice = documents.current_invoice(session, order)
        if invoice is None:
            invoiced = exists().where(Document.order_id == order.id,
                                      Document.kind == DocumentKind.INVOICE)  # fmt: skip
            if session.scalar(select(invoiced)):
                raise DomainError(f"the invoice of order {order.number} is corrected in full "
                                  "already; Amazon refunded more")  # fmt: skip
            refund.reason = "the order has no invoice yet"
            report.waiting += 1
            return
        by_hand = session.scalars(
            select(Document.number).where(
                Document.corrects_id == invoice.id,
                ~exists().where(AmazonRefund.document_id == Document.id),
            )
        ).all()
        if by_hand:  # it may cover this refund: correcting again would credit twice
            raise DomainError(
                f"invoice {invoice.number} was corrected by hand ({', '.join(by_hand)}); if "
                "that covers this refund, `sellerbridge amazon refunds dismiss "
                f"{refund.amazon_order_id}`, else correct the rest by hand and dismiss it"
            )
        parts, returned = _refunded(order, invoice, json.loads(refund.items))
        correction = documents.issue_refund_correction(
            session, invoice.number, parts, settings=self._settings, actor=ACTOR,
            at=self._clock(),
            reason=f"Amazon refund of {refund.posted_at:%Y-%m-%d} ({refund.amazon_order_id})",
        )  # fmt: skip
        if binding.fulfillment is Fulfillment.FBM:
            for line, units in returned:
                stock.book_return(session, line, units, actor=ACTOR, at=self._clock(),
                                  reference=f"return {correction.number}")  # fmt: skip
                report.returned += units
        refund.status, refund.reason = RefundStatus.CORRECTED, None
        refund.document_id = correction.id
        report.corrected.append(correction.number)

    # --- 3. transaction ids ----------------------------------------------------------------

    def find_transactions(self, report: RefundReport, *, read_every: timedelta) -> None:
        """Give each corrected refund whose credit note is to be uploaded its transaction id
        from the REFUND rows of the VAT invoice data report, read when one is missing. One
        still without it after :data:`TRANSACTION_WAIT` is a problem: Amazon shows the report
        to sellers in its VAT Calculation Service only."""
        now = self._clock()
        with self._uow as uow:
            account = uow.session.get_one(AmazonAccount, self._account_id)
            missing = list(
                uow.session.execute(
                    select(AmazonRefund.id, AmazonOrderBinding.marketplace_id,
                           Document.number, Document.issued_at)
                    .join(AmazonOrderBinding,
                          (AmazonOrderBinding.account_id == AmazonRefund.account_id)
                          & (AmazonOrderBinding.amazon_order_id == AmazonRefund.amazon_order_id))
                    .join(Document, Document.id == AmazonRefund.document_id)
                    .where(AmazonRefund.account_id == self._account_id,
                           AmazonRefund.status == RefundStatus.CORRECTED,
                           AmazonRefund.transaction_id.is_(None),
                           AmazonOrderBinding.fulfillment.in_(uploading_fulfilments(account)))
                ).all()
            )  # fmt: skip
        for marketplace in sorted({marketplace for _, marketplace, _, _ in missing}):
            attempt(report.problems, f"Amazon's VAT invoice data of {marketplace}",
                    partial(read_rows_if_due, self._uow, self._client, self._account_id,
                            marketplace, at=now, every=read_every, sleep=self._sleep))  # fmt: skip
        for refund_id, _, number, issued_at in missing:
            with self._uow as uow:
                found = attempt(report.problems, f"the credit note {number}",
                                partial(match_transaction, uow.session,
                                        uow.session.get_one(AmazonRefund, refund_id)))  # fmt: skip
                uow.commit()
            if found:
                report.matched += 1
            elif found is not None and now - issued_at >= TRANSACTION_WAIT:
                report.problems.append(
                    f"the credit note {number} cannot be uploaded: Amazon's VAT invoice data "
                    "report shows no refund transaction that matches it (Amazon shows it to "
                    "sellers in its VAT Calculation Service); upload it in Seller Central, then "
                    "`sellerbridge amazon refunds dismiss`"
                )


def _refunded(
    order: SalesOrder, invoice: Document, items: list[dict[str, Any]]
) -> tuple[list[Refunded], list[tuple[SalesOrderLine, int]]]:
    """Per invoice line what Amazon paid back (units, amount, VAT), and the units returned.

    A refunded promotion lowers the shipping it was for when the invoice has no shipping line
    for the refunded shipping charge (free shipping), else the item; Amazon states no VAT of a
    promotion, so its VAT is worked out at that line's rate.
    """
    by_item = {line.external_reference: line for line in order.lines}
    invoiced: dict[tuple[int | None, ChargeKind | None], list[DocumentLineRecord]] = defaultdict(
        list
    )
    for invoice_line in invoice.lines:
        invoiced[(invoice_line.order_line_id, invoice_line.charge_kind)].append(invoice_line)
    parts: dict[int, Refunded] = {}
    returned = []

    def take(key: tuple[int | None, ChargeKind | None], what: str, gross: Decimal, tax: Decimal,
             units: int = 0) -> None:  # fmt: skip
        lines = invoiced.get(key)
        if not lines:
            raise DomainError(f"invoice {invoice.number} has no line for the refunded {what}")
        # A charge invoiced at two rates (shipping of a book and a toy): the line of its rate.
        rate = _rate([gross, tax])
        target = min(lines, key=lambda line: abs(line.tax_rate - rate))
        part = parts.get(target.position, Refunded(target.position, 0, Decimal(0), Decimal(0)))
        parts[target.position] = Refunded(target.position, part.quantity + units,
                                          part.gross + gross, part.tax + tax)  # fmt: skip

    for item in items:
        line = by_item.get(item["order_item_id"])
        if line is None:
            raise DomainError(f"Amazon refunded order item {item['order_item_id']}, which order "
                              f"{order.number} does not have")  # fmt: skip
        amounts = {kind: Decimal(value) for kind, value in item["amounts"].items()}
        unknown = set(amounts) - set(ITEM_CHARGES) - set(CHARGES) - {PROMOTION}
        if unknown:
            raise DomainError(
                f"Amazon's refund of order {order.number} has a charge sellerbridge does not "
                f"know: {', '.join(sorted(unknown))}; correct the invoice by hand "
                "(`sellerbridge documents correct`)"
            )
        item_key: tuple[int | None, ChargeKind | None] = (line.id, None)
        by_line: dict[tuple[int | None, ChargeKind | None], list[Decimal]] = defaultdict(
            lambda: [Decimal(0), Decimal(0)]
        )
        for charge_type, amount in amounts.items():
            if charge_type in ITEM_CHARGES:
                by_line[item_key][ITEM_CHARGES[charge_type] == "tax"] += amount
            elif charge_type in CHARGES:
                kind, what = CHARGES[charge_type]
                by_line[(None, kind)][what == "tax"] += amount
        promotion = amounts.get(PROMOTION, Decimal(0))
        if promotion:
            shipping: tuple[int | None, ChargeKind | None] = (None, ChargeKind.SHIPPING)
            key = shipping if by_line[shipping][0] and not invoiced.get(shipping) else item_key
            rate = line.tax_rate if key == item_key else _rate(by_line[key])
            by_line[key][0] += promotion
            by_line[key][1] += quantize(promotion * rate / (100 + rate), invoice.currency)
        for key, (gross, tax) in by_line.items():
            if gross or tax:
                what = line.description if key == item_key else f"{key[1]} of {line.description}"
                take(key, what, gross, tax, int(item["quantity"]) if key == item_key else 0)
        if item["quantity"]:
            returned.append((line, int(item["quantity"])))
    return [parts[position] for position in sorted(parts)], returned


def _rate(amounts: list[Decimal]) -> Decimal:
    """The VAT rate (percent) of a VAT-inclusive amount and its VAT."""
    gross, tax = amounts
    return (tax * 100 / (gross - tax)).quantize(Decimal("0.1")) if gross - tax else Decimal(0)


def match_transaction(session: Session, refund: AmazonRefund) -> bool:
    """Find the refund's transaction among the order's kept REFUND rows not taken by another
    refund: the one whose order items are the refund's and whose amount is its amount."""
    taken = select(AmazonRefund.transaction_id).where(
        AmazonRefund.account_id == refund.account_id,
        AmazonRefund.transaction_id.is_not(None),
    )
    rows = session.scalars(
        select(AmazonVatRow)
        .where(
            AmazonVatRow.account_id == refund.account_id,
            AmazonVatRow.amazon_order_id == refund.amazon_order_id,
            AmazonVatRow.transaction_type == REFUND,
            AmazonVatRow.transaction_id.not_in(taken),
        )
        .order_by(AmazonVatRow.id)
    ).all()
    by_transaction: dict[str, list[VatInvoiceRow]] = defaultdict(list)
    for row in rows:
        by_transaction[row.transaction_id].append(VatInvoiceRow.of(json.loads(row.values)))
    items = {item["order_item_id"] for item in json.loads(refund.items)}
    for transaction_id, shown in by_transaction.items():
        amount = -sum((row.money(column) for row in shown for column in TOTAL_COLUMNS), Decimal(0))
        if {row.order_item_id for row in shown} == items and amount == refund.total_gross:
            refund.transaction_id = transaction_id
            return True
    return False


TOTAL_COLUMNS = tuple(
    f"{part}-vat-incl-amount"
    for part in ("item", "item-promo", "shipping", "shipping-promo", "gift-wrap", "gift-promo")
)
"""The VAT-inclusive amounts of a VIDR row that add up to its total (M2E Pro's sum)."""


@dataclass(frozen=True)
class RefundView:
    amazon_order_id: str
    posted_at: datetime
    total_gross: Decimal
    currency: str
    status: RefundStatus
    correction: str | None
    transaction_id: str | None
    reason: str | None


def refunds(
    session: Session, account_id: int | None = None, status: RefundStatus | None = None
) -> list[RefundView]:
    """The refunds, newest first."""
    query = (
        select(AmazonRefund, Document.number)
        .outerjoin(Document, Document.id == AmazonRefund.document_id)
        .order_by(AmazonRefund.posted_at.desc(), AmazonRefund.id.desc())
    )
    if account_id is not None:
        query = query.where(AmazonRefund.account_id == account_id)
    if status is not None:
        query = query.where(AmazonRefund.status == status)
    return [
        RefundView(
            row.amazon_order_id,
            row.posted_at,
            row.total_gross,
            row.currency,
            row.status,
            number,
            row.transaction_id,
            row.reason,
        )
        for row, number in session.execute(query)
    ]


def dismiss(session: Session, amazon_order_id: str, *, reason: str) -> int:
    """A person took care of the order's waiting refunds (e.g. corrected the invoice by hand,
    or uploaded a credit note in Seller Central): they are no longer tried or alerted. Returns
    how many."""
    if not reason.strip():
        raise InvalidInput("reason", "say what was done about it", hint="Give --reason.")
    waiting = session.scalars(
        select(AmazonRefund).where(
            AmazonRefund.amazon_order_id == amazon_order_id.strip(),
            (AmazonRefund.status == RefundStatus.WAITING)
            # corrected, but its credit note cannot be uploaded without the transaction id
            | ((AmazonRefund.status == RefundStatus.CORRECTED)
               & AmazonRefund.transaction_id.is_(None)),
        )
    ).all()  # fmt: skip
    if not waiting:
        raise NotFound(
            f"Order {amazon_order_id} has no refund waiting.",
            hint="`sellerbridge amazon refunds --state waiting` lists them.",
        )
    for refund in waiting:
        refund.status = RefundStatus.DISMISSED
        refund.reason = f"dismissed: {reason.strip()}"[:REASON_MAX]
    return len(waiting)
