"""How long a full stock reconcile of 100,000 SKUs takes, and what it costs.

Starts ``sellerbridge sandbox serve`` in a process of its own, gives its seller N merchant
listings on amazon.de (``POST /_sandbox/listings/{seller}/bulk``, quantity 0), and a fresh
workspace the same N articles with stock and SKU bindings (written in bulk), so every one of
them differs from Amazon. Then runs ``sellerbridge stock push --full`` (the same sync, in this
process): the listings report of every marketplace, the comparison, the feeds, their results —
and a second full push, which must send nothing.

Prints, per push: the wall time; the time in HTTP calls and spent waiting for Amazon's report
and feed processing (time-scaled in the sandbox); the **local work** (the rest: reading the
reports, computing quantities, writing offers and feeds; target < 60 s); the feeds, their
messages, and the calls per operation; and the peak memory of this process (target < 300 MB).

    .venv/bin/python bench/stock_full_reconcile.py [--skus 100000] [--time-scale 300]
        [--database-url postgresql+psycopg://...]   (default: a SQLite file in a temp dir)
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from import_backlog import sandbox  # the sibling benchmark's sandbox process
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from sellerbridge import logs
from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.channels.amazon.stock.sync import sync_stock
from sellerbridge.config import Settings
from sellerbridge.db.engine import make_engine
from sellerbridge.db.models import AmazonAccount, SpApiCall
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo.amazon import bulk_catalogue, empty_database, sandbox_workspace
from sellerbridge.runtime import tune_gc
from sellerbridge.secrets import secret_box

POLL_SECONDS = 0.25
"""How long this benchmark really sleeps when the sync waits for Amazon (time-scaled)."""


def reset_peak_memory() -> None:
    """Start the peak resident set size afresh (Linux: ``clear_refs`` 5 resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_memory_mb() -> float:
    """The peak resident set size since :func:`reset_peak_memory` (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmHWM in /proc/self/status: this benchmark measures memory on Linux")


def calls(settings: Settings, since: int) -> tuple[Counter[str], float, int]:
    """Calls per operation after call id ``since``, their seconds, and the last call id."""
    engine = make_engine(settings.effective_database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(SpApiCall.operation, func.count(), func.sum(SpApiCall.duration_ms),
                   func.max(SpApiCall.id))
            .where(SpApiCall.id > since)
            .group_by(SpApiCall.operation)
        ).all()  # fmt: skip
    engine.dispose()
    counted = Counter({operation: count for operation, count, _, _ in rows})
    seconds = sum(duration or 0 for _, _, duration, _ in rows) / 1000
    return counted, seconds, max((last for *_, last in rows), default=since)


@dataclass
class Waits:
    """Seconds this process did not work: for Amazon's processing, and for its limits."""

    amazon: float = 0.0
    limits: float = 0.0

    def sleep(self, seconds: float) -> None:  # the sync waiting for a report or a feed
        time.sleep(POLL_SECONDS)
        self.amazon += POLL_SECONDS

    def on_wait(self, operation: str, seconds: float) -> None:  # the client keeping a limit
        self.limits += seconds


def workspace(base: str, root: Path, options: argparse.Namespace) -> Settings:
    """The sandbox seller with the bulk listings, and a fresh workspace with their articles.

    Built in a child process: what its setup allocates must not count as the pushes' memory.
    """
    settings = Settings(data_dir=root, database_url=options.database_url,
                        secret_key=SecretStr(Fernet.generate_key().decode()))  # fmt: skip

    def build() -> None:
        seller = httpx.get(f"{base}/_sandbox/sellers").json()[0]["seller_id"]
        bulk = {"count": options.skus, "marketplaces": ["DE"]}
        httpx.post(f"{base}/_sandbox/listings/{seller}/bulk", json=bulk,
                   timeout=120).raise_for_status()  # fmt: skip
        if options.database_url:
            empty_database(options.database_url)
        account_id = sandbox_workspace(settings, base, actor="bench")
        engine = make_engine(settings.effective_database_url)
        bulk_catalogue(engine, account_id, prefix="BULK-", count=options.skus, on_hand=5,
                       actor="bench")  # fmt: skip
        engine.dispose()

    child = multiprocessing.get_context("fork").Process(target=build)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit("setting up the workspace failed")
    return settings


def push(engine: Engine, settings: Settings, account_id: int, client: SpApiClient,
         label: str, last_call: int) -> int:  # fmt: skip
    """One full push, and its figures; returns the last call id."""
    waits = Waits()
    client.on_wait = waits.on_wait
    print(f"  {label} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    report = sync_stock(engine, account_id, client, settings, full=True, wait_seconds=3600,
                        sleep=waits.sleep)  # fmt: skip
    wall = time.perf_counter() - started
    counted, in_http, last_call = calls(settings, last_call)
    local = wall - in_http - waits.amazon - waits.limits
    print(f"\n{label}: {report.checked:,} offers compared, {report.unchanged:,} unchanged")
    print(f"   wall time              {wall:8.1f} s")
    print(f"   in HTTP calls          {in_http:8.1f} s")
    print(f"   waiting for Amazon     {waits.amazon:8.1f} s   (report and feed processing)")
    print(f"   keeping to limits      {waits.limits:8.1f} s   (JSON_LISTINGS_FEED: 5 / 5 min)")
    print(f"   local work             {local:8.1f} s   (target < 60 s)")
    print(f"   feeds                  {len(report.feeds):8d}   ({report.feed_messages:,} SKUs; "
          f"{report.patched} patched, {report.accepted:,} accepted, "
          f"{len(report.failed)} refused)")  # fmt: skip
    for operation, count in sorted(counted.items()):
        print(f"   {operation:<40} {count:6d} calls")
    return last_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--time-scale", type=float, default=300.0)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    logs.configure("WARNING")
    root = Path(tempfile.mkdtemp(prefix="sellerbridge-bench-"))
    try:
        with sandbox(0, options.time_scale) as base:
            print(f"Sandbox at time scale {options.time_scale:g}; {options.skus:,} listings "
                  "on DE, all differing from the ERP's stock", file=sys.stderr)  # fmt: skip
            settings = workspace(base, root, options)
            engine = make_engine(settings.effective_database_url)
            with UnitOfWork(engine) as uow:
                account = uow.session.scalars(select(AmazonAccount)).one()
                account_id = account.id
                client = accounts.client_for(account, secret_box(settings), engine=engine,
                                             settings=settings)  # fmt: skip
            _, _, last_call = calls(settings, 0)
            tune_gc()  # as the worker does before it starts
            reset_peak_memory()
            before = peak_memory_mb()
            with client:
                for label in ("first full push", "second full push"):
                    last_call = push(engine, settings, account_id, client, label, last_call)
            print(f"\npeak memory (RSS) of this process {peak_memory_mb():.0f} MB "
                  f"(target < 300 MB; {before:.0f} MB before the pushes)")  # fmt: skip
            engine.dispose()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
