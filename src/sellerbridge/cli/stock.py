"""``sellerbridge stock``: receive, adjust, transfer and look at stock."""

from __future__ import annotations

from typing import Annotated

import typer

from sellerbridge.cli.context import context
from sellerbridge.cli.render import table, when
from sellerbridge.services import queries
from sellerbridge.services import stock as stock_service
from sellerbridge.services.setup import MAIN_WAREHOUSE

app = typer.Typer(help="Stock: receive, adjust, transfer, show.", no_args_is_help=True)

Warehouse = Annotated[str, typer.Option("--warehouse", "-w", help="Warehouse code.")]


@app.command()
def receive(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="Article number.")],
    quantity: Annotated[int, typer.Argument(help="Units received.", min=1)],
    warehouse: Warehouse = MAIN_WAREHOUSE,
    reason: Annotated[str | None, typer.Option(help="E.g. 'delivery from supplier'.")] = None,
    reference: Annotated[str | None, typer.Option(help="E.g. the delivery note number.")] = None,
) -> None:
    """Book goods in. Orders waiting for the article get it, oldest first."""
    cli = context(ctx)
    on_hand = stock_service.receive(
        cli.uow(),
        article_number=article,
        quantity=quantity,
        warehouse_code=warehouse,
        actor=cli.actor,
        reason=reason,
        reference=reference,
    )
    cli.console.print(f"Received {quantity} × {article} in {warehouse}; on hand now {on_hand}.")


@app.command()
def adjust(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="Article number.")],
    reason: Annotated[str, typer.Option(help="Why stock changes, e.g. 'stocktaking'.")],
    by: Annotated[int | None, typer.Option(help="Change on-hand by this many units (±).")] = None,
    to: Annotated[int | None, typer.Option(help="Set on-hand to this counted quantity.")] = None,
    warehouse: Warehouse = MAIN_WAREHOUSE,
) -> None:
    """Correct on-hand stock after a count or a loss (give --by or --to)."""
    cli = context(ctx)
    on_hand = stock_service.adjust(
        cli.uow(),
        article_number=article,
        warehouse_code=warehouse,
        reason=reason,
        actor=cli.actor,
        by=by,
        counted=to,
    )
    cli.console.print(f"{article} in {warehouse}: on hand now {on_hand}.")


@app.command()
def transfer(
    ctx: typer.Context,
    article: Annotated[str, typer.Argument(help="Article number.")],
    quantity: Annotated[int, typer.Argument(help="Units to move.", min=1)],
    source: Annotated[str, typer.Option("--from", help="Warehouse the goods leave.")],
    destination: Annotated[str, typer.Option("--to", help="Warehouse the goods go to.")],
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Move stock between two of your own warehouses."""
    cli = context(ctx)
    stock_service.transfer(
        cli.uow(),
        article_number=article,
        quantity=quantity,
        from_code=source,
        to_code=destination,
        actor=cli.actor,
        reason=reason,
    )
    cli.console.print(f"Moved {quantity} × {article} from {source} to {destination}.")


@app.command()
def show(
    ctx: typer.Context,
    article: Annotated[
        str | None, typer.Argument(help="Article number; with it, its recent movements too.")
    ] = None,
    warehouse: Annotated[str | None, typer.Option("--warehouse", "-w")] = None,
) -> None:
    """Show on-hand, reserved and available stock."""
    cli = context(ctx)
    with cli.uow() as uow:
        levels = table(None, "Article", "Name", "Warehouse", "On hand>", "Reserved>", "Available>")
        for row in queries.stock_levels(uow.session, article, warehouse):
            levels.add_row(
                row.article.number,
                row.article.name,
                row.warehouse.code,
                str(row.on_hand),
                str(row.reserved),
                str(row.available),
            )
        cli.console.print(levels)
        if article is None:
            return
        history = table("Recent movements", "When", "Warehouse", "Kind", "Qty>", "Reason", "By")
        for movement in queries.movements(uow.session, article):
            history.add_row(
                when(movement.at, cli.settings.zone),
                movement.warehouse.code,
                movement.kind.value,
                f"{movement.quantity:+d}",
                " · ".join(filter(None, (movement.reason, movement.reference))),
                movement.actor,
            )
        cli.console.print(history)
