"""Under ``sellerbridge run``, a stock change reaches Amazon by itself within seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sellerbridge.channels.amazon import accounts
from sellerbridge.services import stock
from sellerbridge.services.setup import MAIN_WAREHOUSE
from tests.amazon import Shop
from tests.e2e.test_amazon_processes import spawn
from tests.integration.test_amazon_stock import PATCH, calls, push, quantities_of

DEADLINE_SECONDS = 60.0
"""How long the test waits; the watcher looks every 5 seconds (`jobs.app.WATCH_SECONDS`)."""


def test_a_sell_out_reaches_amazon_by_patch_without_anyone_pushing(
    start_shop: Callable[..., Shop], tmp_path: Path
) -> None:
    shop = start_shop(time_scale=60)
    push(shop)  # in step to begin with
    accounts.configure(shop.uow, None, stock_sync=True)
    sku = "SB-0005"
    assert quantities_of(shop, sku) == {1000}
    log = tmp_path / "run.log"
    worker = spawn(shop, log, "sellerbridge", "run")
    try:
        time.sleep(2)  # the scheduler and the watcher up
        before = len(calls(shop, PATCH))
        stock.adjust(shop.uow, article_number=sku, warehouse_code=MAIN_WAREHOUSE, counted=0,
                     reason="water damage", actor="test")  # fmt: skip
        changed = time.monotonic()
        while quantities_of(shop, sku) != {0}:
            assert worker.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() - changed < DEADLINE_SECONDS, log.read_text()[-3000:]
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    patched = [call for call in calls(shop, PATCH)[before:] if sku in call["path"]]
    assert len(patched) == 1  # one patch for all its marketplaces, at once
