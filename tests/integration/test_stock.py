"""The stock ledger in the database, through the use cases the CLI and the jobs call."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sellerbridge.core.errors import DomainError, InsufficientStock, ReadOnlyWarehouse
from sellerbridge.core.orders import OrderState
from sellerbridge.core.warehouses import WarehouseKind
from sellerbridge.db.models import (
    Article,
    SalesOrder,
    StockLevelRecord,
    StockMovement,
    StockReservation,
    Warehouse,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import orders, stock
from sellerbridge.services.articles import import_articles, read_csv
from sellerbridge.services.events import change_state
from sellerbridge.services.lookup import order_by_number
from tests.helpers import level, order_state, place_order


def receive(uow: UnitOfWork, article: str, quantity: int, warehouse: str = "MAIN") -> None:
    stock.receive(
        uow, article_number=article, quantity=quantity, warehouse_code=warehouse, actor="t"
    )


def add_warehouse(uow: UnitOfWork, code: str, kind: WarehouseKind = WarehouseKind.OWN) -> None:
    with uow:
        uow.session.add(
            Warehouse(code=code, name=code, kind=kind, read_only=kind == WarehouseKind.FBA)
        )
        uow.commit()


def test_a_count_below_the_reservations_takes_stock_from_the_newest_orders(
    catalogue: UnitOfWork,
) -> None:
    receive(catalogue, "TAS-0002", 6)
    oldest = place_order(catalogue, ("TAS-0002", 2, "12"))
    middle = place_order(catalogue, ("TAS-0002", 2, "12"))
    newest = place_order(catalogue, ("TAS-0002", 2, "12"))
    orders.release_order(catalogue, oldest, actor="t")
    orders.release_order(catalogue, newest, actor="t")
    stock.adjust(
        catalogue,
        article_number="TAS-0002",
        warehouse_code="MAIN",
        counted=3,
        reason="stocktaking",
        actor="t",
    )
    assert level(catalogue, "TAS-0002") == (3, 3)
    with catalogue:
        reserved = {
            number: order_by_number(catalogue.session, number).lines[0].reservations[0].reserved
            for number in (oldest, middle, newest)
        }
    # Unreleased orders give way first; among released ones the newest.
    assert reserved == {oldest: 2, middle: 0, newest: 1}
    assert order_state(catalogue, newest) == "open"  # cannot be picked complete any more
    assert order_state(catalogue, oldest) == "released"


def test_transfers_move_stock_between_own_warehouses(catalogue: UnitOfWork) -> None:
    add_warehouse(catalogue, "LAGER2")
    receive(catalogue, "KAF-1000", 10)
    place_order(catalogue, ("KAF-1000", 7, "24.90"))
    with pytest.raises(InsufficientStock, match="only 3 of 10 on hand in MAIN"):
        stock.transfer(
            catalogue,
            article_number="KAF-1000",
            quantity=4,
            from_code="MAIN",
            to_code="LAGER2",
            actor="t",
        )
    stock.transfer(
        catalogue,
        article_number="KAF-1000",
        quantity=3,
        from_code="MAIN",
        to_code="LAGER2",
        actor="t",
    )
    assert level(catalogue, "KAF-1000") == (7, 7)
    assert level(catalogue, "KAF-1000", "LAGER2") == (3, 0)


def test_fba_warehouses_cannot_be_booked_by_hand(catalogue: UnitOfWork) -> None:
    add_warehouse(catalogue, "FBA-DE", WarehouseKind.FBA)
    with pytest.raises(ReadOnlyWarehouse, match="managed by Amazon"):
        receive(catalogue, "KAF-1000", 1, warehouse="FBA-DE")


def test_untracked_articles_have_no_stock_to_book(catalogue: UnitOfWork) -> None:
    with pytest.raises(DomainError, match="not stock-tracked"):
        receive(catalogue, "GUT-0025", 1)


def test_adjustments_need_a_reason_and_a_change(catalogue: UnitOfWork) -> None:
    receive(catalogue, "KAF-1000", 2)
    with pytest.raises(DomainError, match="reason"):
        stock.adjust(
            catalogue,
            article_number="KAF-1000",
            warehouse_code="MAIN",
            by=-1,
            reason=" ",
            actor="t",
        )
    with pytest.raises(DomainError, match="has 2 on hand"):
        stock.adjust(
            catalogue,
            article_number="KAF-1000",
            warehouse_code="MAIN",
            counted=2,
            reason="count",
            actor="t",
        )
    with pytest.raises(InsufficientStock):
        stock.adjust(
            catalogue,
            article_number="KAF-1000",
            warehouse_code="MAIN",
            by=-3,
            reason="broken",
            actor="t",
        )


# --- the ledger invariants, for any sequence of operations, on both engines --------------

_counter = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("receive"), st.sampled_from("PQ"), st.integers(1, 8)),
        st.tuples(st.just("adjust"), st.sampled_from("PQ"), st.integers(-8, 8).filter(bool)),
        st.tuples(st.just("transfer"), st.sampled_from("PQ"), st.integers(1, 6)),
        st.tuples(st.just("order"), st.sampled_from("PQB"), st.integers(1, 6)),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(st.just("release"), st.integers(0, 9)),
        st.tuples(st.just("hold"), st.integers(0, 9)),
        st.tuples(st.just("unhold"), st.integers(0, 9)),
        st.tuples(st.just("ship"), st.integers(0, 9), st.integers(1, 6)),
    ),
    min_size=1,
    max_size=15,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=operations, backorder=st.booleans())
def test_ledger_sums_equal_on_hand_and_available_stays_non_negative(
    workspace: UnitOfWork, operations: list[tuple[Any, ...]], backorder: bool
) -> None:
    # Each example gets its own articles, so examples do not see each other's stock.
    n = next(_counter)
    names = {"P": f"P-{n}", "Q": f"Q-{n}", "B": f"B-{n}"}
    import_articles(
        workspace,
        *read_csv(
            "article_number,name,allow_backorder,components\n"
            f"{names['P']},Probe P,{'yes' if backorder else 'no'},\n"
            f"{names['Q']},Probe Q,no,\n"
            f'{names["B"]},Bundle,,"{names["P"]}:1; {names["Q"]}:2"\n'
        ),
    )
    if n == 0:
        add_warehouse(workspace, "W2")
    backorders = {names["P"]: backorder, names["Q"]: False}
    placed: list[str] = []
    for name, *args in operations:
        before = _snapshot(workspace, list(backorders))
        try:
            _apply(workspace, names, placed, name, args)
        except DomainError:
            # A refused operation leaves everything exactly as it was.
            assert _snapshot(workspace, list(backorders)) == before
        _check_invariants(workspace, backorders)


def _apply(
    uow: UnitOfWork, names: dict[str, str], placed: list[str], name: str, args: list[Any]
) -> None:
    def pick(index: int) -> str | None:
        return placed[index % len(placed)] if placed else None

    if name == "receive":
        receive(uow, names[args[0]], args[1])
    elif name == "adjust":
        stock.adjust(uow, article_number=names[args[0]], warehouse_code="MAIN", by=args[1],
                     reason="probe", actor="t")  # fmt: skip
    elif name == "transfer":
        stock.transfer(uow, article_number=names[args[0]], quantity=args[1], from_code="MAIN",
                       to_code="W2", actor="t")  # fmt: skip
    elif name == "order":
        placed.append(place_order(uow, (names[args[0]], args[1], "1.00")))
    elif (number := pick(args[0])) is not None:
        if name == "cancel":
            orders.cancel_order(uow, number, reason="probe", actor="t")
        elif name == "release":
            orders.release_order(uow, number, actor="t")
        elif name == "hold":
            orders.hold_order(uow, number, reason="probe", actor="t")
        elif name == "unhold":
            orders.resolve_holds(uow, number, actor="t")
        else:
            _ship(uow, number, args[1])


def _ship(uow: UnitOfWork, number: str, quantity: int) -> None:
    with uow:
        line = order_by_number(uow.session, number).lines[0]
        stock.ship_line(uow.session, line, min(quantity, line.quantity - line.shipped_quantity),
                        actor="t", reference=number, at=datetime.now(UTC))  # fmt: skip
        uow.commit()


def _snapshot(uow: UnitOfWork, numbers: list[str]) -> tuple[Any, ...]:
    with uow:
        session = uow.session
        levels = session.execute(
            select(Article.number, StockLevelRecord.warehouse_id, StockLevelRecord.on_hand,
                   StockLevelRecord.reserved)
            .join(Article, StockLevelRecord.article_id == Article.id)
            .where(Article.number.in_(numbers))
            .order_by(Article.number, StockLevelRecord.warehouse_id)
        ).all()  # fmt: skip
        movements = session.scalar(select(func.count()).select_from(StockMovement))
        reservations = session.execute(
            select(StockReservation.order_line_id, StockReservation.article_id,
                   StockReservation.reserved, StockReservation.wanted)
            .order_by(StockReservation.id)
        ).all()  # fmt: skip
        states = session.execute(select(SalesOrder.number, SalesOrder.state)).all()
    return tuple(levels), movements, tuple(reservations), tuple(sorted(states))


def _check_invariants(uow: UnitOfWork, backorders: dict[str, bool]) -> None:
    with uow:
        session = uow.session
        for number, backorder in backorders.items():
            article = session.scalars(select(Article).where(Article.number == number)).one()
            for level in session.scalars(
                select(StockLevelRecord).where(StockLevelRecord.article_id == article.id)
            ):
                ledger_sum = session.scalar(
                    select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
                        StockMovement.article_id == article.id,
                        StockMovement.warehouse_id == level.warehouse_id,
                    )
                )
                reservations = session.scalars(
                    select(StockReservation).where(
                        StockReservation.article_id == article.id,
                        StockReservation.warehouse_id == level.warehouse_id,
                    )
                ).all()
                assert ledger_sum == level.on_hand
                assert level.on_hand >= 0
                assert level.reserved == sum(r.reserved for r in reservations)
                if not backorder:
                    assert level.on_hand - level.reserved >= 0
                    # Stock never sits idle while an order waits for it.
                    if any(r.reserved < r.wanted for r in reservations):
                        assert level.on_hand - level.reserved == 0


def test_a_partially_shipped_order_keeps_waiting_for_the_rest(catalogue: UnitOfWork) -> None:
    receive(catalogue, "TAS-0002", 2)
    number = place_order(catalogue, ("TAS-0002", 2, "12.00"))
    orders.release_order(catalogue, number, actor="t")
    with catalogue:
        order = order_by_number(catalogue.session, number)
        now = datetime.now(UTC)
        stock.ship_line(catalogue.session, order.lines[0], 1, actor="t", reference="LS-1", at=now)
        change_state(order, OrderState.PARTIALLY_SHIPPED, actor="t", at=now)
        catalogue.commit()
    stock.adjust(catalogue, article_number="TAS-0002", warehouse_code="MAIN", counted=0,
                 reason="broken", actor="t")  # fmt: skip
    assert level(catalogue, "TAS-0002") == (0, 0)
    receive(catalogue, "TAS-0002", 1)  # the rest arrives and goes to the order
    assert level(catalogue, "TAS-0002") == (1, 1)
    assert order_state(catalogue, number) == "partially_shipped"
