"""Writing many rows at once, in batches.

An ``executemany`` of 100,000 parameter sets holds them all, and the driver's copies, at once;
in batches of :data:`BATCH` a large stock reconcile stays within its memory budget
(``bench/stock_full_reconcile.py``) at no measurable cost in time.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.orm import Session

BATCH = 5_000


def execute_batched(
    session: Session, statement: Executable, rows: Iterable[dict[str, Any]], size: int = BATCH
) -> int:
    """Execute ``statement`` (a bulk INSERT, or an ORM bulk UPDATE by primary key) for
    ``rows``, ``size`` parameter sets at a time; returns how many rows were given."""
    iterator = iter(rows)
    count = 0
    while batch := list(islice(iterator, size)):
        session.execute(statement, batch)
        count += len(batch)
    return count
