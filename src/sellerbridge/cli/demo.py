"""``sellerbridge demo``: build a demo workspace and show what the system did."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from sellerbridge import demo as demo_run
from sellerbridge.cli.context import context
from sellerbridge.cli.render import money, table
from sellerbridge.core.channels import ChannelKind
from sellerbridge.db.engine import make_engine
from sellerbridge.db.models import SalesOrder
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
            session = uow.session
            levels = table(
                "Stock in the main warehouse: the ten articles with the most reserved",
                "Article",
                "Name",
                "On hand>",
                "Reserved>",
                "Available>",
            )
            rows = queries.stock_levels(session, warehouse_code="MAIN")
            for row in sorted(rows, key=lambda row: -row.reserved)[:10]:
                levels.add_row(row.article.number, row.article.name, str(row.on_hand),
                               str(row.reserved), str(row.available))  # fmt: skip
            console.print(levels)

            found = queries.orders(session, limit=10_000)
            manual = [order for order in found if order.channel.kind != ChannelKind.AMAZON]
            orders = table("Manual orders", "Order", "Customer", "Country", "State", "Total>")
            for order in reversed(manual):
                orders.add_row(
                    order.number,
                    order.billing_address.company or order.billing_address.name,
                    order.shipping_address.country,
                    order.state.label,
                    money(order.total_gross, order.currency),
                )
            console.print(orders)

            amazon = [order for order in found if order.channel.kind == ChannelKind.AMAZON]
            states = sorted({order.state.label for order in amazon})
            by_channel = Counter((order.channel.name, order.state.label) for order in amazon)
            channels = table("Amazon orders by channel", "Channel", *[f"{s}>" for s in states])
            for name in sorted({name for name, _ in by_channel}):
                channels.add_row(name, *[str(by_channel[(name, s)] or "") for s in states])
            console.print(channels)

            def summary(orders: list[SalesOrder]) -> str:
                counted = Counter(order.state.label for order in orders)
                return ", ".join(f"{n} {state}" for state, n in sorted(counted.items()))

            console.print(
                f"Summary: manual orders {summary(manual)}; Amazon orders {summary(amazon)}. "
                f"Explore it: SELLERBRIDGE_DATA_DIR={prepared.path} sellerbridge orders list",
                style="bold",
            )
    finally:
        engine.dispose()
