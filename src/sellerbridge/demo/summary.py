"""What the demo leaves behind, counted from its database: the figures of its summary tables.

Every order is counted once, in exactly one (marketplace, channel, state) cell, so the cells
add up to the orders imported; what the demo could not process is listed with its reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from sellerbridge.core.channels import ChannelKind
from sellerbridge.db.models import (
    AmazonInvoiceUpload,
    AmazonMarketplace,
    AmazonOrderBinding,
    ConfirmationStatus,
    Document,
    OrderHold,
    SalesChannel,
    SalesOrder,
    Shipment,
    ShipmentConfirmation,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo.amazon import HOLD_LABELS
from sellerbridge.demo.fulfilment import Problem


@dataclass(frozen=True)
class Hold:
    order: str
    marketplace: str
    reason: str
    """The hold's kind, in a few words (``unknown SKU``)."""
    detail: str
    """The hold's own message: what exactly, and what to do."""


@dataclass
class DemoSummary:
    manual_orders: Counter[str] = field(default_factory=Counter)
    """Manual orders by state."""
    amazon_orders: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """Amazon orders by (marketplace country, FBM or FBA, state)."""
    imported: int = 0
    """Amazon orders imported (their bindings)."""
    documents: Counter[str] = field(default_factory=Counter)
    """Issued documents by kind."""
    document_files: int = 0
    labels: int = 0
    """Shipments with a bought label."""
    label_files: int = 0
    confirmations: Counter[str] = field(default_factory=Counter)
    """Shipment confirmations by status (pending, sent, verified, failed)."""
    confirmations_sent: int = 0
    """Confirmations that reached Amazon: sent by the exporter or by buying the label."""
    uploads: Counter[str] = field(default_factory=Counter)
    """Invoice uploads to Amazon by status (accepted, rejected, ...)."""
    credit_notes: Counter[str] = field(default_factory=Counter)
    """Credit note uploads to Amazon by status."""
    holds: list[Hold] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def count(engine: Engine) -> DemoSummary:
    """The summary's figures as the database has them now (files and problems left at 0)."""
    summary = DemoSummary()
    with UnitOfWork(engine) as uow:
        session = uow.session
        for state, number in session.execute(
            select(SalesOrder.state, func.count(SalesOrder.id))
            .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
            .where(SalesChannel.kind != ChannelKind.AMAZON)
            .group_by(SalesOrder.state)
        ):
            summary.manual_orders[state.label] = number
        marketplace = (
            select(AmazonMarketplace.country_code)
            .where(
                AmazonMarketplace.account_id == AmazonOrderBinding.account_id,
                AmazonMarketplace.marketplace_id == AmazonOrderBinding.marketplace_id,
            )
            .scalar_subquery()
        )
        for country, fulfilment, state, number in session.execute(
            select(marketplace, AmazonOrderBinding.fulfillment, SalesOrder.state,
                   func.count(AmazonOrderBinding.id))
            .join(SalesOrder, SalesOrder.id == AmazonOrderBinding.order_id)
            .group_by(marketplace, AmazonOrderBinding.fulfillment, SalesOrder.state)
        ):  # fmt: skip
            summary.amazon_orders[(country or "?", fulfilment.value, state.label)] = number
        summary.imported = session.scalar(select(func.count(AmazonOrderBinding.id))) or 0
        for kind, number in session.execute(
            select(Document.kind, func.count(Document.id)).group_by(Document.kind)
        ):
            summary.documents[kind.value.replace("_", " ")] = number
        summary.labels = (
            session.scalar(select(func.count(Shipment.id)).where(Shipment.label.is_not(None))) or 0
        )
        for status, number in session.execute(
            select(ShipmentConfirmation.status, func.count(ShipmentConfirmation.id)).group_by(
                ShipmentConfirmation.status
            )
        ):
            summary.confirmations[status.value] = number
        summary.confirmations_sent = (
            session.scalar(
                select(func.count(ShipmentConfirmation.id)).where(
                    ShipmentConfirmation.sent_at.is_not(None)
                )
            )
            or 0
        )
        for document_type, upload_status, number in session.execute(
            select(AmazonInvoiceUpload.document_type, AmazonInvoiceUpload.status,
                   func.count(AmazonInvoiceUpload.id))
            .group_by(AmazonInvoiceUpload.document_type, AmazonInvoiceUpload.status)
        ):  # fmt: skip
            counted = summary.credit_notes if document_type == "CreditNote" else summary.uploads
            counted[upload_status.value] = number
        for order, country, code, message in session.execute(
            select(SalesOrder.number, marketplace, OrderHold.code, OrderHold.message)
            .join(SalesOrder, SalesOrder.id == OrderHold.order_id)
            .outerjoin(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
            .where(OrderHold.resolved_at.is_(None))
            .order_by(OrderHold.code, SalesOrder.id)
        ):
            label = HOLD_LABELS.get(code, code.replace("_", " "))
            summary.holds.append(Hold(order, country or "manual", label, message))
    return summary


def confirmations_line(summary: DemoSummary) -> str:
    """``sent 84, verified 84, failed 0`` (and what is still on its way, if anything)."""
    statuses = summary.confirmations
    text = (
        f"sent {summary.confirmations_sent}, verified {statuses[ConfirmationStatus.VERIFIED]}, "
        f"failed {statuses[ConfirmationStatus.FAILED]}"
    )
    waiting = statuses[ConfirmationStatus.PENDING] + statuses[ConfirmationStatus.SENT]
    return text + (f", {waiting} not verified yet" if waiting else "")
