"""Alerts: something an operator must look at (an order shipped and then cancelled, ...)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sellerbridge.core.clock import utcnow
from sellerbridge.db.base import Base


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(60))
    severity: Mapped[Severity]
    subject: Mapped[str] = mapped_column(String(100))
    """What it is about, e.g. an order number."""
    message: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
