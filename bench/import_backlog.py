"""How fast a backlog of Amazon orders comes in: bound by Amazon's quota, and unthrottled.

Starts ``sellerbridge sandbox serve`` in a process of its own with N generated orders, connects
a fresh workspace to its seller and runs the order import as ``sellerbridge amazon import
--since`` would (the same importer, in this process). Two runs:

1. **At the default usage plans**, time-scaled. ``searchOrders`` allows a burst of 20 pages and
   then one page per 1/rate seconds, so N orders in P pages cannot take less than
   (P − 20) / rate seconds. Prints the wall time, the calls per operation, the 429s, that lower
   limit and the ratio (target: ≤ 1.05 and no 429).
2. **Unthrottled** (the sandbox's plan lifted), into a second fresh workspace: the local ingest
   rate — orders stored per second of the time not spent waiting for HTTP answers (target:
   ≥ 1,000/s on SQLite with 2 cores) — and the peak memory of this process.

    .venv/bin/python bench/import_backlog.py [--orders 10000] [--time-scale 300]
        [--database-url postgresql+psycopg://...]   (default: a SQLite file in a temp dir)
"""

from __future__ import annotations

import argparse
import math
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import func, select

from sellerbridge import logs
from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.orders.importer import PAGE_SIZE, OrderImporter, Outcome
from sellerbridge.channels.amazon.orders.importer import Progress as ImportProgress
from sellerbridge.channels.amazon.spapi import DEFAULT_PLANS
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.engine import make_engine
from sellerbridge.db.models import AmazonAccount, SpApiCall
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo.amazon import empty_database, sandbox_workspace
from sellerbridge.runtime import tune_gc
from sellerbridge.secrets import secret_box

SEARCH = "orders.searchOrders"
BACKFILL = timedelta(days=31)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def sandbox(orders: int, time_scale: float) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sellerbridge", "sandbox", "serve", "--port", str(port),
         "--orders", str(orders), "--time-scale", str(time_scale), "--seed", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{base}/_sandbox/sellers", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit("the sandbox did not start within 120 s") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def workspace(base: str, database_url: str | None, directory: Path) -> tuple[Settings, int]:
    """A fresh workspace selling the sandbox seller's catalogue, connected to it."""
    directory.mkdir(parents=True)
    settings = Settings(
        data_dir=directory,
        database_url=database_url,
        secret_key=SecretStr(Fernet.generate_key().decode()),
        amazon_window_delay_seconds=1,
    )
    if database_url:
        empty_database(database_url)
    return settings, sandbox_workspace(settings, base, actor="bench")


def import_all(settings: Settings, account_id: int, label: str) -> tuple[float, Counter[Outcome]]:
    """Backfill every order; returns the wall time and the outcomes."""
    engine = make_engine(settings.effective_database_url)
    with UnitOfWork(engine) as uow:
        account = uow.session.get_one(AmazonAccount, account_id)
        client = accounts.client_for(account, secret_box(settings), engine=engine,
                                     settings=settings)  # fmt: skip

    def show(progress: ImportProgress) -> None:
        print(f"\r  {label}: {progress.report.seen} orders, {progress.report.pages} pages",
              end="", file=sys.stderr, flush=True)  # fmt: skip

    tune_gc()  # as `sellerbridge amazon import` and the worker do before they start
    started = time.perf_counter()
    with client:
        importer = OrderImporter(engine, account_id, client, settings, clock=utcnow,
                                 on_progress=show)  # fmt: skip
        report = importer.run(since=utcnow() - BACKFILL)
    wall = time.perf_counter() - started
    print(file=sys.stderr)
    engine.dispose()
    return wall, report.orders


def calls(settings: Settings) -> tuple[Counter[tuple[str, int | None]], float]:
    """(operation, status) → calls, and the seconds spent in HTTP calls."""
    engine = make_engine(settings.effective_database_url)
    with engine.connect() as connection:
        operation, status = SpApiCall.operation, SpApiCall.status
        rows = connection.execute(
            select(operation, status, func.count(), func.sum(SpApiCall.duration_ms))
            .group_by(operation, status)
        ).all()  # fmt: skip
    engine.dispose()
    counted = Counter({(operation, status): count for operation, status, count, _ in rows})
    return counted, sum(duration for *_, duration in rows) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--time-scale", type=float, default=300.0)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    logs.configure("WARNING")
    rate, burst = DEFAULT_PLANS[SEARCH]
    scaled = rate * options.time_scale
    root = Path(tempfile.mkdtemp(prefix="sellerbridge-bench-"))
    try:
        print(f"Sandbox with {options.orders} orders, time scale {options.time_scale:g} "
              f"({SEARCH}: {scaled:.2f} pages/s after a burst of {burst})")  # fmt: skip
        with sandbox(options.orders, options.time_scale) as base:
            time.sleep(2)  # the newest orders out of Amazon's two minutes (time-scaled)

            settings, account_id = workspace(base, options.database_url, root / "quota")
            wall, outcomes = import_all(settings, account_id, "at the usage plan")
            counted, _ = calls(settings)
            seen = sum(outcomes.values())
            pages = max(1, math.ceil(seen / PAGE_SIZE))
            bound = max(0, pages - burst) / scaled
            print(f"\n1. At the default usage plans: {seen} orders read "
                  f"({outcomes[Outcome.CREATED]} created) in {pages} pages")  # fmt: skip
            print(f"   wall time              {wall:8.1f} s")
            if bound:
                print(f"   quota-bound lower limit {bound:7.1f} s   ratio {wall / bound:.3f}")
            else:
                print("   quota-bound lower limit: none (all pages fit in the burst)")
            for (operation, status), count in sorted(counted.items(), key=str):
                print(f"   {operation:<40} HTTP {status}  {count:6d} calls")
            throttled = sum(count for (_, status), count in counted.items() if status == 429)
            print(f"   429 answers            {throttled:8d}")

            httpx.put(f"{base}/_sandbox/usage-plans/{SEARCH}",
                      json={"rate": 1e6, "burst": 1_000_000}).raise_for_status()  # fmt: skip
            settings, account_id = workspace(base, options.database_url, root / "unthrottled")
            wall, outcomes = import_all(settings, account_id, "unthrottled")
            _, waiting = calls(settings)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            seen = sum(outcomes.values())
            print(f"\n2. Unthrottled: {seen} orders read ({outcomes[Outcome.CREATED]} created)")
            print(f"   wall time              {wall:8.1f} s   ({seen / wall:,.0f} orders/s)")
            print(f"   of it in HTTP calls    {waiting:8.1f} s")
            print(f"   local ingest rate      {seen / (wall - waiting):8,.0f} orders/s "
                  f"({outcomes[Outcome.CREATED] / (wall - waiting):,.0f} created/s)")  # fmt: skip
            print(f"   peak memory (RSS)      {peak_mb:8.0f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
