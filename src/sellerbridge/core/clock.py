"""Time is timezone-aware UTC inside sellerbridge; local time exists only on screens and paper."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_utc(value: datetime, *, field: str = "time") -> datetime:
    """Return ``value`` in UTC; refuse naive datetimes, whose meaning nobody can know."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field} must carry a time zone; got the naive datetime {value}")
    return value.astimezone(UTC)
