"""Sales orders: their states, the moves between them, and their totals.

    on hold ⇄ open ⇄ released → partially shipped → shipped → completed
        └───────┴────────┴──→ cancelled

An order waits *on hold* while something needs a person (a reason is always recorded: an
unknown SKU, an address that cannot be shipped to, a manual stop). Once nothing holds it, it is
*open*; when its stock is reserved it can be *released* to the warehouse. Shipping makes it
(partially) *shipped*; *completed* closes it. Anything not yet shipped can be *cancelled*.
Completed and cancelled are final.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from sellerbridge.core.errors import IllegalTransition
from sellerbridge.core.money import ZERO


class OrderState(StrEnum):
    ON_HOLD = "on_hold"
    OPEN = "open"
    RELEASED = "released"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


_S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    _S.ON_HOLD: frozenset({_S.OPEN, _S.CANCELLED}),
    _S.OPEN: frozenset({_S.ON_HOLD, _S.RELEASED, _S.CANCELLED}),
    _S.RELEASED: frozenset({_S.OPEN, _S.ON_HOLD, _S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.CANCELLED}),
    _S.PARTIALLY_SHIPPED: frozenset({_S.SHIPPED}),
    _S.SHIPPED: frozenset({_S.COMPLETED}),
    _S.COMPLETED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def check_transition(order_number: str, current: OrderState, target: OrderState) -> None:
    """Raise :class:`IllegalTransition` unless an order may move from ``current`` to ``target``."""
    allowed = TRANSITIONS[current]
    if target in allowed:
        return
    if target == current:
        raise IllegalTransition(f"Order {order_number} is {current.label} already.")
    if not allowed:
        hint = f"A {current.label} order cannot change any more."
    else:
        choices = " or ".join(sorted(state.label for state in allowed))
        hint = f"From {current.label} it can only become {choices}."
    raise IllegalTransition(
        f"Order {order_number} is {current.label} and cannot become {target.label}.", hint=hint
    )


EXTERNAL_REFERENCE_MAX = 64
NOTE_MAX = 1000
"""Longest hold reason, cancellation reason or timeline note."""
UNIT_PRICE_PLACES = 4
"""Unit prices may have up to four decimals (B2B net prices such as 0.0125 per screw)."""

HOLD_MANUAL = "manual"
"""An order stopped by a person."""
HOLD_UNKNOWN_ARTICLE = "unknown_article"
"""A line names a product (a marketplace SKU) no article is known for."""
HOLD_TOTALS_MISMATCH = "totals_mismatch"
"""The order's lines and charges do not add up to the total the channel charged."""
HOLD_ADDRESS_INCOMPLETE = "address_incomplete"
"""The delivery address lacks what shipping or the invoice needs."""
HOLD_CANCEL_REQUEST = "cancel_request"
"""The buyer asked to cancel; the merchant decides whether to cancel or to ship."""
HOLD_SHIPPED_ELSEWHERE = "shipped_elsewhere"
"""The channel reports the order shipped, but sellerbridge did not ship it. Releasing the
order marks it shipped and gives back its reservations; stock is not booked out."""
HOLD_PARTLY_SHIPPED = "partly_shipped"
"""Part of the order was shipped outside sellerbridge before it arrived here."""
HOLD_CHANGED_BY_CHANNEL = "changed_by_channel"
"""The channel changed the order's lines, amounts or address after it arrived."""


class ChargeKind(StrEnum):
    SHIPPING = "shipping"
    GIFT_WRAP = "gift_wrap"
    COD = "cod"
    OTHER = "other"


class Amounts(Protocol):
    """Anything with a net, a tax and a gross amount: a line, a charge, a part of one."""

    @property
    def net(self) -> Decimal: ...
    @property
    def tax(self) -> Decimal: ...
    @property
    def gross(self) -> Decimal: ...


@dataclass(frozen=True)
class OrderTotals:
    net: Decimal
    tax: Decimal
    gross: Decimal

    @classmethod
    def of(cls, items: Iterable[Amounts]) -> OrderTotals:
        items = list(items)
        return cls(
            net=sum((item.net for item in items), ZERO),
            tax=sum((item.tax for item in items), ZERO),
            gross=sum((item.gross for item in items), ZERO),
        )
