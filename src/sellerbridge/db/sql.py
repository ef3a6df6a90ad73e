"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from sellerbridge.db.base import Base


def insert_if_absent(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING``: safe when two transactions create the same row."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())
