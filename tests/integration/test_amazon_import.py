"""The order import against a live sandbox over HTTP, on SQLite and PostgreSQL.

Each test starts its own sandbox; what must be imported is read from the sandbox's records
(``tests/amazon.py``), so the test checks sellerbridge against Amazon's view, not its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine, func, select

from sellerbridge.channels.amazon.orders.importer import Outcome
from sellerbridge.core.clock import utcnow
from sellerbridge.db.base import Base
from sellerbridge.db.models import ImportCursor
from tests.amazon import SHORT_TIMEOUT, Shop, assert_matches_sandbox


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_the_import_brings_in_every_eligible_order_once_with_amazons_amounts(
    start_shop: Callable[..., Shop],
) -> None:
    # Connected before the oldest order: the regular import reads them all.
    shop = start_shop(orders=2000, start_date=utcnow() - timedelta(days=31))
    with shop.importer() as importer:
        report = importer.run()

    assert report.orders[Outcome.CREATED] > 1500
    marketplaces = {order.marketplace_id for order in shop.sandbox_orders()}
    assert len(marketplaces) >= 8
    assert_matches_sandbox(shop)

    # The next run, and a backfill that reads every order again, change nothing.
    before = row_counts(shop.engine)
    for since in (None, shop.since):
        with shop.importer() as importer:
            again = importer.run(since=since)
        assert again.orders[Outcome.CREATED] == again.orders[Outcome.UPDATED] == 0
        assert again.orders[Outcome.FAILED] == 0
    assert again.orders[Outcome.UNCHANGED] == report.orders[Outcome.CREATED]
    after = row_counts(shop.engine)
    calls = ("spapi_calls", "amazon_import_cursors", "spapi_rate_buckets")
    assert {k: v for k, v in after.items() if k not in calls} == {
        k: v for k, v in before.items() if k not in calls
    }


FAULTS = ["throttle", "error500", "error503", "hang", "reset", "lost_response"]


def test_an_import_through_a_fifth_of_failing_calls_ends_as_one_without(
    start_shop: Callable[..., Shop],
) -> None:
    # A fast clock, so that the quota of the small pages does not make the test wait; hangs
    # outlast the client's timeout but not the test.
    shop = start_shop(orders=600, time_scale=6000, hang_seconds=SHORT_TIMEOUT + 1)
    shop.live.admin(
        "PUT",
        "/faults",
        json=[{"kind": kind, "probability": 0.2 / len(FAULTS)} for kind in FAULTS],
    )
    with shop.importer(page_size=10) as importer:
        importer.run(since=shop.since)

    log = shop.live.admin("GET", "/requests")
    faults = [entry["fault"] for entry in log if entry["fault"]]
    assert len(faults) >= 0.1 * len(log), f"too few faults to mean anything: {faults}"
    assert_matches_sandbox(shop)


def test_a_resumed_window_whose_pagination_token_expired_is_read_again(
    start_shop: Callable[..., Shop],
) -> None:
    shop = start_shop(orders=300)
    with shop.importer(page_size=50) as importer:
        report = importer.run(since=shop.since)
    assert report.pages == 6
    # A crash left a window open with a token Amazon no longer accepts.
    with shop.uow as uow:
        cursor = uow.session.scalars(select(ImportCursor)).one()
        cursor.window_after, cursor.window_before = shop.since, utcnow() - timedelta(seconds=5)
        cursor.pagination_token = "expired-long-ago"
        uow.commit()

    with shop.importer(page_size=50) as importer:
        resumed = importer.run(since=shop.since)

    assert resumed.orders[Outcome.UNCHANGED] == report.orders[Outcome.CREATED]
    assert resumed.orders[Outcome.CREATED] == 0
    assert_matches_sandbox(shop)
