"""The order state machine: every move it refuses is refused with a message a person can act on."""

from __future__ import annotations

import itertools

import pytest

from sellerbridge.core.errors import IllegalTransition
from sellerbridge.core.orders import TRANSITIONS, OrderState, check_transition

ALL_MOVES = list(itertools.product(OrderState, OrderState))
LEGAL = [(a, b) for a, b in ALL_MOVES if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_MOVES if b not in TRANSITIONS[a]]


def test_the_lifecycle_allows_what_merchants_do() -> None:
    path = [
        OrderState.ON_HOLD,
        OrderState.OPEN,
        OrderState.RELEASED,
        OrderState.PARTIALLY_SHIPPED,
        OrderState.SHIPPED,
        OrderState.COMPLETED,
    ]
    for current, target in itertools.pairwise(path):
        check_transition("SO-1", current, target)
    for state in (OrderState.ON_HOLD, OrderState.OPEN, OrderState.RELEASED):
        check_transition("SO-1", state, OrderState.CANCELLED)


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=lambda s: s.value)
def test_legal_moves_pass(current: OrderState, target: OrderState) -> None:
    check_transition("SO-1", current, target)


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=lambda s: s.value)
def test_every_illegal_move_raises_a_readable_domain_error(
    current: OrderState, target: OrderState
) -> None:
    with pytest.raises(IllegalTransition) as raised:
        check_transition("SO-000042", current, target)
    message = str(raised.value)
    assert "SO-000042" in message
    assert current.label in message
    if current != target:
        assert target.label in message
        assert raised.value.hint  # says what the order can still become, or that it is final
    assert "_" not in message  # words, not enum names


def test_final_states_say_they_are_final() -> None:
    with pytest.raises(IllegalTransition, match="cannot change any more"):
        check_transition("SO-1", OrderState.CANCELLED, OrderState.OPEN)
    with pytest.raises(IllegalTransition, match="can only become completed"):
        check_transition("SO-1", OrderState.SHIPPED, OrderState.CANCELLED)


def test_nothing_shipped_can_be_cancelled() -> None:
    for state in (OrderState.PARTIALLY_SHIPPED, OrderState.SHIPPED, OrderState.COMPLETED):
        assert OrderState.CANCELLED not in TRANSITIONS[state]
