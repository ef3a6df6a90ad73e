"""The stock ledger, the stock levels derived from it, and reservations.

``stock_movements`` is append-only: database triggers refuse UPDATE and DELETE on it.
``stock_levels`` holds the running sums per article and warehouse, updated in the same
transaction as each movement or reservation, with the row locked so that concurrent
transactions cannot both take the last unit.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sellerbridge.core.clock import utcnow
from sellerbridge.core.stock import REASON_MAX, REFERENCE_MAX, MovementKind
from sellerbridge.db.base import Base
from sellerbridge.db.models.catalog import Article, Warehouse

if TYPE_CHECKING:
    from sellerbridge.db.models.orders import SalesOrderLine


class StockMovement(Base):
    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("quantity <> 0", name="nonzero_quantity"),
        Index("ix_stock_movements_article_warehouse", "article_id", "warehouse_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[MovementKind]
    quantity: Mapped[int]  # signed: positive adds stock, negative removes it
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    reference: Mapped[str | None] = mapped_column(String(REFERENCE_MAX), index=True)
    actor: Mapped[str] = mapped_column(String(100))

    article: Mapped[Article] = relationship()
    warehouse: Mapped[Warehouse] = relationship()


class StockLevelRecord(Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    article: Mapped[Article] = relationship()
    warehouse: Mapped[Warehouse] = relationship()


class StockReservation(Base):
    """Stock earmarked for one order line (for a bundle: one row per component).

    ``wanted`` is what the line needs, ``reserved`` what it has got so far; a line waiting for
    stock keeps ``reserved < wanted`` and is served first-come first-served when stock arrives.
    """

    __tablename__ = "stock_reservations"
    __table_args__ = (
        UniqueConstraint("order_line_id", "article_id"),
        CheckConstraint("reserved >= 0 AND reserved <= wanted", name="reserved_within_wanted"),
        Index("ix_stock_reservations_article_warehouse", "article_id", "warehouse_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    wanted: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    line: Mapped[SalesOrderLine] = relationship(back_populates="reservations")
