"""Stock pushed by a process killed at random moments, under injected faults: the quantities
on the sandbox end equal to the wanted ones.

Each sync is ``tests/stock_worker.py`` in a process of its own (the ``SELLERBRIDGE_*``
variables point it at the test's database), talking HTTP to a sandbox in the test process.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from sellerbridge.db.models import AmazonOffer, AmazonStockSubmission, OfferResult
from sellerbridge.services import stock
from sellerbridge.services.setup import MAIN_WAREHOUSE
from tests.amazon import Shop
from tests.e2e.test_amazon_processes import spawn
from tests.helpers import level
from tests.integration.test_amazon_stock import amazon_quantities

FAULTS = [
    {"operation": "listings.patchListingsItem", "kind": "lost_response", "probability": 0.1},
    {"operation": "listings.patchListingsItem", "kind": "error500", "probability": 0.05},
    {"operation": "feeds.createFeed", "kind": "lost_response", "probability": 0.1},
    {"operation": "feeds.getFeed", "kind": "error503", "probability": 0.1},
    {"operation": "*", "kind": "reset", "probability": 0.05},
]


def steps(shop: Shop) -> int:
    """What the syncs have recorded: acknowledged offers and feeds written."""
    with shop.uow as uow:
        acknowledged = uow.session.scalar(
            select(func.count()).select_from(AmazonOffer).where(AmazonOffer.sent_at.is_not(None))
        )
        feeds = uow.session.scalar(select(func.count()).select_from(AmazonStockSubmission))
    return (acknowledged or 0) + (feeds or 0)


def test_stock_synced_by_killed_processes_under_faults_converges(
    start_shop: Callable[..., Shop], tmp_path: Path
) -> None:
    shop = start_shop()
    skus = sorted({sku for sku, _ in amazon_quantities(shop)})
    rng = random.Random(7)
    shop.live.admin("PUT", "/faults", json=FAULTS)
    log = tmp_path / "stock.log"
    interrupted = 0
    for round_ in range(10):
        # Stock moves between the runs: some SKUs sell out, others are received.
        for sku in rng.sample(skus, 6):
            counted = 0 if rng.random() < 0.3 else rng.randint(1, 50)
            if level(shop.uow, sku)[0] != counted:
                stock.adjust(shop.uow, article_number=sku, warehouse_code=MAIN_WAREHOUSE,
                             counted=counted, reason=f"count {round_}", actor="test")  # fmt: skip
        target = steps(shop) + 1
        process = spawn(shop, log, "tests.stock_worker")
        while process.poll() is None and steps(shop) < target:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.3))
        process.kill()
        interrupted += process.wait() == -signal.SIGKILL
    assert interrupted >= 4, f"only {interrupted} of 10 runs were still going when killed"

    shop.live.admin("PUT", "/faults", json=[])
    for _ in range(4):  # the last runs, left to finish
        finished = spawn(shop, log, "tests.stock_worker")
        assert finished.wait(timeout=120) == 0, log.read_text()[-3000:]
    wanted = {sku: level(shop.uow, sku)[0] for sku in skus}  # nothing is reserved here
    shown = amazon_quantities(shop)
    assert shown == {(sku, marketplace): wanted[sku] for sku, marketplace in shown}
    with shop.uow as uow:
        offers = uow.session.scalars(select(AmazonOffer)).all()
        assert not [o.seller_sku for o in offers if o.result is OfferResult.FAILED]
