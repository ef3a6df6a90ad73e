"""Issued documents (invoices, correction invoices, delivery notes) and their e-mail delivery.

A document is written once, with the exact PDF that was issued, its SHA-256 and issue time,
and never changed: database triggers refuse UPDATE and DELETE on ``documents`` and
``document_lines`` (German invoice law and GoBD: an issued invoice is corrected by a new
document, never edited). What happens to a document afterwards — e-mails, uploads — lives in
tables of its own.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.orders import ChargeKind
from sellerbridge.db.base import Base
from sellerbridge.db.types import ExactDecimal

if TYPE_CHECKING:
    from sellerbridge.db.models.orders import SalesOrder


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocumentKind]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), index=True)
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    total_net: Mapped[Decimal] = mapped_column(ExactDecimal())
    total_tax: Mapped[Decimal] = mapped_column(ExactDecimal())
    total_gross: Mapped[Decimal] = mapped_column(ExactDecimal())
    reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[datetime]
    issued_by: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, info={"pii": True})
    # What the PDF says, as JSON (core.documents.DocumentContent): what was issued, for e-mails
    # and uploads, never re-derived from the order or settings that may have changed since.
    content: Mapped[str] = mapped_column(Text, deferred=True, info={"pii": True})

    order: Mapped[SalesOrder] = relationship()
    corrects: Mapped[Document | None] = relationship(remote_side=[id])
    lines: Mapped[list[DocumentLineRecord]] = relationship(
        order_by="DocumentLineRecord.position", back_populates="document"
    )


class DocumentLineRecord(Base):
    """A line of an issued document, as printed; corrections refer to the invoice's order lines
    so that no more is corrected than was invoiced."""

    __tablename__ = "document_lines"
    __table_args__ = (UniqueConstraint("document_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    position: Mapped[int]
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order_lines.id"))
    charge_kind: Mapped[ChargeKind | None]
    description: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int]
    tax_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    net: Mapped[Decimal] = mapped_column(ExactDecimal())
    tax: Mapped[Decimal] = mapped_column(ExactDecimal())
    gross: Mapped[Decimal] = mapped_column(ExactDecimal())

    document: Mapped[Document] = relationship(back_populates="lines")


class MailStatus(StrEnum):
    PENDING = "pending"  # to be sent (again) at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # refused for good, or out of attempts: a person must look


class DocumentMail(Base):
    """The intent to e-mail a document to its buyer, and how it went (DESIGN.md: every outbound
    intent is a row written with the change that caused it)."""

    __tablename__ = "document_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    status: Mapped[MailStatus] = mapped_column(index=True)
    recipient: Mapped[str] = mapped_column(String(255), info={"pii": True})
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    message_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    document: Mapped[Document] = relationship()
    history: Mapped[list[DocumentMailAttempt]] = relationship(
        order_by="DocumentMailAttempt.id", back_populates="mail"
    )


class DocumentMailAttempt(Base):
    """One try to hand a mail to the SMTP server: when, and what the server said."""

    __tablename__ = "document_mail_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("document_mails.id"), index=True)
    at: Mapped[datetime]
    result: Mapped[str] = mapped_column(String(20))  # sent | refused | temporary_failure
    error: Mapped[str | None] = mapped_column(String(500))

    mail: Mapped[DocumentMail] = relationship(back_populates="history")
