"""Shipments (packages that left the warehouse) and their confirmations to Amazon.

A shipment is one package: its carrier, shipping method, tracking number, the order lines and
quantities in it, and its label when one was bought. Shipping writes the shipment, books the
stock out and — for an Amazon FBM order — a pending ``shipment_confirmations`` row, all in one
transaction (DESIGN.md: every outbound intent is a row written with the change that caused it).
The confirmation exporter sends it, then reads the order back and marks it verified only when
Amazon shows the package with our carrier and tracking number.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sellerbridge.db.base import Base

if TYPE_CHECKING:
    from sellerbridge.db.models.orders import SalesOrder, SalesOrderLine


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    """Also the package's ``packageReferenceId`` at Amazon (a positive number, unique per
    order)."""
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(60))  # the ERP's name, e.g. "DHL"
    shipping_method: Mapped[str | None] = mapped_column(String(100))  # e.g. "DHL Paket"
    tracking_number: Mapped[str | None] = mapped_column(String(100), index=True)
    shipped_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(100))
    label: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    label_format: Mapped[str | None] = mapped_column(String(10))  # PDF, PNG, ZPL
    label_reference: Mapped[str | None] = mapped_column(String(100))  # the carrier's shipment id

    order: Mapped[SalesOrder] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment")


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (UniqueConstraint("shipment_id", "order_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("sales_order_lines.id"))
    quantity: Mapped[int]

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[SalesOrderLine] = relationship()


class ConfirmationStatus(StrEnum):
    PENDING = "pending"  # to be sent at next_attempt_at
    SENT = "sent"  # Amazon accepted it; not yet seen on the order
    VERIFIED = "verified"  # Amazon shows the package with our carrier and tracking number
    FAILED = "failed"  # refused, or not shown after sending: a person must look (an alert)


class ShipmentConfirmation(Base):
    __tablename__ = "shipment_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"), index=True)
    marketplace_id: Mapped[str] = mapped_column(String(20))
    amazon_order_id: Mapped[str] = mapped_column(String(30))
    status: Mapped[ConfirmationStatus] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    request_id: Mapped[str | None] = mapped_column(String(80))  # Amazon's, of the last call
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]

    shipment: Mapped[Shipment] = relationship()
