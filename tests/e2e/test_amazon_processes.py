"""The order import as separate processes: killed at random moments, and several at once.

The workspace is the test's database; the processes are ``sellerbridge amazon import`` (or,
where a test needs small pages, ``tests/import_worker.py``) started with the ``SELLERBRIDGE_*``
variables that point at it, talking HTTP to a sandbox in the test process.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import AmazonOrderBinding
from tests.amazon import Shop, assert_matches_sandbox, eligible


def spawn(
    shop: Shop, log: Path, *command: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``python -m COMMAND`` on the shop's workspace (``env``: more variables), output to
    ``log``."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", *command], env=shop.environment() | (env or {}),
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def imported_count(shop: Shop) -> int:
    with shop.uow as uow:
        return uow.session.scalar(select(func.count()).select_from(AmazonOrderBinding)) or 0


def test_an_import_killed_at_twenty_random_moments_ends_complete_and_without_duplicates(
    start_shop: Callable[..., Shop], tmp_path: Path
) -> None:
    shop = start_shop(orders=3000)
    since, until = shop.since.isoformat(), utcnow().isoformat()
    log = tmp_path / "import.log"
    # Each run (pages of 50 orders) is killed a random moment after it has stored its first page,
    # so every kill lands mid-import, between pages or inside one, however fast the machine is.
    rng = random.Random(27)
    progress = [0]
    for _ in range(20):
        target = progress[-1] + 1
        process = spawn(shop, log, "tests.import_worker", since, until, "50")
        while process.poll() is None and imported_count(shop) < target:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.1))
        process.kill()
        process.wait()
        progress.append(imported_count(shop))
    assert imported_count(shop) < sum(eligible(shop).values()), "an import ran to the end"
    assert len(set(progress)) >= 5, f"the kills did not interrupt the import: {progress}"

    finished = spawn(shop, log, "tests.import_worker", since, until, "50")
    assert finished.wait(timeout=300) == 0, log.read_text()
    assert_matches_sandbox(shop)


def requests_by_status(shop: Shop, operation: str) -> Counter[int]:
    entries = shop.live.admin("GET", "/requests", params={"operation": operation})
    return Counter(entry["status"] for entry in entries)


def test_one_import_at_the_default_usage_plan_is_never_throttled(
    start_shop: Callable[..., Shop],
) -> None:
    # 60 pages of 10 orders: 20 in the burst, 40 at the (time-scaled) restore rate.
    shop = start_shop(orders=600, time_scale=3000)
    with shop.importer(page_size=10) as importer:
        importer.run(since=shop.since)

    statuses = requests_by_status(shop, "orders.searchOrders")
    assert statuses[200] >= 60
    assert statuses[429] == 0
    assert_matches_sandbox(shop)


def test_three_imports_of_one_seller_share_its_quota(
    start_shop: Callable[..., Shop], tmp_path: Path
) -> None:
    # Backfills of the last 10, 20 and 31 days at once: they race for the same orders too.
    shop = start_shop(orders=1200, time_scale=3000)
    now, since = utcnow(), shop.since.isoformat()
    log = tmp_path / "workers.log"
    workers = [
        spawn(shop, log, "tests.import_worker", since, until.isoformat(), "10")
        for until in (now - timedelta(days=20), now - timedelta(days=10), now)
    ]
    for worker in workers:
        assert worker.wait(timeout=300) == 0, log.read_text()

    statuses = requests_by_status(shop, "orders.searchOrders")
    calls = sum(statuses.values())
    assert calls >= 150
    assert statuses[429] <= 0.01 * calls, statuses
    assert_matches_sandbox(shop)
