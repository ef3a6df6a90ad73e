"""Stock use cases: receive, adjust and transfer stock; reserve, release and ship it for orders.

Every change goes through :func:`book_movement` or the reservation functions below, which
apply the rules of :mod:`sellerbridge.core.stock` to the stock level row after locking it.
The lock matters: without it two orders taken at the same moment could both reserve the last
unit. On PostgreSQL it is a row lock (``SELECT ... FOR UPDATE``); on SQLite every write
transaction holds the database's write lock from its start (see :mod:`sellerbridge.db.engine`).

Lock order, so that two transactions never wait for each other: stock level rows first, in
the order of their keys, then orders. Reservations change only while their stock level row is
locked, so a transaction holding those locks sees them as they are. A use case that changes an
order and its stock therefore locks the order's stock first (:func:`lock_order_with_stock`).

Stock that arrives or is set free goes to the orders waiting for it, oldest order first;
stock found missing is taken from the newest orders first, so the oldest keep theirs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from sellerbridge.core import stock as rules
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError, InsufficientStock, InvalidInput
from sellerbridge.core.orders import OrderState
from sellerbridge.core.stock import REASON_MAX, REFERENCE_MAX, MovementKind
from sellerbridge.core.text import clean_text, required_text
from sellerbridge.core.warehouses import WarehouseKind, check_bookable_by_hand
from sellerbridge.db.models import (
    Article,
    SalesOrder,
    SalesOrderLine,
    StockLevelRecord,
    StockMovement,
    StockReservation,
    Warehouse,
)
from sellerbridge.db.sql import insert_if_absent
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.events import change_state, record_event
from sellerbridge.services.lookup import article_by_number, order_by_number, warehouse_by_code

# Orders that hold on to reservations and wait for stock: everything not finished.
RESERVING_STATES = (
    OrderState.ON_HOLD,
    OrderState.OPEN,
    OrderState.RELEASED,
    OrderState.PARTIALLY_SHIPPED,
)


# --- building blocks, inside the caller's transaction -------------------------------------


_LOCKED_LEVELS = "sellerbridge.locked_stock_levels"
"""``session.info`` key of the levels locked in the session's current transaction."""


@event.listens_for(Session, "after_transaction_end")
def _forget_locked_levels(session: Session, transaction: SessionTransaction) -> None:
    # The database transaction ended, or a savepoint (whose rollback gives back its locks);
    # not the internal subtransaction of every flush.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_LOCKED_LEVELS, None)


def lock_level(session: Session, article: Article, warehouse: Warehouse) -> StockLevelRecord:
    """The stock level row of ``article`` in ``warehouse``, created if missing, and locked.

    A row locked once stays locked until the transaction ends, and only this transaction can
    change it meanwhile: asking again returns it without another query (a bulk import asks
    for the same few articles hundreds of times).
    """
    locked: dict[tuple[int, int], StockLevelRecord] = session.info.setdefault(_LOCKED_LEVELS, {})
    key = (article.id, warehouse.id)
    if key in locked:
        return locked[key]
    query = (
        select(StockLevelRecord)
        .where(
            StockLevelRecord.article_id == article.id,
            StockLevelRecord.warehouse_id == warehouse.id,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    level = session.scalars(query).first()
    if level is None:
        insert_if_absent(
            session,
            StockLevelRecord,
            {
                "article_id": article.id,
                "warehouse_id": warehouse.id,
                "on_hand": 0,
                "reserved": 0,
                "updated_at": utcnow(),
            },
        )
        level = session.scalars(query).one()
    locked[key] = level
    return level


def _core_level(level: StockLevelRecord) -> rules.StockLevel:
    return rules.StockLevel(on_hand=level.on_hand, reserved=level.reserved)


def book_movement(
    session: Session,
    *,
    article: Article,
    warehouse: Warehouse,
    kind: MovementKind,
    quantity: int,
    actor: str,
    reason: str | None = None,
    reference: str | None = None,
    at: datetime | None = None,
) -> StockLevelRecord:
    """Append one movement to the ledger; return the stock level it changed."""
    if not article.stock_tracked:
        raise DomainError(
            f"{article.number} is not stock-tracked, so it has no stock to book.",
            hint="Bundles follow their components; untracked articles are always available.",
        )
    at = at or utcnow()
    level = lock_level(session, article, warehouse)
    effect = rules.apply_movement(
        _core_level(level),
        kind,
        quantity,
        allow_backorder=article.allow_backorder,
        article=article.number,
    )
    movement = StockMovement(
        at=at,
        article=article,
        warehouse=warehouse,
        kind=kind,
        quantity=quantity,
        reason=reason,
        reference=reference,
        actor=actor,
    )
    session.add(movement)
    level.on_hand = effect.level.on_hand
    if effect.reservations_to_withdraw:
        _withdraw(session, article, level, effect.reservations_to_withdraw, actor=actor, at=at)
    if quantity > 0:
        _allocate_waiting(session, article, level, actor=actor, at=at)
    return level


@dataclass(frozen=True)
class _Need:
    article: Article
    quantity: int


def _needs(line: SalesOrderLine, quantity: int) -> list[_Need]:
    """The stock-tracked articles ``quantity`` units of ``line`` take (components for bundles)."""
    return [] if line.article is None else _article_needs(line.article, quantity)


def _article_needs(article: Article, quantity: int) -> list[_Need]:
    if article.is_bundle:
        return [
            _Need(part.component, part.quantity * quantity)
            for part in article.components
            if part.component.stock_tracked
        ]
    return [_Need(article, quantity)] if article.stock_tracked else []


def ready_units(line: SalesOrderLine) -> int:
    """The units of ``line`` still to ship whose stock is reserved (every open unit of an
    article without tracked stock; for a bundle, the units all its components are there for)."""
    reserved = {reservation.article_id: reservation.reserved for reservation in line.reservations}
    return min(
        [
            line.quantity - line.shipped_quantity,
            *(reserved.get(need.article.id, 0) // need.quantity for need in _needs(line, 1)),
        ]
    )


def reserve_order(session: Session, order: SalesOrder, *, actor: str, at: datetime) -> None:
    """Create the reservations of every line and reserve what is available now.

    A line that cannot get all of its stock keeps waiting; stock that arrives later goes to it
    in order-date order.
    """
    reserve_lines(session, order, order.lines, actor=actor, at=at)


def reserve_lines(
    session: Session,
    order: SalesOrder,
    lines: Sequence[SalesOrderLine],
    *,
    actor: str,
    at: datetime,
) -> None:
    """Reserve stock for ``lines`` of ``order`` that have none yet (e.g. once their SKU is
    mapped to an article)."""
    needs = [
        (line, need)
        for line in lines
        if not line.reservations
        for need in _needs(line, line.quantity)
    ]
    levels = _lock_levels(session, (need.article for _, need in needs), order.warehouse)
    taken: list[str] = []
    for line, need in needs:
        level = levels[need.article.id]
        allow_backorder = need.article.allow_backorder
        take = rules.reservable(_core_level(level), need.quantity, allow_backorder=allow_backorder)
        level.reserved = rules.reserve(
            _core_level(level), take, allow_backorder=allow_backorder, article=need.article.number
        ).reserved
        line.reservations.append(
            StockReservation(
                article=need.article,
                warehouse=order.warehouse,
                wanted=need.quantity,
                reserved=take,
                created_at=at,
            )
        )
        if take:
            taken.append(f"{take} × {need.article.number}")
    if taken:
        message = f"Reserved {', '.join(taken)} in {order.warehouse.code}."
        record_event(order, "stock_reserved", message, actor=actor, at=at)


def lock_order_with_stock(session: Session, number: str) -> SalesOrder:
    """Lock the stock rows of order ``number``'s reservations, then the order; return it fresh.

    The set of articles an order reserves is fixed when the order is created, so reading it
    before taking the locks is safe; everything else is read again once they are held.
    """
    order = order_by_number(session, number)
    articles = [reservation.article for line in order.lines for reservation in line.reservations]
    _lock_levels(session, articles, order.warehouse)
    session.expire_all()
    return order_by_number(session, number, for_update=True)


def release_reservations(session: Session, order: SalesOrder, *, actor: str, at: datetime) -> None:
    """Give back every reservation of ``order``; waiting orders get the stock set free.

    The caller holds the locks of :func:`lock_order_with_stock`.
    """
    reservations = [r for line in order.lines for r in line.reservations]
    articles = [r.article for r in reservations]
    levels = _lock_levels(session, articles, order.warehouse)
    for line in order.lines:
        for reservation in list(line.reservations):
            level = levels[reservation.article_id]
            level.reserved = rules.release(_core_level(level), reservation.reserved).reserved
            line.reservations.remove(reservation)
    session.flush()
    for article in {article.id: article for article in articles}.values():
        _allocate_waiting(session, article, levels[article.id], actor=actor, at=at)


def ship_line(
    session: Session,
    line: SalesOrderLine,
    quantity: int,
    *,
    actor: str,
    reference: str,
    at: datetime,
) -> None:
    """Book ``quantity`` units of ``line`` out of the warehouse, using its reservations."""
    if not 0 < quantity <= line.quantity - line.shipped_quantity:
        raise InvalidInput(
            "quantity",
            f"cannot ship {quantity} of line {line.position}; "
            f"{line.quantity - line.shipped_quantity} are still to ship",
        )
    order = line.order
    needs = _needs(line, quantity)
    levels = _lock_levels(session, (need.article for need in needs), order.warehouse)
    by_article = {reservation.article_id: reservation for reservation in line.reservations}
    for need in needs:
        level = levels[need.article.id]
        reservation = by_article.get(need.article.id)
        if reservation is None or reservation.reserved < need.quantity:
            reserved = 0 if reservation is None else reservation.reserved
            raise InsufficientStock(
                f"{need.article.number}: cannot ship {need.quantity} for order {order.number}; "
                f"only {reserved} are reserved for it.",
                hint="Wait for the stock to arrive, or receive it first.",
            )
        shipped = rules.ship_reserved(
            _core_level(level), need.quantity, article=need.article.number
        )
        level.on_hand, level.reserved = shipped.on_hand, shipped.reserved
        reservation.reserved -= need.quantity
        reservation.wanted -= need.quantity
        if reservation.wanted == 0:
            line.reservations.remove(reservation)
        session.add(
            StockMovement(
                at=at,
                article=need.article,
                warehouse=order.warehouse,
                kind=MovementKind.SHIPMENT,
                quantity=-need.quantity,
                reference=reference,
                actor=actor,
            )
        )
    line.shipped_quantity += quantity


def book_channel_shipment(session: Session, order: SalesOrder, *, actor: str, at: datetime) -> None:
    """Book out of the channel's own warehouse (Amazon FBA) the units the channel shipped for
    ``order`` — for the articles whose stock is tracked there, i.e. that have a stock level in
    it (the FBA inventory import makes them); others are left alone.

    Never below zero: the warehouse mirrors the channel's own figures, which may already count
    the sale, and its next inventory import sets them again.
    """
    needs = [need for line in order.lines for need in _needs(line, line.quantity)]
    tracked = set(
        session.scalars(
            select(StockLevelRecord.article_id).where(
                StockLevelRecord.warehouse_id == order.warehouse.id,
                StockLevelRecord.article_id.in_({need.article.id for need in needs}),
            )
        )
    )
    if not tracked:
        return
    levels = _lock_levels(
        session, (need.article for need in needs if need.article.id in tracked), order.warehouse
    )
    for need in needs:
        level = levels.get(need.article.id)
        if level is None or level.on_hand <= 0:
            continue
        quantity = min(need.quantity, level.on_hand)
        level.on_hand -= quantity
        session.add(
            StockMovement(
                at=at,
                article=need.article,
                warehouse=order.warehouse,
                kind=MovementKind.SHIPMENT,
                quantity=-quantity,
                reason=f"Shipped by {order.channel.name}.",
                reference=order.number,
                actor=actor,
            )
        )


def lock_stock(session: Session, articles: Iterable[Article], warehouse: Warehouse) -> None:
    """Lock the stock levels ``articles`` take in ``warehouse`` (a bundle's: its components')
    up front, in key order, for a transaction that books many orders of them."""
    _lock_levels(
        session, (need.article for a in articles for need in _article_needs(a, 1)), warehouse
    )


def _lock_levels(
    session: Session, articles: Iterable[Article], warehouse: Warehouse
) -> dict[int, StockLevelRecord]:
    """Lock the levels of ``articles`` in ``warehouse`` in key order (no deadlocks).

    The rows not locked yet in this transaction are locked with one query (in key order, like
    one at a time); :func:`lock_level` then finds them locked, or creates those still missing.
    """
    unique = {article.id: article for article in articles}
    locked: dict[tuple[int, int], StockLevelRecord] = session.info.setdefault(_LOCKED_LEVELS, {})
    wanted = sorted(key for key in unique if (key, warehouse.id) not in locked)
    if len(wanted) > 1:
        query = (
            select(StockLevelRecord)
            .where(
                StockLevelRecord.article_id.in_(wanted),
                StockLevelRecord.warehouse_id == warehouse.id,
            )
            .order_by(StockLevelRecord.article_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for level in session.scalars(query):
            locked[(level.article_id, level.warehouse_id)] = level
    return {
        article_id: lock_level(session, unique[article_id], warehouse)
        for article_id in sorted(unique)
    }


def _reservations_by_age(
    session: Session, article: Article, level: StockLevelRecord, *, newest_first: bool
) -> list[StockReservation]:
    order_age = (
        (SalesOrder.ordered_at.desc(), SalesOrder.id.desc())
        if newest_first
        else (
            SalesOrder.ordered_at,
            SalesOrder.id,
        )
    )
    query = (
        select(StockReservation)
        .join(SalesOrderLine, StockReservation.order_line_id == SalesOrderLine.id)
        .join(SalesOrder, SalesOrderLine.order_id == SalesOrder.id)
        .where(
            StockReservation.article_id == article.id,
            StockReservation.warehouse_id == level.warehouse_id,
            SalesOrder.state.in_(RESERVING_STATES),
        )
        .order_by(*order_age)
    )
    return list(session.scalars(query))


def _allocate_waiting(
    session: Session, article: Article, level: StockLevelRecord, *, actor: str, at: datetime
) -> None:
    """Hand free stock to reservations still waiting for it, oldest order first."""
    free = level.on_hand - level.reserved
    if free <= 0:
        return
    for reservation in _reservations_by_age(session, article, level, newest_first=False):
        take = min(reservation.wanted - reservation.reserved, free)
        if take <= 0:
            continue
        reservation.reserved += take
        level.reserved += take
        free -= take
        order = reservation.line.order
        record_event(
            order,
            "stock_reserved",
            f"Reserved {take} × {article.number} in {order.warehouse.code} (stock arrived).",
            actor=actor,
            at=at,
        )
        if free == 0:
            return


def _withdraw(
    session: Session,
    article: Article,
    level: StockLevelRecord,
    quantity: int,
    *,
    actor: str,
    at: datetime,
) -> None:
    """Take ``quantity`` reserved units back, from the newest orders first.

    Orders not yet released give way before released ones; a released order that loses stock
    goes back to *open*, because the warehouse can no longer pick it complete.
    """
    candidates = _reservations_by_age(session, article, level, newest_first=True)
    released_last = sorted(candidates, key=lambda r: r.line.order.state == OrderState.RELEASED)
    remaining = quantity
    for reservation in released_last:
        take = min(reservation.reserved, remaining)
        if take == 0:
            continue
        reservation.reserved -= take
        level.reserved -= take
        remaining -= take
        order = reservation.line.order
        record_event(
            order,
            "stock_withdrawn",
            f"{take} × {article.number} no longer reserved: the stock count found less.",
            actor=actor,
            at=at,
        )
        if order.state == OrderState.RELEASED:
            change_state(
                order,
                OrderState.OPEN,
                actor=actor,
                at=at,
                why="Its stock is no longer fully reserved.",
            )
        if remaining == 0:
            return
    if remaining:
        raise RuntimeError(
            f"stock level of {article.number} counts {remaining} reserved units that no "
            "reservation holds; the stock tables disagree"
        )


# --- use cases ------------------------------------------------------------------------------


def receive(
    uow: UnitOfWork,
    *,
    article_number: str,
    quantity: int,
    warehouse_code: str,
    actor: str,
    reason: str | None = None,
    reference: str | None = None,
) -> int:
    """Goods arrived: add ``quantity``. Returns the new on-hand quantity."""
    with uow:
        article, warehouse = _article_and_own_warehouse(uow.session, article_number, warehouse_code)
        on_hand = book_movement(
            uow.session,
            article=article,
            warehouse=warehouse,
            kind=MovementKind.RECEIPT,
            quantity=quantity,
            actor=actor,
            reason=clean_text(reason, field="reason", max_length=REASON_MAX),
            reference=clean_text(reference, field="reference", max_length=REFERENCE_MAX),
        ).on_hand
        uow.commit()
    return on_hand


def adjust(
    uow: UnitOfWork,
    *,
    article_number: str,
    warehouse_code: str,
    reason: str,
    actor: str,
    by: int | None = None,
    counted: int | None = None,
) -> int:
    """Correct on-hand by ``by`` units, or set it to the ``counted`` quantity. Returns on-hand."""
    if (by is None) == (counted is None):
        raise InvalidInput("quantity", "give either the change or the counted quantity, not both")
    reason = required_text(
        reason,
        field="reason",
        max_length=REASON_MAX,
        hint="Say why stock changes, e.g. 'stocktaking 2026'.",
    )
    if counted is not None and counted < 0:
        raise InvalidInput("counted", f"{counted} cannot be negative")
    with uow:
        article, warehouse = _article_and_own_warehouse(uow.session, article_number, warehouse_code)
        level = lock_level(uow.session, article, warehouse)
        delta = counted - level.on_hand if counted is not None else by or 0
        if delta == 0:
            raise InvalidInput(
                "quantity",
                f"{article.number} has {level.on_hand} on hand in {warehouse.code} already",
                hint="Nothing to adjust.",
            )
        on_hand = book_movement(
            uow.session,
            article=article,
            warehouse=warehouse,
            kind=MovementKind.ADJUSTMENT,
            quantity=delta,
            actor=actor,
            reason=reason,
        ).on_hand
        uow.commit()
    return on_hand


def transfer(
    uow: UnitOfWork,
    *,
    article_number: str,
    quantity: int,
    from_code: str,
    to_code: str,
    actor: str,
    reason: str | None = None,
) -> None:
    """Move ``quantity`` units between two own warehouses (two movements, one reference)."""
    if quantity <= 0:
        raise InvalidInput("quantity", f"{quantity} must be at least 1")
    if from_code.strip() == to_code.strip():
        raise InvalidInput("to", "the source and the destination are the same warehouse")
    reason = clean_text(reason, field="reason", max_length=REASON_MAX)
    with uow:
        article, source = _article_and_own_warehouse(uow.session, article_number, from_code)
        _, destination = _article_and_own_warehouse(uow.session, article_number, to_code)
        levels = {  # both rows, in key order: no deadlock with a transfer the other way
            warehouse.id: lock_level(uow.session, article, warehouse)
            for warehouse in sorted((source, destination), key=lambda w: w.id)
        }
        level = levels[source.id]
        if quantity > level.on_hand - level.reserved and not article.allow_backorder:
            raise InsufficientStock(
                f"{article.number}: only {max(level.on_hand - level.reserved, 0)} of "
                f"{level.on_hand} on hand in {source.code} are not reserved for orders.",
                hint="Cancel or ship those orders first, or move fewer units.",
            )
        reference = f"transfer {source.code}→{destination.code}"
        for warehouse, signed in ((source, -quantity), (destination, quantity)):
            book_movement(
                uow.session,
                article=article,
                warehouse=warehouse,
                kind=MovementKind.TRANSFER,
                quantity=signed,
                actor=actor,
                reason=reason,
                reference=reference,
            )
        uow.commit()


RETURNS_WAREHOUSE = "RETURNS"


def book_return(
    session: Session, line: SalesOrderLine, quantity: int, *, actor: str, at: datetime,
    reference: str,
) -> Warehouse:  # fmt: skip
    """Goods a customer sent back: ``quantity`` units of ``line`` (their components, for a
    bundle) into the returns warehouse, where they wait for inspection — no channel sells from
    it; `stock transfer` moves what is fit to sell again, `stock adjust` writes off the rest."""
    warehouse = session.scalars(
        select(Warehouse).where(Warehouse.code == RETURNS_WAREHOUSE)
    ).first()
    if warehouse is None:
        warehouse = Warehouse(
            code=RETURNS_WAREHOUSE,
            name="Returns (to inspect)",
            kind=WarehouseKind.OWN,
            country=line.order.warehouse.country,
        )
        session.add(warehouse)
        session.flush()
    for need in _needs(line, quantity):
        book_movement(session, article=need.article, warehouse=warehouse,
                      kind=MovementKind.RETURN, quantity=need.quantity, actor=actor,
                      reason="returned by the customer; inspect before selling again",
                      reference=reference, at=at)  # fmt: skip
    return warehouse


def _article_and_own_warehouse(
    session: Session, article_number: str, warehouse_code: str
) -> tuple[Article, Warehouse]:
    article = article_by_number(session, article_number)
    warehouse = warehouse_by_code(session, warehouse_code)
    check_bookable_by_hand(warehouse.code, read_only=warehouse.read_only)
    return article, warehouse
