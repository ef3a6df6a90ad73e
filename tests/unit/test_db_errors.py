"""Telling a conflict (try again) from other database errors (a person must look)."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from sellerbridge.db.errors import is_conflict


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def test_deadlocks_serialization_failures_and_busy_sqlite_are_conflicts() -> None:
    assert is_conflict(OperationalError("SELECT 1", {}, _PgError("40P01")))
    assert is_conflict(OperationalError("SELECT 1", {}, _PgError("40001")))
    assert is_conflict(
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
    )
    assert is_conflict(StaleDataError("version mismatch"))


def test_other_errors_are_not() -> None:
    assert not is_conflict(IntegrityError("INSERT", {}, _PgError("23505")))
    assert not is_conflict(OperationalError("SELECT 1", {}, _PgError("08006")))
    assert not is_conflict(ValueError("nope"))
