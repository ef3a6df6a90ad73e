"""Database errors that mean "try again", told apart from the ones that need a person."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

# PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected, lock_not_available.
_RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def is_conflict(error: BaseException) -> bool:
    """True if ``error`` came from a concurrent change: nothing was saved, a retry may work."""
    if isinstance(error, StaleDataError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(error.orig)
