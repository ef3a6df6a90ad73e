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
from sellerbridge.core.warehouses import WarehouseKind
from sellerbridge.db.models import (
    Article,
    StockLevelRecord,
    StockMovement,
    StockReservation,
    Warehouse,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import orders, stock
from sellerbridge.services.articles import import_articles, read_csv
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
        st.tuples(st.just("receive"), st.integers(1, 8)),
        st.tuples(st.just("adjust"), st.integers(-8, 8).filter(bool)),
        st.tuples(st.just("order"), st.integers(1, 6)),
        st.tuples(st.just("cancel"), st.integers(0, 5)),
        st.tuples(st.just("ship"), st.integers(0, 5), st.integers(1, 6)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(operations=operations, backorder=st.booleans())
def test_ledger_sums_equal_on_hand_and_available_stays_non_negative(
    workspace: UnitOfWork, operations: list[tuple[Any, ...]], backorder: bool
) -> None:
    # Each example gets its own article, so examples do not see each other's stock.
    article = f"P-{next(_counter)}"
    import_articles(
        workspace,
        *read_csv(
            f"article_number,name,allow_backorder\n{article},Probe,{'yes' if backorder else 'no'}\n"
        ),
    )
    placed: list[str] = []
    for name, *args in operations:
        try:
            if name == "receive":
                receive(workspace, article, args[0])
            elif name == "adjust":
                stock.adjust(
                    workspace,
                    article_number=article,
                    warehouse_code="MAIN",
                    by=args[0],
                    reason="probe",
                    actor="t",
                )
            elif name == "order":
                placed.append(place_order(workspace, (article, args[0], "1.00")))
            elif name == "cancel" and placed:
                orders.cancel_order(workspace, placed[args[0] % len(placed)], reason="p", actor="t")
            elif name == "ship" and placed:
                _ship(workspace, placed[args[0] % len(placed)], args[1])
        except DomainError:
            pass  # a refused operation must leave everything as it was
        _check_invariants(workspace, article, backorder)


def _ship(uow: UnitOfWork, number: str, quantity: int) -> None:
    with uow:
        line = order_by_number(uow.session, number).lines[0]
        reserved = line.reservations[0].reserved if line.reservations else 0
        stock.ship_line(
            uow.session,
            line,
            min(quantity, max(reserved, 1)),
            actor="t",
            reference=number,
            at=datetime.now(UTC),
        )
        uow.commit()


def _check_invariants(uow: UnitOfWork, number: str, backorder: bool) -> None:
    with uow:
        session = uow.session
        article = session.scalars(select(Article).where(Article.number == number)).one()
        ledger_sum = session.scalar(
            select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
                StockMovement.article_id == article.id
            )
        )
        levels = session.scalars(
            select(StockLevelRecord).where(StockLevelRecord.article_id == article.id)
        ).all()
        on_hand = sum(row.on_hand for row in levels)
        reserved = sum(row.reserved for row in levels)
        reservation_sum = session.scalar(
            select(func.coalesce(func.sum(StockReservation.reserved), 0)).where(
                StockReservation.article_id == article.id
            )
        )
    assert ledger_sum == on_hand
    assert on_hand >= 0
    assert reserved == reservation_sum
    if not backorder:
        assert on_hand - reserved >= 0
