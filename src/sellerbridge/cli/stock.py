"""``sellerbridge stock``: receive, adjust, transfer and look at stock."""

from __future__ import annotations

from typing import Annotated

import typer

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.stock.fba_inventory import import_fba_inventory
from sellerbridge.channels.amazon.stock.overview import (
    fba_inventory,
    marketplace_codes,
    offer_overview,
)
from sellerbridge.channels.amazon.stock.sync import plan_stock, sync_stock
from sellerbridge.cli.amazon import Account, account_client
from sellerbridge.cli.context import context
from sellerbridge.cli.render import table, when
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError
from sellerbridge.db.locks import LockTaken
from sellerbridge.services import queries
from sellerbridge.services import stock as stock_service
from sellerbridge.services.setup import MAIN_WAREHOUSE

app = typer.Typer(
    help="Stock: receive, adjust, transfer, show; Amazon quantities and FBA inventory.",
    no_args_is_help=True,
)

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


# --- Amazon --------------------------------------------------------------------------------------

FEED_WAIT_SECONDS = 600.0


@app.command()
def push(
    ctx: typer.Context,
    full: Annotated[
        bool,
        typer.Option("--full", help="Read Amazon's listings first and compare every SKU."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; send nothing.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait for Amazon's results of the feeds.")
    ] = True,
    account: Account = None,
) -> None:
    """Send Amazon the FBM quantities that changed (sell-outs at once, batches as feeds)."""
    cli = context(ctx)
    client, account_id, name = account_client(cli, account)
    with client:
        if dry_run:
            try:
                changes = plan_stock(cli.engine, account_id, client, cli.settings, full=full)
            except LockTaken:
                raise DomainError(f"A stock sync of {name} is running.",
                                  hint="Try again in a moment.") from None  # fmt: skip
            output = table(None, "SKU", "Marketplaces", "Last sent>", "Wanted>")
            with cli.uow() as uow:
                codes = marketplace_codes(uow.session, account_id)
            for change in changes:
                output.add_row(
                    change.sku,
                    ",".join(codes.get(m, m) for m in change.marketplace_ids),
                    ", ".join(sorted({_number(sent) or "-" for sent in change.last_sent})),
                    str(change.quantity),
                )
            cli.console.print(output)
            cli.console.print(f"{len(changes)} change(s) would be sent; nothing was sent.")
            return
        try:
            with cli.console.status(f"Syncing the stock of {name} with Amazon"):
                report = sync_stock(cli.engine, account_id, client, cli.settings, full=full,
                                    wait_seconds=FEED_WAIT_SECONDS if wait else 0.0)  # fmt: skip
        except LockTaken:
            raise DomainError(
                f"A stock sync of {name} is running (the worker's, or another push).",
                hint="Try again in a moment.",
            ) from None
    cli.console.print(
        f"{report.checked} checked ({report.unchanged} unchanged), {report.patched} sent one "
        f"by one, {len(report.feeds)} feed(s) with {report.feed_messages} SKU(s), "
        f"{report.accepted} accepted, {len(report.failed)} refused"
        + (f", {report.deferred} left for the next run" if report.deferred else "")
        + (
            f", {report.waiting_feeds} feed(s) still processed by Amazon"
            if report.waiting_feeds
            else ""
        )
        + "."
    )
    for sku, where, reason in report.failed:
        cli.console.print(f"- {sku} ({where}): {reason}")
    if report.failed:
        raise typer.Exit(1)


@app.command("amazon")
def amazon_offers(
    ctx: typer.Context,
    sku: Annotated[str | None, typer.Option(help="Only this SKU.")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only SKUs Amazon refused.")] = False,
    account: Account = None,
) -> None:
    """Per SKU and marketplace: the quantity wanted, last sent, Amazon's value, the result."""
    cli = context(ctx)
    with cli.uow() as uow:
        account_id = accounts.account_by_name(uow.session, account).id
        rows = offer_overview(uow.session, account_id, cli.settings, sku=sku, failed=failed)
    output = table(None, "SKU", "Market", "Channel", "Wanted>", "Last sent>", "Amazon>", "Result")
    for row in rows:
        output.add_row(
            row.sku,
            row.marketplace,
            row.channel,
            _number(row.wanted),
            _number(row.last_sent),
            _number(row.amazon),
            row.result,
        )
    cli.console.print(output)


@app.command()
def fba(ctx: typer.Context, account: Account = None) -> None:
    """Import the FBA inventory from Amazon now and show it."""
    cli = context(ctx)
    client, account_id, _ = account_client(cli, account)
    with client:
        report = import_fba_inventory(cli.engine, account_id, client, cli.settings, at=utcnow())
    output = table(None, "SKU", "Article", "Fulfillable>", "Inbound>", "Reserved>",
                   "Unfulfillable>", "Researching>")  # fmt: skip
    with cli.uow() as uow:
        for row in fba_inventory(uow.session, account_id):
            figures = (row.fulfillable, row.inbound, row.reserved, row.unfulfillable,
                       row.researching)  # fmt: skip
            output.add_row(row.seller_sku, row.article, *map(str, figures))
    cli.console.print(output)
    cli.console.print(
        f"{report.skus} FBA SKU(s) read from {report.marketplace_id}; the FBA warehouse changed "
        f"for {report.adjusted} article(s)"
        + (f"; {report.unknown_skus} SKU(s) have no article" if report.unknown_skus else "")
        + "."
    )


def _number(value: int | None) -> str:
    return "" if value is None else str(value)
