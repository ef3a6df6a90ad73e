"""Locks that say "only one of us does this now", released when their holder dies.

A crashed worker must never leave a lock behind that blocks the next run, so the lock lives
with the holder's connection or file handle, not in a table row:

- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection kept for the
  duration; the server drops it when that connection ends, however it ends.
- SQLite (one machine by nature): an exclusive ``flock`` on a lock file beside the database;
  the kernel drops it when the process ends.
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from sellerbridge.core.errors import DomainError


class LockTaken(DomainError):
    """Someone else holds the lock; the work is being done already."""


def _key(name: str) -> int:
    """A signed 64-bit key for ``name`` (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str, *, busy: str | None = None) -> Iterator[None]:
    """Hold the lock ``name`` for the block, or raise :class:`LockTaken` at once (saying
    ``busy``, if given)."""
    taken = LockTaken(busy or f"{name} is running elsewhere already.")
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            acquired = connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _key(name)}
            )
            connection.commit()
            if not acquired:
                raise taken
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _key(name)})
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # a private in-memory database has no other process to exclude
        return
    path = Path(f"{database}.{_key(name) & 0xFFFFFFFF:08x}.lock")
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise taken from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
