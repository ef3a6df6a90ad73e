"""Read-only queries for the screens of the CLI and the web app.

They take an open session and return models; callers render them inside the unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    Article,
    SalesOrder,
    SalesOrderLine,
    StockLevelRecord,
    StockMovement,
    StockReservation,
    Warehouse,
)
from sellerbridge.services.lookup import article_by_number, warehouse_by_code
from sellerbridge.services.stock import RESERVING_STATES


def articles(session: Session, search: str | None = None) -> Sequence[Article]:
    query = select(Article).order_by(Article.number)
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(
            or_(Article.number.ilike(pattern), Article.name.ilike(pattern), Article.gtin == search)
        )
    return session.scalars(query).all()


@dataclass(frozen=True)
class StockRow:
    article: Article
    warehouse: Warehouse
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def stock_levels(
    session: Session, article_number: str | None = None, warehouse_code: str | None = None
) -> list[StockRow]:
    query = (
        select(StockLevelRecord)
        .join(Article, StockLevelRecord.article_id == Article.id)
        .join(Warehouse, StockLevelRecord.warehouse_id == Warehouse.id)
        .order_by(Article.number, Warehouse.code)
    )
    if article_number:
        query = query.where(Article.id == article_by_number(session, article_number).id)
    if warehouse_code:
        query = query.where(Warehouse.id == warehouse_by_code(session, warehouse_code).id)
    return [
        StockRow(level.article, level.warehouse, level.on_hand, level.reserved)
        for level in session.scalars(query)
    ]


def movements(session: Session, article_number: str, limit: int = 20) -> Sequence[StockMovement]:
    article = article_by_number(session, article_number)
    query = (
        select(StockMovement)
        .where(StockMovement.article_id == article.id)
        .order_by(StockMovement.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


def orders(
    session: Session, state: OrderState | None = None, limit: int = 50
) -> Sequence[SalesOrder]:
    query = select(SalesOrder).order_by(SalesOrder.ordered_at.desc(), SalesOrder.id.desc())
    if state is not None:
        query = query.where(SalesOrder.state == state)
    return session.scalars(query.limit(limit)).all()


UNSHIPPED = (OrderState.ON_HOLD, OrderState.OPEN, OrderState.RELEASED,
             OrderState.PARTIALLY_SHIPPED)  # fmt: skip


def due_orders(session: Session, before: datetime) -> Sequence[SalesOrder]:
    """Orders not (fully) shipped whose ship-by date is before ``before``, most urgent first."""
    return session.scalars(
        select(SalesOrder)
        .where(SalesOrder.state.in_(UNSHIPPED), SalesOrder.ship_by < before)
        .order_by(SalesOrder.ship_by, SalesOrder.id)
    ).all()


@dataclass(frozen=True)
class Shortage:
    order_number: str
    article_number: str
    reserved: int
    wanted: int


def shortages(session: Session) -> list[Shortage]:
    """Order lines still waiting for stock, oldest order first."""
    query = (
        select(
            SalesOrder.number, Article.number, StockReservation.reserved, StockReservation.wanted
        )
        .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .join(StockReservation, StockReservation.order_line_id == SalesOrderLine.id)
        .join(Article, StockReservation.article_id == Article.id)
        .where(
            StockReservation.reserved < StockReservation.wanted,
            SalesOrder.state.in_(RESERVING_STATES),
        )
        .order_by(SalesOrder.ordered_at, SalesOrder.id, Article.number)
    )
    return [Shortage(*row) for row in session.execute(query)]
