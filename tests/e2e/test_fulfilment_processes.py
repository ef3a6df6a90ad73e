"""Shipment confirmations sent by a process killed at random moments, under injected faults.

The workspace is the test's database; each confirmation run is ``tests/confirm_worker.py`` in a
process of its own, started with the ``SELLERBRIDGE_*`` variables that point at it and talking
HTTP to a sandbox in the test process. What Amazon holds is read from the sandbox's records.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from sellerbridge.channels.amazon.shipments.confirm import FAILED_ALERT
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import ConfirmationStatus, ShipmentConfirmation
from sellerbridge.services.alerts import open_alerts
from sellerbridge.services.orders import release_order
from sellerbridge.services.shipping import Package, ship_order
from tests.amazon import Shop
from tests.e2e.test_amazon_processes import spawn

CONFIRM = "ordersV0.confirmShipment"
CARRIERS = ("DHL", "UPS", "DPD", "GLS")
HOURS_PER_RUN = 5
"""How far each run's clock is ahead of the last one's: past every pause and lease it left."""
PLAN_RATE = 8.0
"""Calls per second the sandbox allows each of confirmShipment and getOrder (after the
default burst), so that one run takes a few seconds and a kill lands in the middle of it."""


def ship_orders(shop: Shop, count: int) -> dict[tuple[str, str], tuple[str, str]]:
    """Place, import, release and ship ``count`` FBM orders, every third in two packages:
    (Amazon order id, package reference) → (Amazon carrier code, tracking number)."""
    order_ids = [
        shop.place(marketplace="DE", items=[{"sku": "SB-0001", "quantity": 2}])
        for _ in range(count)
    ]
    shop.sync()
    shipped: dict[tuple[str, str], tuple[str, str]] = {}
    for index, order_id in enumerate(order_ids):
        number = shop.erp(order_id).number
        release_order(shop.uow, number, actor="test")
        carrier = CARRIERS[index % len(CARRIERS)]
        if index % 3 == 0:
            parcels = [Package(carrier, f"TRK{index:03d}A", lines={1: 1}),
                       Package(carrier, f"TRK{index:03d}B", lines={1: 1})]  # fmt: skip
        else:
            parcels = [Package(carrier, f"TRK{index:03d}")]
        ids = ship_order(shop.uow, number, parcels, actor="test", at=utcnow())
        for shipment_id, parcel in zip(ids, parcels, strict=True):
            assert parcel.tracking_number is not None
            shipped[(order_id, str(shipment_id))] = (carrier, parcel.tracking_number)
    return shipped


def progress(shop: Shop) -> int:
    """Steps the runs have recorded: confirmations past pending, and tries counted."""
    with shop.uow as uow:
        moved = uow.session.scalar(
            select(func.count())
            .select_from(ShipmentConfirmation)
            .where(ShipmentConfirmation.status != ConfirmationStatus.PENDING)
        )
        tries = uow.session.scalar(select(func.sum(ShipmentConfirmation.attempts)))
    return (moved or 0) + (tries or 0)


def states(shop: Shop) -> Counter[str]:
    with shop.uow as uow:
        rows = uow.session.scalars(select(ShipmentConfirmation))
        return Counter(
            "verified" if row.status is ConfirmationStatus.VERIFIED and row.verified_at else
            row.status.value
            for row in rows
        )  # fmt: skip


def test_confirmations_killed_at_random_moments_under_faults_land_exactly_once(
    start_shop: Callable[..., Shop], tmp_path: Path
) -> None:
    started = time.monotonic()
    shop = start_shop()
    shipped = ship_orders(shop, 30)
    scale = shop.live.sandbox.config.time_scale
    for operation, burst in ((CONFIRM, 10), ("orders.getOrder", 30)):  # the default bursts
        shop.live.admin("PUT", f"/usage-plans/{operation}",
                        json={"rate": PLAN_RATE / scale, "burst": burst})  # fmt: skip
    shop.live.admin("PUT", "/faults", json=[
        {"operation": CONFIRM, "kind": "lost_response", "probability": 0.1},
        {"operation": CONFIRM, "kind": "error500", "probability": 0.05},
        {"operation": "*", "kind": "reset", "probability": 0.05},
    ])  # fmt: skip
    log = tmp_path / "confirm.log"
    # Each run is killed a random moment after it has recorded a step of its own, so the kills
    # land between Amazon's answer and our record, inside a claim, between packages.
    rng = random.Random(6)
    runs, interrupted = 0, 0
    while interrupted < 8 and runs < 12 and states(shop)["verified"] < len(shipped):
        runs += 1
        target = progress(shop) + 1
        process = spawn(shop, log, "tests.confirm_worker", str(runs * HOURS_PER_RUN))
        while process.poll() is None and progress(shop) < target:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.25))
        process.kill()
        interrupted += process.wait() == -signal.SIGKILL
    assert interrupted >= 4, f"only {interrupted} of {runs} runs were still going when killed"

    for _ in range(6):  # the last runs, left to finish (each one a few hours later)
        runs += 1
        finished = spawn(shop, log, "tests.confirm_worker", str(runs * HOURS_PER_RUN))
        assert finished.wait(timeout=60) == 0, log.read_text()
        if states(shop) == Counter(verified=len(shipped)):
            break

    assert states(shop) == Counter(verified=len(shipped))
    shown: Counter[tuple[str, str]] = Counter()
    details: dict[tuple[str, str], tuple[str, str]] = {}
    for order in shop.sandbox_orders():
        for package in order.packages:
            key = (order.order_id, package.package_reference_id)
            shown[key] += 1
            details[key] = (package.carrier_code, package.tracking_number)
    assert shown == Counter(dict.fromkeys(shipped, 1))  # every package once, none twice
    assert details == shipped  # with our carrier and tracking number
    with shop.uow as uow:
        assert [a.subject for a in open_alerts(uow.session) if a.kind == FAILED_ALERT] == []
    assert time.monotonic() - started < 60
