"""Stock: an append-only ledger of movements, and reservations against it.

On-hand is the sum of an article's movements in a warehouse; nothing ever edits or deletes a
movement, so on-hand at any moment can be explained line by line. Reservations earmark on-hand
stock for order lines; *available* is what is left for new orders:

    available = on_hand - reserved

Two invariants hold for every article that does not allow backorders, and the functions below
refuse any operation that would break them:

- on-hand never goes below zero (nobody can ship what is not on the shelf), and
- available never goes below zero (nobody can promise what is already promised).

An article that allows backorders may be reserved beyond its on-hand stock; its available
quantity then goes negative and shows how much is owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sellerbridge.core.errors import InsufficientStock, InvalidInput

REASON_MAX = 255
REFERENCE_MAX = 100


class MovementKind(StrEnum):
    RECEIPT = "receipt"  # goods arrive (purchase delivery, opening balance)
    ADJUSTMENT = "adjustment"  # a count or a correction; always with a reason
    SHIPMENT = "shipment"  # goods leave for a customer
    RETURN = "return"  # a customer sends goods back
    TRANSFER = "transfer"  # goods move between warehouses: one movement out, one in


# The sign each kind of movement must have: +1 only positive, -1 only negative, 0 either.
_SIGN = {
    MovementKind.RECEIPT: 1,
    MovementKind.RETURN: 1,
    MovementKind.SHIPMENT: -1,
    MovementKind.ADJUSTMENT: 0,
    MovementKind.TRANSFER: 0,
}


def check_movement(kind: MovementKind, quantity: int) -> None:
    """Refuse a movement whose quantity is zero or has the wrong sign for its kind."""
    if quantity == 0:
        raise InvalidInput("quantity", "a stock movement of 0 changes nothing")
    sign = _SIGN[kind]
    if sign > 0 and quantity < 0:
        raise InvalidInput("quantity", f"a {kind.value} adds stock; {quantity} is negative")
    if sign < 0 and quantity > 0:
        raise InvalidInput("quantity", f"a {kind.value} removes stock; {quantity} is positive")


@dataclass(frozen=True)
class StockLevel:
    """On-hand and reserved quantity of one article in one warehouse."""

    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class MovementEffect:
    """What a movement does: the new level, and reservations that must give way.

    When a count finds less stock than is reserved, the shortfall cannot stay promised; the
    caller withdraws ``reservations_to_withdraw`` units from the most recent reservations so
    that the oldest orders keep theirs.
    """

    level: StockLevel
    reservations_to_withdraw: int


def apply_movement(
    level: StockLevel, kind: MovementKind, quantity: int, *, allow_backorder: bool, article: str
) -> MovementEffect:
    """The effect of booking ``quantity`` (signed) of ``kind`` onto ``level``."""
    check_movement(kind, quantity)
    on_hand = level.on_hand + quantity
    if on_hand < 0:
        raise InsufficientStock(
            f"{article}: cannot remove {-quantity}, only {level.on_hand} on hand.",
            hint="Check the quantity, or receive the missing stock first.",
        )
    withdraw = 0
    if not allow_backorder and level.reserved > on_hand:
        withdraw = level.reserved - on_hand
    return MovementEffect(StockLevel(on_hand, level.reserved - withdraw), withdraw)


def reservable(level: StockLevel, wanted: int, *, allow_backorder: bool) -> int:
    """How many of ``wanted`` units can be reserved now (all of them for backorder articles)."""
    if wanted < 0:
        raise InvalidInput("quantity", f"cannot reserve {wanted} units")
    if allow_backorder:
        return wanted
    return max(0, min(wanted, level.available))


def reserve(level: StockLevel, quantity: int, *, allow_backorder: bool, article: str) -> StockLevel:
    """Reserve exactly ``quantity`` units, or refuse if they are not available."""
    if reservable(level, quantity, allow_backorder=allow_backorder) < quantity:
        raise InsufficientStock(
            f"{article}: cannot reserve {quantity}, only {max(level.available, 0)} available."
        )
    return StockLevel(level.on_hand, level.reserved + quantity)


def release(level: StockLevel, quantity: int) -> StockLevel:
    """Give back ``quantity`` reserved units (an order was cancelled or changed)."""
    if not 0 <= quantity <= level.reserved:
        raise InvalidInput("quantity", f"cannot release {quantity}; {level.reserved} are reserved")
    return StockLevel(level.on_hand, level.reserved - quantity)


def ship_reserved(level: StockLevel, quantity: int, *, article: str) -> StockLevel:
    """Book ``quantity`` reserved units out: they leave on-hand and the reservation together."""
    if not 0 < quantity <= level.reserved:
        raise InsufficientStock(
            f"{article}: cannot ship {quantity}; only {level.reserved} are reserved for orders.",
            hint="Reserve the stock for the order before shipping it.",
        )
    if quantity > level.on_hand:
        raise InsufficientStock(
            f"{article}: cannot ship {quantity}; only {level.on_hand} on hand.",
            hint="Receive the missing stock first.",
        )
    return StockLevel(level.on_hand - quantity, level.reserved - quantity)
