"""Alembic environment: migrates the engine handed over by :mod:`sellerbridge.db.migrate`, or,
when run by the ``alembic`` command, the database of the current settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from sellerbridge.config import load_settings
from sellerbridge.db import models  # noqa: F401  (registers every table on the metadata)
from sellerbridge.db.base import Base
from sellerbridge.db.engine import make_engine


def _engine() -> Engine:
    engine = context.config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    return make_engine(load_settings().effective_database_url)


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
