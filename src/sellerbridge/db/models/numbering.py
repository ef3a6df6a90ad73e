"""Number series (see :mod:`sellerbridge.core.numbering`)."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sellerbridge.db.base import Base


class NumberSeries(Base):
    __tablename__ = "number_series"
    __table_args__ = (
        UniqueConstraint("document_type", "series"),
        CheckConstraint("next_value > 0", name="positive_next_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(40))
    series: Mapped[str] = mapped_column(String(40))
    prefix: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    next_value: Mapped[int] = mapped_column(default=1)
