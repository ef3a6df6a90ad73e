"""``sellerbridge demo``: build a demo workspace and show what the system did."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from sellerbridge import demo as demo_run
from sellerbridge.cli.context import context
from sellerbridge.cli.render import money, table
from sellerbridge.db.engine import make_engine
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import queries


def demo(
    ctx: typer.Context,
    workspace: Annotated[
        Path, typer.Option(help="Directory for the demo; an earlier demo there is replaced.")
    ] = Path("demo-workspace"),
) -> None:
    """Run the demo in its own workspace (its own SQLite database) and print a summary."""
    cli = context(ctx)
    console = cli.console
    prepared = demo_run.prepare_workspace(workspace.resolve())
    console.print(f"Demo workspace: {prepared.path}", style="bold")
    with console.status("Running the demo ..."):
        steps = demo_run.run(prepared, home_country=cli.settings.home_country)
    for number, step in enumerate(steps, start=1):
        console.print(f"{number}. {step}")

    engine = make_engine(prepared.database_url)
    try:
        with UnitOfWork(engine) as uow:
            levels = table(
                "Stock in the main warehouse",
                "Article",
                "Name",
                "On hand>",
                "Reserved>",
                "Available>",
            )
            for row in queries.stock_levels(uow.session):
                levels.add_row(
                    row.article.number,
                    row.article.name,
                    str(row.on_hand),
                    str(row.reserved),
                    str(row.available),
                )
            console.print(levels)
            found = queries.orders(uow.session)
            orders = table("Orders", "Order", "Customer", "Country", "State", "Total>")
            for order in reversed(found):
                orders.add_row(
                    order.number,
                    order.billing_address.company or order.billing_address.name,
                    order.shipping_address.country,
                    order.state.label,
                    money(order.total_gross, order.currency),
                )
            console.print(orders)
            states = Counter(order.state.label for order in found)
            console.print(
                "Summary: "
                + ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
                + f". Explore it: SELLERBRIDGE_DATA_DIR={prepared.path} sellerbridge orders list",
                style="bold",
            )
    finally:
        engine.dispose()
