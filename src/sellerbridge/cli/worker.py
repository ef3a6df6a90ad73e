"""``sellerbridge run`` and ``sellerbridge worker``: the background jobs.

``run`` is the whole background in one process: Huey's scheduler (the periodic tasks: order
import, e-mails, shipment confirmations, FBA invoices and dispatch), a watcher that starts the
shipment confirmations within seconds of a shipment, and the workers that run the tasks.
``worker`` runs workers only, for Redis mode: one ``run`` schedules, any number of ``worker``
processes (on other machines too) take tasks from the same queue. Every task holds a lock per
(task, account), so two workers never do the same work at once.
"""

from __future__ import annotations

import threading
from typing import Annotated

import typer

from sellerbridge import logs
from sellerbridge.cli.context import CliContext, context
from sellerbridge.jobs import Jobs, build_jobs
from sellerbridge.jobs.app import watch_due_work
from sellerbridge.runtime import tune_gc

Threads = Annotated[int, typer.Option(min=1, help="Tasks run side by side.")]


def run(ctx: typer.Context, threads: Threads = 2) -> None:
    """Run the scheduler and the workers of every periodic task until interrupted (Ctrl-C
    finishes the running tasks first)."""
    cli = context(ctx)
    jobs = _jobs(cli)
    cli.console.print(f"Scheduler and {threads} worker thread(s); queue in {_queue(cli)}")
    stop = threading.Event()
    watcher = threading.Thread(
        target=watch_due_work, args=(jobs, cli.engine, stop), name="due-work",
        daemon=True,
    )  # fmt: skip
    watcher.start()
    try:
        jobs.huey.create_consumer(workers=threads, worker_type="thread", periodic=True).run()
    finally:
        stop.set()
        watcher.join(timeout=10)


def worker(ctx: typer.Context, threads: Threads = 2) -> None:
    """Run workers only, no scheduler: for Redis mode, where one `sellerbridge run` schedules
    and several workers take the tasks (Ctrl-C finishes the running tasks first)."""
    cli = context(ctx)
    jobs = _jobs(cli)
    cli.console.print(f"Worker with {threads} thread(s), no scheduler; queue in {_queue(cli)}")
    jobs.huey.create_consumer(workers=threads, worker_type="thread", periodic=False).run()


def _jobs(cli: CliContext) -> Jobs:
    cli.uow()  # a clear error if the database is not set up
    logs.configure(cli.settings.log_level or "INFO", json=cli.settings.log_json)
    jobs = build_jobs(cli.settings, cli.engine)
    tune_gc()
    return jobs


def _queue(cli: CliContext) -> str:
    return "Redis" if cli.settings.redis_url else str(cli.settings.data_dir / "jobs.db")
