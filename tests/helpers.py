"""Small builders for tests: an order in one line, the stock of an article in one call."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from sellerbridge.core.parties import Address
from sellerbridge.core.vat import SellerTaxProfile
from sellerbridge.db.models import Article, SalesOrder, StockLevelRecord, Warehouse
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services.orders import (
    ManualOrderInput,
    NewCustomer,
    OrderLineInput,
    create_manual_order,
)

BERLIN = Address(
    name="Max Mustermann",
    street1="Hauptstraße 1",
    postal_code="10115",
    city="Berlin",
    country="DE",
    email="max@example.de",
)


def place_order(uow: UnitOfWork, *lines: tuple[str, int, str], **options: Any) -> str:
    """Create a manual order for a new customer in Berlin; lines are (article, qty, price)."""
    order = ManualOrderInput(
        lines=[
            OrderLineInput(article, quantity, Decimal(price)) for article, quantity, price in lines
        ],
        customer=options.pop("customer", NewCustomer(BERLIN)),
        **options,
    )
    return create_manual_order(uow, order, actor="test", seller=SellerTaxProfile("DE"))


def level(uow: UnitOfWork, article: str, warehouse: str = "MAIN") -> tuple[int, int]:
    """(on hand, reserved) of an article in a warehouse; (0, 0) if it never had stock."""
    with uow:
        row = uow.session.scalars(
            select(StockLevelRecord)
            .join(Article, StockLevelRecord.article_id == Article.id)
            .join(Warehouse, StockLevelRecord.warehouse_id == Warehouse.id)
            .where(Article.number == article, Warehouse.code == warehouse)
        ).first()
        return (0, 0) if row is None else (row.on_hand, row.reserved)


def order_state(uow: UnitOfWork, number: str) -> str:
    with uow:
        return (
            uow.session.scalars(select(SalesOrder.state).where(SalesOrder.number == number))
            .one()
            .value
        )
