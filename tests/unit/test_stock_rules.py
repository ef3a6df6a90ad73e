"""The stock rules, driven by Hypothesis through any sequence of operations."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sellerbridge.core import stock
from sellerbridge.core.errors import DomainError, InsufficientStock, InvalidInput
from sellerbridge.core.stock import MovementKind, StockLevel


@dataclass
class Ledger:
    """An in-memory ledger for one article in one warehouse, applying the core rules."""

    allow_backorder: bool
    movements: list[int] = field(default_factory=list)
    reservations: dict[int, int] = field(default_factory=dict)  # order → reserved units
    level: StockLevel = field(default_factory=StockLevel)

    def move(self, kind: MovementKind, quantity: int) -> None:
        effect = stock.apply_movement(
            self.level, kind, quantity, allow_backorder=self.allow_backorder, article="A"
        )
        self.movements.append(quantity)
        self.level = effect.level
        remaining = effect.reservations_to_withdraw
        for order in sorted(self.reservations, reverse=True):  # newest first
            take = min(self.reservations[order], remaining)
            self.reservations[order] -= take
            remaining -= take
        assert remaining == 0

    def reserve(self, order: int, wanted: int) -> None:
        take = stock.reservable(self.level, wanted, allow_backorder=self.allow_backorder)
        self.level = stock.reserve(
            self.level, take, allow_backorder=self.allow_backorder, article="A"
        )
        self.reservations[order] = self.reservations.get(order, 0) + take

    def release(self, order: int) -> None:
        self.level = stock.release(self.level, self.reservations.pop(order, 0))

    def ship(self, order: int, quantity: int) -> None:
        quantity = min(quantity, self.reservations.get(order, 0))
        if quantity == 0:
            return
        self.level = stock.ship_reserved(self.level, quantity, article="A")
        self.movements.append(-quantity)
        self.reservations[order] -= quantity


operations = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.integers(1, 50)),
        st.tuples(st.just("adjust"), st.integers(-60, 60)),
        st.tuples(st.just("return"), st.integers(1, 5)),
        st.tuples(st.just("reserve"), st.integers(0, 9), st.integers(1, 30)),
        st.tuples(st.just("release"), st.integers(0, 9)),
        st.tuples(st.just("ship"), st.integers(0, 9), st.integers(1, 30)),
    ),
    max_size=60,
)


@given(operations=operations, allow_backorder=st.booleans())
def test_ledger_sums_to_on_hand_and_available_never_negative(
    operations: list[tuple[str, int] | tuple[str, int, int]], allow_backorder: bool
) -> None:
    ledger = Ledger(allow_backorder)
    for operation in operations:
        name, *args = operation
        try:
            if name == "receive":
                ledger.move(MovementKind.RECEIPT, args[0])
            elif name == "adjust":
                ledger.move(MovementKind.ADJUSTMENT, args[0])
            elif name == "return":
                ledger.move(MovementKind.RETURN, args[0])
            elif name == "reserve":
                ledger.reserve(args[0], args[1])
            elif name == "release":
                ledger.release(args[0])
            else:
                ledger.ship(args[0], args[1])
        except DomainError:
            pass  # refused operations change nothing; the invariants below still hold
        assert sum(ledger.movements) == ledger.level.on_hand
        assert ledger.level.on_hand >= 0
        assert ledger.level.reserved == sum(ledger.reservations.values())
        assert min(ledger.reservations.values(), default=0) >= 0
        if not allow_backorder:
            assert ledger.level.available >= 0


def test_a_count_below_the_reservations_withdraws_the_difference() -> None:
    effect = stock.apply_movement(
        StockLevel(on_hand=10, reserved=8),
        MovementKind.ADJUSTMENT,
        -5,
        allow_backorder=False,
        article="A",
    )
    assert effect.level == StockLevel(on_hand=5, reserved=5)
    assert effect.reservations_to_withdraw == 3


def test_backorder_articles_keep_reservations_beyond_stock() -> None:
    level = stock.reserve(StockLevel(on_hand=2), 5, allow_backorder=True, article="A")
    assert level.available == -3
    effect = stock.apply_movement(
        level, MovementKind.ADJUSTMENT, -1, allow_backorder=True, article="A"
    )
    assert effect.reservations_to_withdraw == 0


def test_cannot_remove_what_is_not_there() -> None:
    with pytest.raises(InsufficientStock, match="only 3 on hand"):
        stock.apply_movement(
            StockLevel(on_hand=3), MovementKind.ADJUSTMENT, -4, allow_backorder=True, article="A"
        )


@pytest.mark.parametrize(
    ("kind", "quantity"),
    [
        (MovementKind.RECEIPT, -1),
        (MovementKind.RETURN, -1),
        (MovementKind.SHIPMENT, 1),
        (MovementKind.ADJUSTMENT, 0),
    ],
)
def test_movement_signs_are_checked(kind: MovementKind, quantity: int) -> None:
    with pytest.raises(InvalidInput):
        stock.check_movement(kind, quantity)


def test_only_reserved_stock_ships() -> None:
    with pytest.raises(InsufficientStock, match="only 1 are reserved"):
        stock.ship_reserved(StockLevel(on_hand=5, reserved=1), 2, article="A")
