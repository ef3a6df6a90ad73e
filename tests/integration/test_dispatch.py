"""Automatic dispatch: documents for every released order, shipped when a label is bought."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, select

from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError
from sellerbridge.db.models import Document, Shipment
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import orders, queries, stock
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.dispatch import dispatch
from sellerbridge.services.shipping import LATE_ALERT, Label, Package, ship_order
from tests.helpers import order_state, place_order
from tests.integration.test_documents import SETTINGS


def released_orders(uow: UnitOfWork, count: int) -> list[str]:
    stock.receive(uow, article_number="KAF-1000", quantity=20, warehouse_code="MAIN", actor="t")
    numbers = [place_order(uow, ("KAF-1000", 2, "24.90")) for _ in range(count)]
    for number in numbers:
        orders.release_order(uow, number, actor="t")
    return numbers


def documents_by_order(uow: UnitOfWork) -> dict[str, list[str]]:
    with uow:
        found: dict[str, list[str]] = {}
        for document in uow.session.scalars(select(Document).order_by(Document.id)):
            found.setdefault(document.order.number, []).append(document.number)
        return found


def test_without_labels_the_documents_are_prepared_once(
    catalogue: UnitOfWork, engine: Engine
) -> None:
    first, second = released_orders(catalogue, 2)
    waiting = place_order(catalogue, ("MUE-0010", 1, "39.90"))  # no stock: stays open
    report = dispatch(engine, SETTINGS, actor="t", at=utcnow())
    assert (report.shipped, report.prepared, report.failed) == ([], [first, second], [])
    assert documents_by_order(catalogue) == {
        first: ["LS-000001", "RE-000001"],
        second: ["LS-000002", "RE-000002"],
    }
    assert order_state(catalogue, first) == "released"  # waits for its tracking number
    assert order_state(catalogue, waiting) == "open"
    again = dispatch(engine, SETTINGS, actor="t", at=utcnow())
    assert (again.shipped, again.prepared) == ([], [])


def test_with_a_label_each_order_ships_and_one_failure_holds_up_no_other(
    catalogue: UnitOfWork, engine: Engine
) -> None:
    first, second, third = released_orders(catalogue, 3)

    def buy_label(number: str) -> Package:  # the carrier's side of the edge
        if number == second:
            raise DomainError("No shipping service reaches the buyer by the ship-by date.")
        label = Label(b"%PDF-1.7 label of " + number.encode(), "PDF", f"SHIP-{number}")
        return Package("DHL", f"T-{number}", "DHL Paket", label=label)

    report = dispatch(engine, SETTINGS, actor="t", at=utcnow(), buy_label=buy_label)
    assert report.shipped == [first, third]
    assert report.failed == [(second, "No shipping service reaches the buyer by the ship-by date.")]
    assert [order_state(catalogue, n) for n in (first, second, third)] == [
        "shipped", "released", "shipped",
    ]  # fmt: skip
    with catalogue:
        shipments = catalogue.session.scalars(select(Shipment).order_by(Shipment.id)).all()
        assert [(s.order.number, s.tracking_number, s.label) for s in shipments] == [
            (first, f"T-{first}", b"%PDF-1.7 label of " + first.encode()),
            (third, f"T-{third}", b"%PDF-1.7 label of " + third.encode()),
        ]
    assert set(documents_by_order(catalogue)) == {first, third}


def test_open_orders_with_their_stock_are_released_and_late_ones_alerted(
    catalogue: UnitOfWork, engine: Engine
) -> None:
    stock.receive(catalogue, article_number="KAF-1000", quantity=2, warehouse_code="MAIN",
                  actor="t")  # fmt: skip
    now = utcnow()
    ready = place_order(catalogue, ("KAF-1000", 2, "24.90"), ship_by=now - timedelta(hours=1))
    short = place_order(catalogue, ("KAF-1000", 1, "24.90"), ship_by=now - timedelta(hours=2))
    report = dispatch(engine, SETTINGS, actor="t", at=now)
    assert report.released == [ready]
    assert report.prepared == [ready]
    assert order_state(catalogue, short) == "open"  # waits for its stock
    with catalogue:
        late = {a.subject for a in open_alerts(catalogue.session) if a.kind == LATE_ALERT}
        assert late == {ready, short}
        assert [o.number for o in queries.due_orders(catalogue.session, now)] == [short, ready]
    ship_order(catalogue, ready, [Package("DHL", "T-1")], actor="t", at=now)
    with catalogue:
        late = {a.subject for a in open_alerts(catalogue.session) if a.kind == LATE_ALERT}
        assert late == {short}  # shipping resolves its alert
