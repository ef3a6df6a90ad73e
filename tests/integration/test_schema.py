"""The migrations build exactly the schema the models describe, on both engines."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError, StatementError

from sellerbridge.core.parties import PII_FIELDS
from sellerbridge.core.stock import MovementKind
from sellerbridge.db.base import Base
from sellerbridge.db.models import AddressRecord, Article, StockMovement
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_stock_movements_cannot_be_changed_or_deleted(workspace: UnitOfWork) -> None:
    with workspace:
        workspace.session.add(
            Article(
                number="A-1",
                name="A",
                tax_class="standard",
                stock_tracked=True,
                allow_backorder=False,
            )
        )
        workspace.commit()
    stock.receive(workspace, article_number="A-1", quantity=5, warehouse_code="MAIN", actor="test")
    for statement in ("UPDATE stock_movements SET quantity = 50", "DELETE FROM stock_movements"):
        with workspace, pytest.raises(DBAPIError, match="append-only"):
            workspace.session.execute(text(statement))
    with workspace:
        assert workspace.session.query(StockMovement).one().quantity == 5


def test_naive_datetimes_are_refused(workspace: UnitOfWork) -> None:
    with workspace:
        workspace.session.add(
            StockMovement(
                at=datetime(2026, 1, 1),  # noqa: DTZ001 (the point of the test)
                article_id=1,
                warehouse_id=1,
                kind=MovementKind.RECEIPT,
                quantity=1,
                actor="test",
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            workspace.session.flush()


def test_personal_data_columns_are_marked(engine: Engine) -> None:
    marked = {column.name for column in AddressRecord.__table__.columns if column.info.get("pii")}
    assert marked == set(PII_FIELDS)
    assert "addresses" in inspect(engine).get_table_names()
