"""How long after "shipped" Amazon shows the package: shipment confirmation latency.

Starts a sandbox in this process (default usage plans, time-scaled: the scale is printed),
connects a fresh workspace to its seller, places, imports and releases N FBM orders, then starts
``sellerbridge run`` — the scheduler and the workers, a real process — and ships one order every
``--interval`` seconds with ``services.shipping.ship_order``, as a packer would. Per package it
measures the time from the commit of the ship to the confirmation's ``verified_at`` (Amazon
shows the package with our carrier and tracking number, read back by ``getOrder``), and prints
the count, median, 95th percentile and maximum against the target: p95 < 30 s.

``--minute-only`` runs the consumer without the confirmation watcher instead (what
``sellerbridge worker`` was before ``run``): the confirmations are then started only by the
minute's periodic task.

Measured on the 2-core development machine (SQLite, time scale 20, 30 orders, one every 1.5 s,
2 worker threads):

- ``sellerbridge run`` (the watcher looks every 5 s): 30 of 30 verified,
  median 2.6 s, p95 5.0 s, max 5.3 s (target met)
- ``--minute-only`` (Huey's periodic task alone): 30 of 30 verified,
  median 43.4 s, p95 63.7 s, max 65.2 s (target missed)

Hence the watcher in ``sellerbridge run`` (``jobs.app.watch_due_work``), with the minute's
task kept as the safety net.

    .venv/bin/python bench/confirm_latency.py [--orders 30] [--interval 1.5] [--time-scale 20]
        [--minute-only] [--database-url postgresql+psycopg://...]   (default: SQLite in a temp dir)
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import Engine, select

from sellerbridge import logs
from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.orders.importer import OrderImporter
from sellerbridge.channels.amazon.spapi import DEFAULT_PLANS
from sellerbridge.config import Settings
from sellerbridge.core.clock import ensure_utc, utcnow
from sellerbridge.db.engine import make_engine
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonOrderBinding,
    ConfirmationStatus,
    ImportMode,
    ShipmentConfirmation,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo.amazon import empty_database, sandbox_workspace
from sellerbridge.sandbox import SandboxConfig
from sellerbridge.sandbox.server import serve_in_background
from sellerbridge.secrets import secret_box
from sellerbridge.services.orders import release_order
from sellerbridge.services.shipping import Package, ship_order

TARGET_P95 = 30.0
CARRIERS = ("DHL", "UPS", "DPD", "GLS")
MINUTE_ONLY = """\
from sellerbridge.config import load_settings
from sellerbridge.db.engine import make_engine
from sellerbridge.jobs import build_jobs
settings = load_settings()
jobs = build_jobs(settings, make_engine(settings.effective_database_url))
jobs.huey.create_consumer(workers=2, worker_type="thread", periodic=True).run()
"""


def workspace(
    base: str, database_url: str | None, directory: Path, scale: float
) -> tuple[Settings, int]:
    """A fresh workspace selling the sandbox seller's catalogue, connected to it (manual
    imports: this bench imports the orders itself, before the clock starts)."""
    settings = Settings(
        data_dir=directory,
        database_url=database_url,
        secret_key=SecretStr(Fernet.generate_key().decode()),
        amazon_window_delay_seconds=120 / scale + 1,  # past Amazon's 2 minutes, time-scaled
    )
    if database_url:
        empty_database(database_url)
    account_id = sandbox_workspace(settings, base, mode=ImportMode.MANUAL, actor="bench")
    return settings, account_id


def released_orders(
    base: str, settings: Settings, engine: Engine, account_id: int, count: int
) -> list[str]:
    """Place ``count`` FBM orders in the sandbox, import and release them: their numbers."""
    since = utcnow() - timedelta(minutes=1)
    for _ in range(count):
        httpx.post(f"{base}/_sandbox/orders", json={"marketplace": "DE", "items": [
            {"sku": "SB-0001", "quantity": 1}]}).raise_for_status()  # fmt: skip
    time.sleep(settings.amazon_window_delay_seconds + 1)  # the orders old enough to be read
    with UnitOfWork(engine) as uow:
        account = uow.session.get_one(AmazonAccount, account_id)
        client = accounts.client_for(account, secret_box(settings), engine=engine,
                                     settings=settings)  # fmt: skip
    with client:
        OrderImporter(engine, account_id, client, settings, clock=utcnow).run(since=since)
    uow = UnitOfWork(engine)
    with uow:
        numbers = [
            binding.order.number
            for binding in uow.session.scalars(
                select(AmazonOrderBinding).order_by(AmazonOrderBinding.id)
            )
        ]
    for number in numbers:
        release_order(uow, number, actor="bench")
    if len(numbers) != count:
        raise SystemExit(f"imported {len(numbers)} of {count} orders")
    return numbers


def verified_at(engine: Engine) -> dict[int, float]:
    """Shipment id → the moment (epoch seconds) its confirmation was verified."""
    with UnitOfWork(engine) as uow:
        rows = uow.session.execute(
            select(ShipmentConfirmation.shipment_id, ShipmentConfirmation.verified_at).where(
                ShipmentConfirmation.status == ConfirmationStatus.VERIFIED
            )
        ).all()
    return {shipment: ensure_utc(at).timestamp() for shipment, at in rows if at is not None}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30)
    parser.add_argument("--interval", type=float, default=1.5, help="seconds between ships")
    parser.add_argument("--time-scale", type=float, default=20.0)
    parser.add_argument("--minute-only", action="store_true")
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    logs.configure("WARNING")
    root = Path(tempfile.mkdtemp(prefix="sellerbridge-bench-"))
    scale = options.time_scale
    confirm_rate, _ = DEFAULT_PLANS["ordersV0.confirmShipment"]
    read_rate, _ = DEFAULT_PLANS["orders.getOrder"]
    print(f"Sandbox at the default usage plans, time scale {scale:g} (confirmShipment "
          f"{confirm_rate * scale:g}/s, getOrder {read_rate * scale:g}/s); {options.orders} "
          f"orders shipped one every {options.interval:g} s; consumer: "
          + ("minute schedule only" if options.minute_only else "sellerbridge run"))  # fmt: skip
    try:
        with serve_in_background(SandboxConfig(time_scale=scale)) as running:
            base = running.base_url
            settings, account_id = workspace(base, options.database_url, root, scale)
            engine = make_engine(settings.effective_database_url)
            numbers = released_orders(base, settings, engine, account_id, options.orders)
            latencies = measure(options, settings, engine, numbers, root / "run.log")
            engine.dispose()
        report(latencies, options.orders)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def measure(
    options: argparse.Namespace, settings: Settings, engine: Engine, numbers: list[str],
    log: Path,
) -> list[float]:  # fmt: skip
    """Ship the orders under a running consumer; the seconds from ship to verified, per
    package."""
    assert settings.secret_key is not None
    environment = os.environ | {
        "SELLERBRIDGE_DATA_DIR": str(settings.data_dir),
        "SELLERBRIDGE_DATABASE_URL": settings.effective_database_url,
        "SELLERBRIDGE_SECRET_KEY": settings.secret_key.get_secret_value(),
        "SELLERBRIDGE_LOG_LEVEL": "WARNING",
    }
    command = (
        [sys.executable, "-c", MINUTE_ONLY]
        if options.minute_only
        else [sys.executable, "-m", "sellerbridge", "run"]
    )
    with log.open("ab") as output:
        consumer = subprocess.Popen(command, env=environment, stdout=output,
                                    stderr=subprocess.STDOUT)  # fmt: skip
    shipped: dict[int, float] = {}
    uow = UnitOfWork(engine)
    try:
        time.sleep(3)  # the consumer starts
        for index, number in enumerate(numbers):
            carrier = CARRIERS[index % len(CARRIERS)]
            (shipment_id,) = ship_order(uow, number, [Package(carrier, f"BENCH{index:05d}")],
                                        actor="bench", at=utcnow())  # fmt: skip
            shipped[shipment_id] = time.time()  # the ship is committed
            show(len(shipped), len(numbers), verified_at(engine))
            time.sleep(options.interval)
        deadline = time.monotonic() + 180
        while len(done := verified_at(engine)) < len(shipped) and time.monotonic() < deadline:
            show(len(shipped), len(numbers), done)
            time.sleep(0.5)
        done = verified_at(engine)
        show(len(shipped), len(numbers), done)
        print(file=sys.stderr)
    finally:
        consumer.send_signal(signal.SIGINT)  # finishes its running tasks
        try:
            consumer.wait(timeout=60)
        except subprocess.TimeoutExpired:
            consumer.kill()
            consumer.wait()
    if consumer.returncode not in (0, -signal.SIGINT):
        print(f"the consumer exited with {consumer.returncode}:\n{log.read_text()[-3000:]}")
    return [done[shipment] - at for shipment, at in shipped.items() if shipment in done]


def show(shipped: int, total: int, verified: dict[int, float]) -> None:
    print(f"\r  shipped {shipped}/{total}, verified at Amazon {len(verified)}",
          end="", file=sys.stderr, flush=True)  # fmt: skip


def report(latencies: list[float], total: int) -> None:
    print(f"\nShipped → verified at Amazon, per package ({len(latencies)} of {total} verified)")
    if not latencies:
        print("   nothing was verified")
        return
    p95 = percentile(latencies, 0.95)
    print(f"   median   {statistics.median(latencies):6.1f} s")
    print(f"   p95      {p95:6.1f} s   (target < {TARGET_P95:g} s: "
          f"{'met' if p95 < TARGET_P95 else 'MISSED'})")  # fmt: skip
    print(f"   max      {max(latencies):6.1f} s")


if __name__ == "__main__":
    main()
