"""Database engines with the settings sellerbridge relies on.

SQLite:

- WAL, so a plain read never waits for a writer; ``synchronous=FULL``, so a committed order
  survives a power cut; ``foreign_keys=ON``, which SQLite leaves off by default.
- Every transaction starts with ``BEGIN IMMEDIATE``. SQLite's default deferred transaction
  takes the write lock only at its first write; if another process committed in between, the
  upgrade fails at once with "database is locked" instead of waiting. Taking the lock up front
  makes concurrent writers queue (up to the busy timeout) the way row locks do on PostgreSQL.
  The price: a transaction that only reads queues behind a writer too. Transactions are kept
  short (no network calls inside one), so the wait is short. pysqlite's own transaction
  handling is switched off so that it cannot interfere, as the SQLAlchemy documentation
  recommends.

PostgreSQL needs nothing special: row locks (``SELECT ... FOR UPDATE``) serialise stock
changes and number allocation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for ``url``; for SQLite, create the file's directory and set it up."""
    parsed = make_url(url)
    # Statement parameters hold names and addresses: keep them out of error messages and logs.
    options.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **options)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "isolation_level": None}, **options
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
