"""Shipping orders: packages, partial shipments, stock booked out, confirmations queued."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError, InvalidInput
from sellerbridge.db.models import ConfirmationStatus, Shipment, ShipmentConfirmation
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import orders
from sellerbridge.services.shipping import Package, ship_order
from tests.amazon import Shop
from tests.helpers import level, order_state, place_order
from tests.integration.test_documents import released_order


def packages_of(uow: UnitOfWork, order: str) -> list[tuple[str, str | None, list[tuple[int, int]]]]:
    with uow:
        shipments = uow.session.scalars(select(Shipment).order_by(Shipment.id)).all()
        return [
            (s.carrier, s.tracking_number,
             sorted((line.order_line.position, line.quantity) for line in s.lines))
            for s in shipments
            if s.order.number == order
        ]  # fmt: skip


def test_three_items_in_two_packages_ship_partially_then_fully(catalogue: UnitOfWork) -> None:
    order = released_order(catalogue)  # 2 × espresso (line 1), 1 × grinder (line 2)
    assert level(catalogue, "KAF-1000") == (5, 2)

    ship_order(catalogue, order, [Package("DHL", "00340434161094042557", lines={1: 1})],
               actor="t", at=utcnow())  # fmt: skip
    assert order_state(catalogue, order) == "partially_shipped"
    assert level(catalogue, "KAF-1000") == (4, 1)  # one unit left the warehouse

    ship_order(catalogue, order, [Package("DPD", "01234567890123", "DPD Classic")],
               actor="t", at=utcnow())  # fmt: skip
    assert order_state(catalogue, order) == "shipped"
    assert level(catalogue, "KAF-1000") == (3, 0)
    assert level(catalogue, "MUE-0010") == (1, 0)
    assert packages_of(catalogue, order) == [
        ("DHL", "00340434161094042557", [(1, 1)]),
        ("DPD", "01234567890123", [(1, 1), (2, 1)]),
    ]


def test_what_cannot_ship_is_refused_and_nothing_moves(catalogue: UnitOfWork) -> None:
    order = released_order(catalogue)
    with pytest.raises(InvalidInput, match="line 1 has 2 unit\\(s\\) left to ship, not 3"):
        ship_order(catalogue, order, [Package("DHL", "1", lines={1: 3})], actor="t", at=utcnow())
    with pytest.raises(InvalidInput, match="has no line 7"):
        ship_order(catalogue, order, [Package("DHL", "1", lines={7: 1})], actor="t", at=utcnow())
    with pytest.raises(InvalidInput, match="carrier: is empty"):
        ship_order(catalogue, order, [Package(" ", "1")], actor="t", at=utcnow())
    assert level(catalogue, "KAF-1000") == (5, 2)
    assert order_state(catalogue, order) == "released"

    waiting = place_order(catalogue, ("KAF-1000", 1, "24.90"))
    with pytest.raises(DomainError, match="is open; only a released order ships"):
        ship_order(catalogue, waiting, [Package("DHL", "2")], actor="t", at=utcnow())
    orders.release_order(catalogue, waiting, actor="t")
    ship_order(catalogue, waiting, [Package("DHL", "2")], actor="t", at=utcnow())
    with pytest.raises(DomainError, match="is shipped; only a released order ships"):
        ship_order(catalogue, waiting, [Package("DHL", "3")], actor="t", at=utcnow())


def test_an_amazon_fbm_order_queues_one_confirmation_per_package(
    start_shop: Callable[..., Shop], tmp_path: Path
) -> None:
    shop = start_shop()
    order_id = shop.place(marketplace="DE", items=[{"sku": "SB-0005", "quantity": 3}])
    shop.sync()
    orders.release_order(shop.uow, order_id, actor="t")
    at = utcnow()
    methods = Settings(data_dir=tmp_path, shipping_methods={"standard": "DHL Paket"})
    packages = [Package("DHL", "111", lines={1: 2}), Package("DHL", "222")]
    ship_order(shop.uow, order_id, packages, actor="t", at=at,
               methods=methods.shipping_methods)  # fmt: skip
    with shop.uow as uow:
        queued = uow.session.scalars(
            select(ShipmentConfirmation).order_by(ShipmentConfirmation.id)
        ).all()
        assert [(c.amazon_order_id, c.status, c.next_attempt_at) for c in queued] == [
            (order_id, ConfirmationStatus.PENDING, at),
            (order_id, ConfirmationStatus.PENDING, at),
        ]
        assert [c.shipment.tracking_number for c in queued] == ["111", "222"]
        # The buyer chose STANDARD at checkout: the configured method for it goes to Amazon.
        assert [c.shipment.shipping_method for c in queued] == ["DHL Paket", "DHL Paket"]
    assert shop.erp(order_id).state == "shipped"
