"""Atomic allocation of the next number of a series.

One ``UPDATE ... SET next_value = next_value + 1 ... RETURNING`` does the read and the
increment in a single statement. The row stays locked until the surrounding transaction ends
(PostgreSQL row lock, SQLite write lock), so two processes can never read the same value, and a
transaction that rolls back gives its number back: numbers stay unique and without gaps.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from sellerbridge.core.errors import NotFound
from sellerbridge.core.numbering import SeriesFormat
from sellerbridge.db.models import NumberSeries


def allocate_number(session: Session, document_type: str, series: str) -> str:
    """The next number of the series."""
    return allocate_numbers(session, document_type, series, 1)[0]


def allocate_numbers(session: Session, document_type: str, series: str, count: int) -> list[str]:
    """The next ``count`` numbers of the series, in one statement (for bulk imports)."""
    if count < 1:
        return []
    statement = (
        update(NumberSeries)
        .where(NumberSeries.document_type == document_type, NumberSeries.series == series)
        .values(next_value=NumberSeries.next_value + count)
        .returning(NumberSeries.next_value, NumberSeries.prefix, NumberSeries.width)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(statement).one_or_none()
    if row is None:
        raise NotFound(
            f"There is no number series {series!r} for {document_type}.",
            hint="Run `sellerbridge init` to create the standard series.",
        )
    next_value, prefix, width = row
    number_format = SeriesFormat(prefix, width)
    return [number_format.format(value) for value in range(next_value - count, next_value)]
