"""Column types that keep money exact and time in UTC on every database engine."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime.

    Naive datetimes are refused on the way in: a time without a zone is a bug waiting for the
    next daylight-saving change. SQLite stores no zone, so values come back tagged as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store the naive datetime {value}; use UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


DECIMAL_PLACES = 6


class ExactDecimal(TypeDecorator[Decimal]):
    """A decimal stored without loss: NUMERIC(24, 6) on PostgreSQL, text on SQLite.

    SQLite has no decimal type and would turn 19.99 into a binary float; text keeps every digit.
    Sums are therefore computed in Python, not in SQL. A value with more than six decimals is
    refused on both engines rather than rounded by one of them.
    """

    impl = String(40)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(24, DECIMAL_PLACES, asdecimal=True))
        return dialect.type_descriptor(String(40))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"expected a Decimal, got {type(value).__name__} {value!r}")
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > DECIMAL_PLACES:
            raise ValueError(f"{value} has more than {DECIMAL_PLACES} decimals")
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)
