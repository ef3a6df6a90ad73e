"""Manual orders: created with their stock reserved, held, released and cancelled."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from sellerbridge.core.errors import DomainError, IllegalTransition, InvalidFields
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import OrderEvent, SalesOrder, SalesOrderLine, StockReservation
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import orders, stock
from sellerbridge.services.lookup import order_by_number
from tests.helpers import level, order_state, place_order


def receive(uow: UnitOfWork, article: str, quantity: int) -> None:
    stock.receive(uow, article_number=article, quantity=quantity, warehouse_code="MAIN", actor="t")


def test_an_order_reserves_its_stock_and_adds_up(catalogue: UnitOfWork) -> None:
    receive(catalogue, "KAF-1000", 10)
    number = place_order(
        catalogue, ("KAF-1000", 3, "24.90"), ("GUT-0025", 1, "25.00"), shipping=Decimal("4.90")
    )
    assert number == "SO-000001"
    assert level(catalogue, "KAF-1000") == (10, 3)
    with catalogue:
        order = order_by_number(catalogue.session, number)
        assert order.state is OrderState.OPEN
        assert order.customer.number == "C-000001"
        assert [line.tax_rate for line in order.lines] == [Decimal(7), Decimal(0)]
        assert order.lines[0].gross == Decimal("74.70")
        assert order.lines[0].tax == Decimal("4.89")
        # Shipping 4.90 split by the lines' nets, 69.81 at 7 % and 25.00 at 0 %:
        # 4.90 × 69.81 / 94.81 = 3.6079… → 3.61 at 7 % (VAT 3.61 × 7/107 = 0.236 → 0.24);
        # the rest, 1.29, at 0 %.
        assert [(c.tax_rate, c.net, c.tax, c.gross) for c in order.charges] == [
            (Decimal(7), Decimal("3.37"), Decimal("0.24"), Decimal("3.61")),
            (Decimal(0), Decimal("1.29"), Decimal(0), Decimal("1.29")),
        ]
        assert order.total_gross == Decimal("104.60")
        assert order.total_net + order.total_tax == order.total_gross
        assert isinstance(order.total_gross, Decimal)
        assert [event.kind for event in order.events] == ["created", "stock_reserved"]


def test_an_order_without_enough_stock_waits_and_gets_it_when_it_arrives(
    catalogue: UnitOfWork,
) -> None:
    receive(catalogue, "KAF-1000", 2)
    first = place_order(catalogue, ("KAF-1000", 3, "24.90"))
    second = place_order(catalogue, ("KAF-1000", 2, "24.90"))
    assert level(catalogue, "KAF-1000") == (2, 2)
    with pytest.raises(DomainError, match="2 of 3 reserved"):
        orders.release_order(catalogue, first, actor="t")
    receive(catalogue, "KAF-1000", 2)  # the older order is served first
    assert level(catalogue, "KAF-1000") == (4, 4)
    orders.release_order(catalogue, first, actor="t")
    with pytest.raises(DomainError, match="1 of 2 reserved"):
        orders.release_order(catalogue, second, actor="t")


def test_a_bundle_reserves_its_components(catalogue: UnitOfWork) -> None:
    receive(catalogue, "MUE-0010", 5)
    receive(catalogue, "KAF-1000", 5)
    place_order(catalogue, ("SET-BARISTA", 2, "89.00"))
    assert level(catalogue, "MUE-0010") == (5, 2)
    assert level(catalogue, "KAF-1000") == (5, 4)
    assert level(catalogue, "SET-BARISTA") == (0, 0)


def test_cancelling_releases_the_stock_to_waiting_orders(catalogue: UnitOfWork) -> None:
    receive(catalogue, "MUE-0010", 1)
    first = place_order(catalogue, ("MUE-0010", 1, "49.00"))
    second = place_order(catalogue, ("MUE-0010", 1, "49.00"))
    orders.cancel_order(catalogue, first, reason="customer changed mind", actor="t")
    assert order_state(catalogue, first) == "cancelled"
    assert level(catalogue, "MUE-0010") == (1, 1)
    orders.release_order(catalogue, second, actor="t")
    with catalogue:
        cancelled = order_by_number(catalogue.session, first)
        assert cancelled.events[-1].message.endswith("customer changed mind")
        assert cancelled.lines[0].reservations == []


def test_holding_and_resolving(catalogue: UnitOfWork) -> None:
    receive(catalogue, "TAS-0002", 5)
    number = place_order(catalogue, ("TAS-0002", 1, "12.00"))
    orders.hold_order(catalogue, number, reason="address unclear", actor="t")
    orders.hold_order(catalogue, number, reason="payment check", actor="t")
    assert order_state(catalogue, number) == "on_hold"
    assert level(catalogue, "TAS-0002") == (5, 1)  # a held order keeps its stock
    assert orders.resolve_holds(catalogue, number, actor="t") == 0
    assert order_state(catalogue, number) == "open"
    with pytest.raises(DomainError, match="no open hold"):
        orders.resolve_holds(catalogue, number, actor="t")


def test_releasing_a_held_order_lifts_its_holds(catalogue: UnitOfWork) -> None:
    receive(catalogue, "TAS-0002", 5)
    number = place_order(catalogue, ("TAS-0002", 1, "12.00"))
    orders.hold_order(catalogue, number, reason="address unclear", actor="t")
    assert orders.release_order(catalogue, number, actor="t") is OrderState.RELEASED
    with catalogue:
        order = order_by_number(catalogue.session, number)
        assert order.open_holds == []
        assert [e.kind for e in order.events][-3:] == [
            "hold_resolved",
            "state_changed",
            "state_changed",
        ]


def test_shipped_orders_cannot_be_cancelled(catalogue: UnitOfWork) -> None:
    receive(catalogue, "TAS-0002", 5)
    number = place_order(catalogue, ("TAS-0002", 2, "12.00"))
    orders.release_order(catalogue, number, actor="t")
    with catalogue:
        order = order_by_number(catalogue.session, number)
        stock.ship_line(
            catalogue.session, order.lines[0], 2, actor="t", reference="LS-1", at=datetime.now(UTC)
        )
        order.state = OrderState.SHIPPED
        catalogue.commit()
    assert level(catalogue, "TAS-0002") == (3, 0)
    with pytest.raises(IllegalTransition, match="shipped and cannot become cancelled"):
        orders.cancel_order(catalogue, number, reason="too late", actor="t")
    assert order_state(catalogue, number) == "shipped"


def test_a_bad_order_is_refused_whole_and_leaves_nothing_behind(catalogue: UnitOfWork) -> None:
    receive(catalogue, "KAF-1000", 5)
    with pytest.raises(InvalidFields) as raised:
        place_order(
            catalogue, ("KAF-1000", 1, "24.90"), ("NOPE-1", 1, "5.00"), ("TAS-0002", 0, "1")
        )
    assert "line 2: There is no article 'NOPE-1'" in str(raised.value)
    assert "line 3: quantity" in str(raised.value)
    with catalogue:
        assert catalogue.session.scalar(select(func.count()).select_from(SalesOrder)) == 0
        assert catalogue.session.scalar(select(func.count()).select_from(StockReservation)) == 0
    assert level(catalogue, "KAF-1000") == (5, 0)
    assert place_order(catalogue, ("KAF-1000", 1, "24.90")) == "SO-000001"  # no number lost


def test_times_are_stored_in_utc(catalogue: UnitOfWork) -> None:
    berlin = datetime(2026, 12, 24, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    number = place_order(catalogue, ("GUT-0025", 1, "25.00"), ship_by=berlin)
    with catalogue:
        ship_by = order_by_number(catalogue.session, number).ship_by
    assert ship_by == berlin
    assert ship_by is not None
    assert ship_by.tzinfo is UTC
    assert ship_by.hour == 17


def test_a_new_orders_timeline_is_written_with_it_and_rolled_back_with_it(
    catalogue: UnitOfWork,
) -> None:
    receive(catalogue, "KAF-1000", 10)
    first = place_order(catalogue, ("KAF-1000", 1, "24.90"))
    at = datetime.now(UTC)
    with catalogue:
        session = catalogue.session
        existing = order_by_number(session, first)
        line = existing.lines[0]
        new = orders.place_order(
            session,
            orders.NewOrder(
                channel=existing.channel,
                customer=existing.customer,
                billing=existing.billing_address.to_address(),
                shipping=existing.billing_address.to_address(),
                currency="EUR",
                prices_include_tax=True,
                ordered_at=at,
                lines=[
                    SalesOrderLine(
                        position=1,
                        article=line.article,
                        article_number=line.article_number,
                        description=line.description,
                        quantity=2,
                        unit_price_net=line.unit_price_net,
                        unit_price_gross=line.unit_price_gross,
                        tax_rate=line.tax_rate,
                        discount=line.discount,
                        net=line.net,
                        tax=line.tax,
                        gross=line.gross,
                    )
                ],
                charges=[],
                notes=["from the phone"],
            ),
            actor="t",
            at=at,
        )
        session.flush()  # the new order's timeline is written with it, and reads back
        assert [e.kind for e in new.events] == ["created", "note", "stock_reserved"]
        orders.add_hold(new, "manual", "check the address", actor="t", at=at)
        session.flush()
        assert [e.kind for e in new.events][-2:] == ["state_changed", "hold_added"]
        # leaving without commit: the order and its timeline are rolled back together
    with catalogue:
        session = catalogue.session
        assert session.scalar(select(func.count()).select_from(SalesOrder)) == 1
        assert session.scalar(select(func.count()).select_from(OrderEvent)) == 2
        assert [e.kind for e in order_by_number(session, first).events] == [
            "created",
            "stock_reserved",
        ]
