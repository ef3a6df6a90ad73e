"""The order timeline: every change of an order leaves an entry saying what, when and who."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from sellerbridge.core.orders import OrderState, check_transition
from sellerbridge.db.models import OrderEvent, SalesOrder

_NEW_ORDER_EVENTS = "sellerbridge.new_order_events"
"""``session.info`` key of the entries of orders not yet written, waiting for the next flush."""


def record_event(order: SalesOrder, kind: str, message: str, *, actor: str, at: datetime) -> None:
    """Add an entry to the timeline of ``order``.

    The timeline of an order that is still new (added to its session, not yet written) is
    written right after the order, in one statement with those of the other new orders of the
    same flush, rather than entry by entry through the unit of work: a bulk import creates
    several entries for every order. Read back (``order.events``), it is the same either way;
    before that first flush, a new order's ``events`` are still empty.
    """
    state = inspect(order)
    if state.pending and state.session is not None:
        values = {"kind": kind, "message": message, "actor": actor, "at": at}
        state.session.info.setdefault(_NEW_ORDER_EVENTS, []).append((order, values))
        return
    order.events.append(OrderEvent(kind=kind, message=message, actor=actor, at=at))


@event.listens_for(Session, "after_flush_postexec")
def _write_new_order_events(session: Session, _flush: UOWTransaction) -> None:
    waiting: list[tuple[SalesOrder, dict[str, Any]]] | None = session.info.get(_NEW_ORDER_EVENTS)
    if not waiting:
        return
    rows, written, still_new = [], {}, []
    for order, values in waiting:
        state = inspect(order)
        if state.persistent:
            rows.append({"order_id": order.id, **values})
            written[id(order)] = order
        elif state.pending:
            still_new.append((order, values))
        # else: the order left the session (a rollback); its entries go with it
    session.info[_NEW_ORDER_EVENTS] = still_new
    if rows:
        session.connection().execute(insert(OrderEvent), rows)
        for order in written.values():  # loaded from the database when asked for
            session.expire(order, ["events"])


@event.listens_for(Session, "after_transaction_end")
def _forget_new_order_events(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None or transaction.nested:
        session.info.pop(_NEW_ORDER_EVENTS, None)


def change_state(
    order: SalesOrder, target: OrderState, *, actor: str, at: datetime, why: str | None = None
) -> None:
    """Move ``order`` to ``target`` if the state machine allows it, and say so on the timeline."""
    check_transition(order.number, order.state, target)
    previous = order.state
    order.state = target
    message = f"{previous.label.capitalize()} → {target.label}."
    record_event(
        order, "state_changed", message if why is None else f"{message} {why}", actor=actor, at=at
    )
