"""Automatic dispatch (Xentral's "Autoversand"): released orders leave the warehouse by themselves.

:func:`dispatch` takes the released orders the merchant ships (not FBA), the most urgent ship-by
date first, and for each, in a transaction of its own: issues the delivery note and the invoice
(unless they exist) and — when a label buyer is given — buys the label and ships everything in
one parcel, which queues the Amazon shipment confirmation with the label's carrier and tracking
number. Without a label buyer the documents are prepared and the order waits for its tracking
number (`sellerbridge ship`, `sellerbridge import-tracking` from the carrier's tool): Amazon is
never told of a parcel without one. An order that cannot go (no label service fits, the
merchant's details are incomplete) is left released and reported; the others are not held up
by it. Buying a label talks to the carrier, so it happens before the transaction: a
transaction that fails afterwards leaves a bought label unused, named in the report.

With ``partial`` (the ``partial_shipments`` setting, Teillieferung) an open order is released
as soon as some of its stock is reserved, and a parcel takes what is there: its own delivery
note lists the parcel, the invoice (issued with the first parcel) the whole order. A partially
shipped order with a label source goes again when more of its stock arrives; one without waits
for `sellerbridge ship` as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, exists, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    AmazonOrderBinding,
    Document,
    SalesChannel,
    SalesOrder,
    SalesOrderLine,
    Severity,
    StockReservation,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import documents, orders, queries, stock
from sellerbridge.services.alerts import raise_alert
from sellerbridge.services.shipping import LATE_ALERT, Package, ship

LabelBuyer = Callable[[str], Package | None]
"""Buys a label for the order ``number`` and returns the parcel (carrier, tracking, label), or
None when it has no label source for that order (it then waits for its tracking number). Only
Amazon orders are offered to it again once their documents exist."""


@dataclass
class DispatchReport:
    released: list[str] = field(default_factory=list)  # open orders whose stock was complete
    shipped: list[str] = field(default_factory=list)
    prepared: list[str] = field(default_factory=list)  # documents issued, waiting for tracking
    failed: list[tuple[str, str]] = field(default_factory=list)  # (order, why)


def dispatch(
    engine: Engine,
    document_settings: documents.DocumentSettings,
    *,
    actor: str,
    at: datetime,
    batch_size: int = 100,
    buy_label: LabelBuyer | None = None,
    on_order: Callable[[str], None] | None = None,
    partial: bool = False,
) -> DispatchReport:
    """Release the open orders whose stock is complete (``partial``: present in part), then
    dispatch up to ``batch_size`` orders; see the module docstring. Orders past their ship-by
    date get an alert."""
    uow = UnitOfWork(engine)
    report = DispatchReport(released=release_ready_orders(engine, actor=actor, partial=partial))
    labelled = exists().where(AmazonOrderBinding.order_id == SalesOrder.id)
    with uow:
        numbers = list(
            uow.session.scalars(
                select(SalesOrder.number)
                .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
                .where(
                    SalesChannel.fulfilled_externally.is_(False),
                    or_(
                        and_(
                            SalesOrder.state == OrderState.RELEASED,
                            # An order whose documents are ready and that gets no label here
                            # waits for its tracking number; taking it again would only fill
                            # the batch.
                            or_(
                                ~exists().where(
                                    Document.order_id == SalesOrder.id,
                                    Document.kind == DocumentKind.DELIVERY_NOTE,
                                ),
                                labelled if buy_label else false(),
                            ),
                        ),
                        and_(
                            SalesOrder.state == OrderState.PARTIALLY_SHIPPED,
                            labelled,
                            _has_reserved_stock(),
                        )
                        if partial and buy_label
                        else false(),
                    ),
                )
                .order_by(SalesOrder.ship_by.is_(None), SalesOrder.ship_by, SalesOrder.id)
                .limit(batch_size)
            )
        )
    for number in numbers:
        package: Package | None = None
        try:
            package = buy_label(number) if buy_label else None
            with uow:
                _dispatch_one(uow, number, package, document_settings, actor=actor, at=at)
                uow.commit()
        except DomainError as problem:
            bought = " (a label was bought for it and not used)" if package else ""
            report.failed.append((number, f"{problem}{bought}"))
        else:
            (report.shipped if package else report.prepared).append(number)
        if on_order is not None:
            on_order(number)
    _alert_late_orders(uow, at)
    return report


def _has_reserved_stock() -> ColumnElement[bool]:
    """The order has stock reserved for it (units that can ship now)."""
    return (
        exists()
        .where(
            SalesOrderLine.order_id == SalesOrder.id,
            StockReservation.order_line_id == SalesOrderLine.id,
            StockReservation.reserved > 0,
        )
        .correlate(SalesOrder)
    )


def release_ready_orders(engine: Engine, *, actor: str, partial: bool = False) -> list[str]:
    """Release every open order the merchant ships whose stock is all reserved (``partial``:
    some of it). No holds: an order on hold is not open."""
    uow = UnitOfWork(engine)
    complete = ~exists().where(
        SalesOrderLine.order_id == SalesOrder.id,
        StockReservation.order_line_id == SalesOrderLine.id,
        StockReservation.reserved < StockReservation.wanted,
    ).correlate(SalesOrder)
    with uow:
        ready = list(
            uow.session.scalars(
                select(SalesOrder.number)
                .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
                .where(
                    SalesOrder.state == OrderState.OPEN,
                    SalesChannel.fulfilled_externally.is_(False),
                    or_(complete, _has_reserved_stock()) if partial else complete,
                )
                .order_by(SalesOrder.id)
            )
        )
    released = []
    for number in ready:
        try:
            state = orders.release_order(uow, number, actor=actor, partial=partial)
            if state is OrderState.RELEASED:
                released.append(number)
        except DomainError:
            continue  # it changed meanwhile (stock counted away): it waits for the next run
    return released


def _alert_late_orders(uow: UnitOfWork, at: datetime) -> None:
    """One alert per order past its ship-by date; :func:`~.shipping.ship` resolves it."""
    with uow:
        for order in queries.due_orders(uow.session, at):
            raise_alert(
                uow.session, kind=LATE_ALERT, severity=Severity.WARNING, subject=order.number,
                at=at, message=f"Order {order.number} ({order.state.label}) should have shipped "
                f"by {order.ship_by:%Y-%m-%d %H:%M} UTC: late shipments count against the "
                "seller's account health.",
            )  # fmt: skip
        uow.commit()


def _dispatch_one(
    uow: UnitOfWork,
    number: str,
    package: Package | None,
    document_settings: documents.DocumentSettings,
    *,
    actor: str,
    at: datetime,
) -> None:
    session = uow.session
    # Stock rows, then the order: the lock order of every use case (docs/architecture.md).
    order = stock.lock_order_with_stock(session, number)
    if order.state not in (OrderState.RELEASED, OrderState.PARTIALLY_SHIPPED):
        raise DomainError(f"Order {number} is {order.state.label} now; it was left alone.")
    kinds = {document.kind for document in documents.documents_of(session, number)}
    follow_up = package is not None and order.state is OrderState.PARTIALLY_SHIPPED
    if DocumentKind.DELIVERY_NOTE not in kinds or follow_up:
        ready = {line.position: units for line in order.lines if (units := stock.ready_units(line))}
        contents = dict(package.lines) if package and package.lines is not None else ready
        whole = not follow_up and contents == {
            line.position: line.quantity - line.shipped_quantity for line in order.lines
        }
        documents.issue_delivery_note(session, number, settings=document_settings, actor=actor,
                                      at=at, quantities=None if whole else contents)  # fmt: skip
    channel = order.channel
    if (
        documents.current_invoice(session, order) is None
        and not channel.invoices(order)
        and not channel.reports_vat(order)  # invoiced once Amazon reports its VAT
    ):
        documents.issue_invoice(session, number, settings=document_settings, actor=actor, at=at)
    if package is not None:
        ship(session, number, [package], actor=actor, at=at)
