"""Fixtures shared by every test tier.

Every test that asks for ``engine`` (or anything built on it) runs twice: on SQLite and on
PostgreSQL, and its test id says which (``test_x[sqlite]``, ``test_x[postgresql]``).

- SQLite: the schema is migrated once into a template file; each test gets a fresh copy.
- PostgreSQL: each test session creates its own database on the server named by
  ``SELLERBRIDGE_TEST_POSTGRES_URL`` (default: the local server), migrates it once, empties
  every table before each test and drops the database at the end. A server that cannot be
  reached fails the tests: CI must never pass by skipping half of them.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from sellerbridge.core.clock import utcnow
from sellerbridge.db.base import Base
from sellerbridge.db.engine import make_engine
from sellerbridge.db.migrate import upgrade
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.sandbox import SandboxConfig
from sellerbridge.services.articles import import_articles, read_csv
from sellerbridge.services.setup import initialise
from tests.amazon import Shop, open_shop, settings_for
from tests.sandbox.harness import LiveSandbox, serve

POSTGRES_SERVER_URL = os.environ.get(
    "SELLERBRIDGE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class TestDatabase:
    backend: str
    url: str  # for SQLite: the migrated template file, copied per test
    engine: Engine | None = None  # PostgreSQL: one engine for the whole session


def _create_postgres_database() -> tuple[str, str]:
    server = make_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    name = f"sellerbridge_test_{uuid.uuid4().hex[:12]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    url = make_url(POSTGRES_SERVER_URL).set(database=name)
    return name, url.render_as_string(hide_password=False)


def _drop_postgres_database(name: str) -> None:
    server = make_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    """Leave structlog as each test found it, whatever the test (or a command) configured."""
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def test_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestDatabase]:
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("sqlite") / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()
        yield TestDatabase("sqlite", str(template))
        return
    name, url = _create_postgres_database()
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield TestDatabase("postgresql", url, engine)
    finally:
        engine.dispose()
        _drop_postgres_database(name)


@pytest.fixture
def engine(test_database: TestDatabase, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database of the backend this test instance runs on."""
    if test_database.backend == "sqlite":
        path = tmp_path / "sellerbridge.db"
        shutil.copyfile(test_database.url, path)
        sqlite_engine = make_engine(f"sqlite:///{path}")
        yield sqlite_engine
        sqlite_engine.dispose()
        return
    assert test_database.engine is not None
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with test_database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield test_database.engine


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def uow(engine: Engine) -> UnitOfWork:
    return UnitOfWork(engine)


@pytest.fixture
def workspace(uow: UnitOfWork) -> UnitOfWork:
    """A database set up like `sellerbridge init` does: main warehouse, manual channel, series."""
    initialise(uow, home_country="DE")
    return uow


CATALOGUE_CSV = """\
article_number,name,gtin,tax_class,weight_g,stock_tracked,allow_backorder,components
KAF-1000,Espresso 1 kg,4006381333931,reduced,1050,yes,no,
MUE-0010,Handmühle,4007817327098,standard,640,yes,no,
TAS-0002,Espressotassen,,standard,480,yes,no,
FIL-0100,Papierfilter,,standard,190,yes,yes,
SET-BARISTA,Barista-Set,,standard,,,,"MUE-0010:1; KAF-1000:2"
GUT-0025,Gutschein,,zero,,no,no,
"""


@pytest.fixture
def catalogue(workspace: UnitOfWork) -> UnitOfWork:
    """The workspace with six articles: four tracked (one with backorders), a bundle, a voucher."""
    import_articles(workspace, *read_csv(CATALOGUE_CSV))
    return workspace


BACKFILL = timedelta(days=31)
"""Generated orders are at most 30 days old: a backfill from 31 days ago reads them all."""


@pytest.fixture
def start_shop(
    workspace: UnitOfWork, engine: Engine, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., Shop]]:
    """Start a sandbox (time scale 600) and connect a fresh workspace to its seller."""
    with ExitStack() as stack:

        def start(
            *, without: tuple[str, ...] = (), start_date: datetime | None = None, **config: Any
        ) -> Shop:
            config.setdefault("time_scale", 600)
            # Orders dated back from a minute ago: all of them are past Amazon's 2-minute rule.
            config.setdefault("anchor", utcnow() - timedelta(minutes=1))
            live: LiveSandbox = stack.enter_context(serve(SandboxConfig(**config)))
            settings = settings_for(tmp_path, database_url)
            since = utcnow() - BACKFILL
            return open_shop(
                live, engine, settings, since=since, without=without, start_date=start_date
            )

        yield start


_BACKEND_IN_ID = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgresql)(?:-[^\]]*)?\]")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many database tests ran on each engine, so a run that skipped one shows it."""
    counts: Counter[tuple[str, str]] = Counter()
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            match = _BACKEND_IN_ID.search(getattr(report, "nodeid", ""))
            if match and getattr(report, "when", "call") in ("call", "setup"):
                counts[(match.group(1), outcome)] += 1
    if not counts:
        return
    lines = []
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        parts = [f"{counts[(backend, o)]} {o}" for o in ("passed", "failed", "error", "skipped")]
        lines.append(f"  {label:<10} " + ", ".join(p for p in parts if not p.startswith("0 ")))
    terminalreporter.write_sep("-", "database tests by engine")
    for line in lines:
        terminalreporter.write_line(line)
