"""The order timeline: every change of an order leaves an entry saying what, when and who."""

from __future__ import annotations

from datetime import datetime

from sellerbridge.core.orders import OrderState, check_transition
from sellerbridge.db.models import OrderEvent, SalesOrder


def record_event(order: SalesOrder, kind: str, message: str, *, actor: str, at: datetime) -> None:
    order.events.append(OrderEvent(kind=kind, message=message, actor=actor, at=at))


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
