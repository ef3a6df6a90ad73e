"""``sellerbridge worker``: run the background jobs (order import on a schedule, ...)."""

from __future__ import annotations

from typing import Annotated

import typer

from sellerbridge import logs
from sellerbridge.cli.context import context
from sellerbridge.jobs import build_jobs
from sellerbridge.runtime import tune_gc


def worker(
    ctx: typer.Context,
    threads: Annotated[int, typer.Option(min=1, help="Tasks run side by side.")] = 2,
) -> None:
    """Run the job worker until interrupted (Ctrl-C finishes the running tasks first)."""
    cli = context(ctx)
    cli.uow()  # a clear error if the database is not set up
    logs.configure(cli.settings.log_level or "INFO", json=cli.settings.log_json)
    jobs = build_jobs(cli.settings, cli.engine)
    tune_gc()
    cli.console.print(
        f"Worker with {threads} thread(s); queue in "
        + ("Redis" if cli.settings.redis_url else str(cli.settings.data_dir / "jobs.db"))
    )
    jobs.huey.create_consumer(workers=threads, worker_type="thread").run()
