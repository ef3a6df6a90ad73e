"""``sellerbridge demo``: build a demo workspace and show what the system did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sellerbridge import demo as demo_run
from sellerbridge.cli.context import context
from sellerbridge.cli.render import table
from sellerbridge.demo.amazon import DEMO_ORDERS
from sellerbridge.demo.progress import Completed
from sellerbridge.demo.summary import DemoSummary, confirmations_line

DOCUMENT_KINDS = {"invoice": "Invoices", "delivery note": "Delivery notes",
                  "correction": "Correction invoices"}  # fmt: skip


def demo(
    ctx: typer.Context,
    workspace: Annotated[
        Path, typer.Option(help="Directory for the demo; an earlier demo there is replaced.")
    ] = Path("demo-workspace"),
    orders: Annotated[
        int, typer.Option(min=1, help="Orders the built-in SP-API sandbox generates.")
    ] = DEMO_ORDERS,
) -> None:
    """Run the demo in its own workspace (its own SQLite database) and print a summary."""
    cli = context(ctx)
    console = cli.console
    prepared = demo_run.prepare_workspace(workspace.resolve())
    console.print(f"Demo workspace: {prepared.path}", style="bold")
    with _Steps(console) as steps:
        summary = demo_run.run(
            prepared,
            home_country=cli.settings.home_country,
            reporter=steps,
            amazon_orders=orders,
        )
    _print_summary(console, summary, prepared.path)


class _Steps:
    """The demo's steps as numbered lines, its long steps as progress bars (on a terminal)."""

    def __init__(self, console: Console) -> None:
        self._number = 0
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )

    def __enter__(self) -> _Steps:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def note(self, text: str) -> None:
        self._number += 1
        self._bars.console.print(f"{self._number}. {text}")

    def track(self, description: str, total: float | None) -> AbstractContextManager[Completed]:
        return self._task(description, total)

    @contextmanager
    def _task(self, description: str, total: float | None) -> Iterator[Completed]:
        # The import reports a fraction of its window: shown as a percentage of 100.
        scale = 100.0 if total == 1.0 else 1.0
        task = self._bars.add_task(description, total=None if total is None else total * scale)
        try:
            yield lambda completed: self._bars.update(task, completed=completed * scale)
        finally:
            self._bars.remove_task(task)


def _print_summary(console: Console, summary: DemoSummary, path: Path) -> None:
    console.print(_amazon_orders(summary))
    manual = table("Manual orders", "State", "Orders>")
    for state, number in sorted(summary.manual_orders.items()):
        manual.add_row(state, str(number))
    console.print(manual)

    work = table("Documents, labels and shipment confirmations", "What", "Count>", "Files>")
    for kind, name in DOCUMENT_KINDS.items():
        if summary.documents[kind]:
            work.add_row(name, str(summary.documents[kind]), "")
    work.add_row("Documents written", "", str(summary.document_files))
    work.add_row("Buy Shipping labels", str(summary.labels), str(summary.label_files))
    work.add_row("Confirmations sent", str(summary.confirmations_sent), "")
    for status in ("verified", "failed", "sent", "pending"):
        if status in ("verified", "failed") or summary.confirmations[status]:
            work.add_row(f"Confirmations {status}", str(summary.confirmations[status]), "")
    console.print(work)

    if summary.holds:
        holds = table("Orders on hold, and why", "Order", "Marketplace", "Reason", "Detail")
        for hold in summary.holds:
            holds.add_row(hold.order, hold.marketplace, hold.reason, hold.detail)
        console.print(holds)
    if summary.problems:
        left = table("Orders the demo could not take further", "Order", "Step", "Why")
        for problem in summary.problems:
            left.add_row(problem.order or "—", problem.step, problem.reason)
        console.print(left)

    counted = sum(summary.amazon_orders.values())
    documents = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.documents.items()))
    console.print(
        f"Summary: manual orders {_states(summary.manual_orders)}; Amazon orders "
        f"{_states(_by_state(summary))} ({counted} of {summary.imported} imported); "
        f"documents {documents or 'none'}; labels {summary.labels}; confirmations "
        f"{confirmations_line(summary)}; invoice uploads "
        f"{_states(summary.uploads) if summary.uploads else 'none'}; credit notes "
        f"{_states(summary.credit_notes) if summary.credit_notes else 'none'}; holds "
        f"{len(summary.holds)}; not processed "
        f"{len(summary.problems)}. Explore it: SELLERBRIDGE_DATA_DIR={path} sellerbridge "
        "orders list",
        style="bold",
    )


def _amazon_orders(summary: DemoSummary) -> object:
    states = sorted({state for _, _, state in summary.amazon_orders})
    orders = table("Amazon orders by marketplace, channel and state", "Marketplace", "Channel",
                   *[f"{state}>" for state in states], "Total>")  # fmt: skip
    for marketplace, channel in sorted({(m, c) for m, c, _ in summary.amazon_orders}):
        cells = [summary.amazon_orders[(marketplace, channel, state)] for state in states]
        orders.add_row(marketplace, channel, *[str(n or "") for n in cells], str(sum(cells)))
    totals = _by_state(summary)
    orders.add_row("Total", "", *[str(totals[state]) for state in states],
                   str(sum(totals.values())), style="bold")  # fmt: skip
    return orders


def _by_state(summary: DemoSummary) -> Counter[str]:
    totals: Counter[str] = Counter()
    for (_, _, state), number in summary.amazon_orders.items():
        totals[state] += number
    return totals


def _states(counted: Counter[str]) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(counted.items())) or "none"
