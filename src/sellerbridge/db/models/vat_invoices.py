"""Invoices Amazon issued in the seller's name (VCS with Amazon issuing the invoices).

Under the invoice mode ``vcs_amazon`` sellerbridge issues no invoice of its own; Amazon does,
and its VAT calculation report names each one. A row records one of Amazon's invoices (or
credit notes) for the books: Amazon's number, what it is for and its amounts. The number is
unique per account, so a second reading of the same report records nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sellerbridge.core.clock import utcnow
from sellerbridge.db.base import Base
from sellerbridge.db.models.orders import SalesOrder
from sellerbridge.db.types import ExactDecimal


class AmazonVatInvoice(Base):
    """One invoice or credit note Amazon issued for a shipment or refund of an Amazon order."""

    __tablename__ = "amazon_vat_invoices"
    __table_args__ = (UniqueConstraint("account_id", "invoice_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    amazon_order_id: Mapped[str] = mapped_column(String(30), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    """The imported order; None while the order is not imported (linked by a later run)."""
    shipment_id: Mapped[str] = mapped_column(String(60))
    transaction_type: Mapped[str] = mapped_column(String(20))
    """Amazon's transaction type: ``SHIPMENT`` (an invoice) or ``REFUND`` (a credit note)."""
    transaction_id: Mapped[str] = mapped_column(String(80))
    invoice_number: Mapped[str] = mapped_column(String(40))
    total_gross: Mapped[Decimal] = mapped_column(ExactDecimal())
    """VAT-inclusive; negative for a credit note, as Amazon reports a refund."""
    total_tax: Mapped[Decimal] = mapped_column(ExactDecimal())
    currency: Mapped[str] = mapped_column(String(3))
    invoice_url: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime | None]
    """Amazon's invoice date (None when the report gives none)."""
    shipped_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    order: Mapped[SalesOrder | None] = relationship()
