"""Sales channels, sales orders with their lines, charges, holds and timeline."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sellerbridge.core.channels import ChannelKind
from sellerbridge.core.clock import utcnow
from sellerbridge.core.orders import EXTERNAL_REFERENCE_MAX, ChargeKind, OrderState
from sellerbridge.db.base import Base, Timestamped
from sellerbridge.db.models.catalog import Article, Warehouse
from sellerbridge.db.models.parties import AddressRecord, Customer
from sellerbridge.db.models.stock import StockReservation
from sellerbridge.db.types import ExactDecimal


class SalesChannel(Timestamped, Base):
    __tablename__ = "sales_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ChannelKind]
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    order_series: Mapped[str] = mapped_column(String(40))
    # The number series its invoices, corrections and delivery notes are numbered from.
    document_series: Mapped[str] = mapped_column(String(40), default="default")
    fulfilled_externally: Mapped[bool] = mapped_column(default=False)
    """Its orders are shipped by the channel itself (Amazon FBA), not from our warehouse."""
    channel_invoices_from: Mapped[datetime | None]
    """The channel issues the invoices of the orders placed from then on (Amazon VCS with
    Amazon issuing); sellerbridge issues, uploads and e-mails none for them."""
    vat_data_from: Mapped[datetime | None]
    """The invoices of the orders placed from then on are issued from the channel's VAT
    calculation (Amazon VCS with own invoices), when it reports it, not at shipment."""
    active: Mapped[bool] = mapped_column(default=True)

    def invoices(self, order: SalesOrder) -> bool:
        """Whether the channel, not sellerbridge, invoices ``order``."""
        start = self.channel_invoices_from
        return start is not None and order.ordered_at >= start

    def reports_vat(self, order: SalesOrder) -> bool:
        """Whether ``order`` is invoiced from the channel's VAT calculation, when it comes."""
        start = self.vat_data_from
        return start is not None and order.ordered_at >= start

    warehouse: Mapped[Warehouse] = relationship()


class SalesOrder(Timestamped, Base):
    __tablename__ = "sales_orders"
    __table_args__ = (UniqueConstraint("channel_id", "external_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("sales_channels.id"))
    external_reference: Mapped[str | None] = mapped_column(
        String(EXTERNAL_REFERENCE_MAX), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    billing_address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    shipping_address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouses.id"))
    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool]
    state: Mapped[OrderState] = mapped_column(index=True)
    ordered_at: Mapped[datetime]
    ship_by: Mapped[datetime | None]
    deliver_by: Mapped[datetime | None]
    # How fast the buyer was promised delivery (Amazon: Standard, Expedited, NextDay, ...); the
    # automatic dispatch chooses the shipping method by it.
    service_level: Mapped[str | None] = mapped_column(String(30))
    total_net: Mapped[Decimal] = mapped_column(ExactDecimal())
    total_tax: Mapped[Decimal] = mapped_column(ExactDecimal())
    total_gross: Mapped[Decimal] = mapped_column(ExactDecimal())
    # Optimistic locking: a concurrent change of the same order fails instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (read by SQLAlchemy)

    channel: Mapped[SalesChannel] = relationship()
    customer: Mapped[Customer] = relationship()
    billing_address: Mapped[AddressRecord] = relationship(foreign_keys=[billing_address_id])
    shipping_address: Mapped[AddressRecord] = relationship(foreign_keys=[shipping_address_id])
    warehouse: Mapped[Warehouse] = relationship()
    lines: Mapped[list[SalesOrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="SalesOrderLine.position"
    )
    charges: Mapped[list[SalesOrderCharge]] = relationship(
        cascade="all, delete-orphan", order_by="SalesOrderCharge.id"
    )
    holds: Mapped[list[OrderHold]] = relationship(
        cascade="all, delete-orphan", order_by="OrderHold.id"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        cascade="all, delete-orphan", order_by="OrderEvent.id"
    )

    @property
    def open_holds(self) -> list[OrderHold]:
        return [hold for hold in self.holds if hold.resolved_at is None]


class SalesOrderLine(Base):
    __tablename__ = "sales_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "position"),
        CheckConstraint("quantity > 0", name="positive_quantity"),
        CheckConstraint(
            "shipped_quantity >= 0 AND shipped_quantity <= quantity", name="shipped_within_ordered"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    position: Mapped[int]
    # The article, once known; an imported line whose SKU matches no article keeps the SKU in
    # ``article_number`` and the order stays on hold until someone maps it.
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    article_number: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(255))
    external_reference: Mapped[str | None] = mapped_column(String(40))
    """The channel's id of the line (Amazon's orderItemId), needed to confirm shipments."""
    quantity: Mapped[int]
    shipped_quantity: Mapped[int] = mapped_column(default=0)
    unit_price_net: Mapped[Decimal] = mapped_column(ExactDecimal())
    unit_price_gross: Mapped[Decimal] = mapped_column(ExactDecimal())
    tax_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    discount: Mapped[Decimal] = mapped_column(ExactDecimal())
    net: Mapped[Decimal] = mapped_column(ExactDecimal())
    tax: Mapped[Decimal] = mapped_column(ExactDecimal())
    gross: Mapped[Decimal] = mapped_column(ExactDecimal())

    order: Mapped[SalesOrder] = relationship(back_populates="lines")
    article: Mapped[Article | None] = relationship()
    reservations: Mapped[list[StockReservation]] = relationship(
        back_populates="line", cascade="all, delete-orphan", order_by="StockReservation.article_id"
    )


class SalesOrderCharge(Base):
    """Shipping, gift wrap, cash-on-delivery fees and other amounts on an order."""

    __tablename__ = "sales_order_charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"))
    kind: Mapped[ChargeKind]
    description: Mapped[str] = mapped_column(String(255))
    tax_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    net: Mapped[Decimal] = mapped_column(ExactDecimal())
    tax: Mapped[Decimal] = mapped_column(ExactDecimal())
    gross: Mapped[Decimal] = mapped_column(ExactDecimal())


class OrderHold(Base):
    """Why an order waits for a person; resolved holds stay as history."""

    __tablename__ = "order_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(100))


class OrderEvent(Base):
    """One entry of an order's timeline: what happened, when, and who or which job did it."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
