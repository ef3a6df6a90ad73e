"""``sellerbridge amazon`` and ``sellerbridge skus``: connect accounts, import orders, map SKUs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.invoices.amazon_issued import (
    Window,
    amazon_invoices,
    record_amazon_invoices,
)
from sellerbridge.channels.amazon.invoices.cycle import LOCK as INVOICE_DATA_LOCK
from sellerbridge.channels.amazon.invoices.cycle import run_invoicing
from sellerbridge.channels.amazon.invoices.refunds import RefundProcessor, RefundReport
from sellerbridge.channels.amazon.invoices.refunds import dismiss as dismiss_refunds
from sellerbridge.channels.amazon.invoices.refunds import refunds as list_refunds
from sellerbridge.channels.amazon.invoices.uploads import settle, upload_of, uploads
from sellerbridge.channels.amazon.orders.importer import OrderImporter
from sellerbridge.channels.amazon.orders.importer import Progress as ImportProgress
from sellerbridge.channels.amazon.shipments.confirm import (
    ConfirmationExporter,
    confirmations,
    retry_confirmation,
)
from sellerbridge.channels.amazon.skus import (
    StockRuleChange,
    map_sku,
    set_stock_rule,
    sku_bindings,
)
from sellerbridge.channels.amazon.spapi import Credentials, SpApiClient
from sellerbridge.cli.context import CliContext, context
from sellerbridge.cli.render import money, table, when
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError, InvalidInput
from sellerbridge.db.locks import LockTaken, exclusive
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonChannel,
    ConfirmationStatus,
    Fulfillment,
    ImportMode,
    InvoiceMode,
    RefundStatus,
    UploadStatus,
)
from sellerbridge.runtime import tune_gc
from sellerbridge.services.documents import DocumentSettings

app = typer.Typer(help="Amazon accounts: connect, check, import orders.", no_args_is_help=True)
skus_app = typer.Typer(help="Which article each Amazon SKU sells.", no_args_is_help=True)
confirmations_app = typer.Typer(
    help="Shipment confirmations to Amazon: list them, retry failed ones.",
    invoke_without_command=True,
)
app.add_typer(confirmations_app, name="confirmations")
uploads_app = typer.Typer(
    help="Invoice uploads to Amazon: list them with Amazon's reasons, retry rejected ones.",
    invoke_without_command=True,
)
app.add_typer(uploads_app, name="uploads")
refunds_app = typer.Typer(
    help="Amazon's refunds: list them (the default), or dismiss one a person took care of.",
    invoke_without_command=True,
)
app.add_typer(refunds_app, name="refunds")

Account = Annotated[
    str | None, typer.Option("--account", help="Account name (needed when several are connected).")
]


def _date(text: str, cli: CliContext, field: str) -> datetime:
    """A day (its start in the merchant's time zone) or a date and time, as UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            field, f"{text!r} is not a date", hint="Write it as 2026-11-01."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=cli.settings.zone)
    return value.astimezone(UTC)


@app.command()
def connect(
    ctx: typer.Context,
    seller_id: Annotated[
        str, typer.Option(help="Your merchant token (Seller Central → Account info).")
    ],
    client_id: Annotated[str, typer.Option(help="LWA client id of your SP-API app.")],
    client_secret: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, help="LWA client secret (asked if not given)."),
    ],
    refresh_token: Annotated[
        str, typer.Option(prompt=True, hide_input=True, help="Refresh token of the authorisation.")
    ],
    name: Annotated[str, typer.Option(help="A short name for this account.")] = "main",
    region: Annotated[str, typer.Option(help="EU, NA or FE.")] = "EU",
    sandbox: Annotated[
        str | None, typer.Option(help="URL of a sellerbridge sandbox instead of Amazon.")
    ] = None,
    mode: Annotated[
        ImportMode, typer.Option(help="demo (read only), manual or automatic.")
    ] = ImportMode.MANUAL,
    fbm: Annotated[
        bool, typer.Option("--fbm/--no-fbm", help="Import merchant-fulfilled orders.")
    ] = True,
    fba: Annotated[
        bool, typer.Option("--fba/--no-fba", help="Import Amazon-fulfilled orders.")
    ] = True,
    start_date: Annotated[
        str | None, typer.Option(help="Import orders created from this day on (default: now).")
    ] = None,
) -> None:
    """Connect a seller account: check the credentials, find its marketplaces, store it."""
    cli = context(ctx)
    connection = accounts.Connection(
        name=name,
        region=region,
        seller_id=seller_id.strip(),
        credentials=Credentials(client_id.strip(), client_secret.strip(), refresh_token.strip()),
        api_endpoint=sandbox,
        import_mode=mode,
        import_fbm=fbm,
        import_fba=fba,
        start_date=_date(start_date, cli, "--start-date") if start_date else None,
    )
    uow = cli.uow()  # the schema is checked before Amazon is asked
    with cli.console.status("Asking Amazon for the seller's marketplaces ..."):
        participations = accounts.discover(connection, engine=cli.engine, settings=cli.settings)
    account = accounts.connect(uow, cli.secret_box, connection, participations, now=utcnow())
    cli.console.print(f"Connected Amazon account {account.name} (seller {account.seller_id}).")
    _show_channels(cli, account.name)


def account_client(cli: CliContext, account: str | None) -> tuple[SpApiClient, int, str]:
    """An SP-API client for the account named (or the only one), its id and name."""
    with cli.uow() as uow:
        amazon = accounts.account_by_name(uow.session, account)
        client = accounts.client_for(
            amazon, cli.secret_box, engine=cli.engine, settings=cli.settings
        )
        return client, amazon.id, amazon.name


@app.command()
def check(ctx: typer.Context, account: Account = None) -> None:
    """Test the connection: token exchange, API, marketplaces ("Verbindung prüfen")."""
    cli = context(ctx)
    client, _, name = account_client(cli, account)
    with client:
        steps, participations = accounts.check(client)
    for step in steps:
        mark = "ok  " if step.ok else "FAIL"
        cli.console.print(f"{mark} {step.name}: {step.detail}", style=None if step.ok else "red")
    added = accounts.add_new_marketplaces(cli.uow(), name, participations)
    if added:
        cli.console.print(
            f"New marketplace(s) {', '.join(added)}: not imported until you add them with "
            "`sellerbridge amazon configure --marketplaces ...`."
        )
    if not all(step.ok for step in steps):
        raise typer.Exit(1)


@app.command()
def credentials(
    ctx: typer.Context,
    account: Account = None,
    client_id: Annotated[
        str | None, typer.Option(help="A new LWA client id (default: the stored one).")
    ] = None,
    client_secret: Annotated[
        bool, typer.Option("--client-secret", help="Enter a new LWA client secret.")
    ] = False,
    refresh_token: Annotated[
        bool,
        typer.Option("--refresh-token", help="Enter the refresh token of a new authorisation."),
    ] = False,
) -> None:
    """Replace an account's credentials: a rotated client secret, a renewed authorisation."""
    cli = context(ctx)
    if not (client_id or client_secret or refresh_token):
        raise InvalidInput(
            "credentials", "nothing to replace", hint="Give --client-secret, --refresh-token or "
            "--client-id."
        )  # fmt: skip
    with cli.uow() as uow:
        stored = accounts.stored_credentials(
            accounts.account_by_name(uow.session, account), cli.secret_box
        )
    new = Credentials(
        (client_id or stored.client_id).strip(),
        typer.prompt("LWA client secret", hide_input=True).strip()
        if client_secret
        else stored.client_secret,
        typer.prompt("Refresh token", hide_input=True).strip()
        if refresh_token
        else stored.refresh_token,
    )
    with cli.console.status("Checking the new credentials with Login with Amazon ..."):
        updated = accounts.replace_credentials(
            cli.uow(), cli.secret_box, account, new, engine=cli.engine, settings=cli.settings
        )
    cli.console.print(f"Stored the new credentials of account {updated.name}; Amazon accepts them.")


@app.command()
def configure(
    ctx: typer.Context,
    account: Account = None,
    mode: Annotated[
        ImportMode | None, typer.Option(help="demo (read only), manual or automatic.")
    ] = None,
    fbm: Annotated[
        bool | None, typer.Option("--fbm/--no-fbm", help="Import merchant-fulfilled orders.")
    ] = None,
    fba: Annotated[
        bool | None, typer.Option("--fba/--no-fba", help="Import Amazon-fulfilled orders.")
    ] = None,
    start_date: Annotated[
        str | None, typer.Option(help="Import orders created from this day on.")
    ] = None,
    marketplaces: Annotated[
        str | None,
        typer.Option(help="The marketplaces to import, e.g. DE,FR,IT (the others are not)."),
    ] = None,
    mail_fba_invoices: Annotated[
        bool | None,
        typer.Option(
            "--mail-fba-invoices/--no-mail-fba-invoices",
            help="E-mail each FBA order's invoice to the buyer.",
        ),
    ] = None,
    invoices_fbm: Annotated[
        InvoiceMode | None,
        typer.Option(
            help="Invoices of FBM orders: none, upload (own invoices uploaded) or vcs_amazon "
            "(Amazon issues them)."
        ),
    ] = None,
    invoices_fba: Annotated[
        InvoiceMode | None,
        typer.Option(help="Invoices of FBA orders: none, upload or vcs_amazon."),
    ] = None,
    force_from: Annotated[
        str | None,
        typer.Option(
            help="With vcs_amazon after own invoices were issued: the day from which Amazon "
            "invoices the orders placed."
        ),
    ] = None,
    upload_from: Annotated[
        str | None, typer.Option(help="Upload the invoices issued from this day on.")
    ] = None,
    stock_sync: Annotated[
        bool | None,
        typer.Option(
            "--stock-sync/--no-stock-sync",
            help="Keep Amazon's FBM quantities in step with the stock (the worker pushes "
            "changes within a minute).",
        ),
    ] = None,
) -> None:
    """Change an account's import rules."""
    cli = context(ctx)
    accounts.configure(
        cli.uow(),
        account,
        mode=mode,
        fbm=fbm,
        fba=fba,
        start_date=_date(start_date, cli, "--start-date") if start_date else None,
        marketplaces=[code for code in marketplaces.split(",") if code.strip()]
        if marketplaces is not None
        else None,
        mail_fba_invoices=mail_fba_invoices,
        stock_sync=stock_sync,
        invoice_modes={
            fulfillment: mode
            for fulfillment, mode in (
                (Fulfillment.FBM, invoices_fbm),
                (Fulfillment.FBA, invoices_fba),
            )
            if mode is not None
        },
        invoice_upload_from=_date(upload_from, cli, "--upload-from") if upload_from else None,
        force_from=_date(force_from, cli, "--force-from") if force_from else None,
    )
    list_accounts(ctx)


@app.command()
def channel(
    ctx: typer.Context,
    marketplace: Annotated[str, typer.Argument(help="Country code, e.g. DE.")],
    fulfillment: Annotated[Fulfillment, typer.Argument(help="FBM or FBA.")],
    account: Account = None,
    warehouse: Annotated[
        str | None, typer.Option(help="The warehouse its orders ship from.")
    ] = None,
    series: Annotated[str | None, typer.Option(help="The number series of its orders.")] = None,
) -> None:
    """Choose where one marketplace's FBM or FBA orders go (like Xentral's de_FBA project)."""
    cli = context(ctx)
    accounts.set_channel(cli.uow(), account, marketplace=marketplace, fulfillment=fulfillment,
                         warehouse=warehouse, series=series)  # fmt: skip
    with cli.uow() as uow:
        name = accounts.account_by_name(uow.session, account).name
    _show_channels(cli, name)


@app.command("accounts")
def list_accounts(ctx: typer.Context) -> None:
    """The connected accounts."""
    cli = context(ctx)
    with cli.uow() as uow:
        output = table(
            None,
            "Account",
            "Region",
            "Seller",
            "Mode",
            "Imports",
            "Since",
            "Marketplaces",
            "Stock sync",
        )
        for account in uow.session.scalars(select(AmazonAccount).order_by(AmazonAccount.name)):
            kinds = "+".join(
                k for k, on in (("FBM", account.import_fbm), ("FBA", account.import_fba)) if on
            )
            output.add_row(
                account.name,
                account.region,
                account.seller_id,
                account.import_mode.value,
                kinds or "nothing",
                when(account.start_date, cli.settings.zone),
                ", ".join(m.country_code for m in account.marketplaces if m.import_enabled),
                "on" if account.stock_sync else "off",
            )
        cli.console.print(output)


@app.command("channels")
def channels(ctx: typer.Context, account: Account = None) -> None:
    """Which ERP channel, warehouse and number series each marketplace's orders use."""
    cli = context(ctx)
    with cli.uow() as uow:
        name = accounts.account_by_name(uow.session, account).name
    _show_channels(cli, name)


def _show_channels(cli: CliContext, account_name: str) -> None:
    with cli.uow() as uow:
        amazon = accounts.account_by_name(uow.session, account_name)
        output = table(
            None, "Marketplace", "Orders", "ERP channel", "Warehouse", "Number series", "Imported"
        )
        mappings = uow.session.scalars(
            select(AmazonChannel)
            .where(AmazonChannel.account_id == amazon.id)
            .order_by(AmazonChannel.marketplace_id, AmazonChannel.fulfillment)
        )
        enabled = {m.marketplace_id: m for m in amazon.marketplaces}
        for mapping in mappings:
            marketplace = enabled[mapping.marketplace_id]
            output.add_row(
                f"{marketplace.country_code} ({marketplace.name})",
                mapping.fulfillment.value,
                mapping.channel.code,
                mapping.channel.warehouse.code,
                mapping.channel.order_series,
                "yes" if marketplace.import_enabled else "no",
            )
        cli.console.print(output)


@app.command("import")
def import_orders(
    ctx: typer.Context,
    account: Account = None,
    since: Annotated[
        str | None,
        typer.Option(help="Backfill the orders created from this day on (Amazon keeps 2 years)."),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="With --since: read changes up to this day (default: now).")
    ] = None,
) -> None:
    """Import new and changed orders; with --since, any range Amazon keeps (two years)."""
    cli = context(ctx)
    client, account_id, _ = account_client(cli, account)
    tune_gc()
    with client, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(), console=cli.console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("Importing orders", total=1.0, counts="")

        def show(progress: ImportProgress) -> None:
            report = progress.report
            bar.update(task, completed=progress.fraction,
                       counts=f"{report.seen} orders, {report.pages} pages")  # fmt: skip

        def waiting(operation: str, seconds: float) -> None:
            bar.update(
                task, description=f"Waiting {seconds:.0f} s for Amazon's quota ({operation})"
            )

        client.on_wait = waiting
        importer = OrderImporter(cli.engine, account_id, client, cli.settings, actor=cli.actor,
                                 clock=utcnow, on_progress=show)  # fmt: skip
        report = importer.run(
            since=_date(since, cli, "--since") if since else None,
            until=_date(until, cli, "--until") if until else None,
        )
    counts = ", ".join(
        f"{count} {outcome.value}" for outcome, count in sorted(report.orders.items())
    )
    cli.console.print(f"Read {report.pages} page(s): {counts or 'nothing new'}.")


@app.command("confirm")
def confirm(ctx: typer.Context, account: Account = None) -> None:
    """Send the due shipment confirmations now and check the sent ones on Amazon."""
    cli = context(ctx)
    client, account_id, _ = account_client(cli, account)
    with client:
        report = ConfirmationExporter(cli.engine, account_id, client, cli.settings).run()
    cli.console.print(
        f"{report.sent} sent, {report.verified} verified, {report.failed} failed, "
        f"{report.postponed} to try again later"
        + (f", {report.held} not sent (demo mode)" if report.held else "")
        + "."
    )
    for problem in report.problems:
        cli.console.print(f"- {problem}")
    if report.failed:
        raise typer.Exit(1)


@confirmations_app.callback()
def list_confirmations(
    ctx: typer.Context,
    state: Annotated[
        ConfirmationStatus | None, typer.Option(help="Only these: pending, sent, verified, failed.")
    ] = None,
    account: Account = None,
) -> None:
    """The shipment confirmations, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    cli = context(ctx)
    with cli.uow() as uow:
        account_id = accounts.account_by_name(uow.session, account).id if account else None
        output = table(None, "Order", "Amazon order", "Package>", "Carrier", "State",
                       "Attempts>", "Next", "Note")  # fmt: skip
        for row in confirmations(uow.session, state=state, account_id=account_id):
            output.add_row(
                row.shipment.order.number,
                row.amazon_order_id,
                str(row.shipment_id),
                row.shipment.carrier,
                row.status.value,
                str(row.attempts),
                when(row.next_attempt_at, cli.settings.zone),
                row.last_error or "",
            )
        cli.console.print(output)


@confirmations_app.command("retry")
def retry(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Order number or Amazon order id.")],
) -> None:
    """Send the failed confirmations of an order again (after fixing the cause)."""
    cli = context(ctx)
    with cli.uow() as uow:
        rows = retry_confirmation(uow.session, order, utcnow())
        packages = ", ".join(str(row.shipment_id) for row in rows)
        uow.commit()
    cli.console.print(
        f"Package(s) {packages} of {order} will be confirmed again with the next run "
        "(or now: `sellerbridge amazon confirm`)."
    )


@skus_app.command("map")
def map_command(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The seller SKU on Amazon.")],
    article: Annotated[str, typer.Argument(help="The article number it sells.")],
    account: Account = None,
) -> None:
    """Say which article a SKU sells; held orders with that SKU get the article."""
    cli = context(ctx)
    result = map_sku(cli.uow(), sku=sku, article_number=article, account=account, actor=cli.actor)
    cli.console.print(
        f"SKU {result.sku} sells {result.article}; {result.lines_fixed} waiting line(s) updated."
    )
    if result.ready_to_release:
        cli.console.print(
            "Ready to release: "
            + ", ".join(result.ready_to_release)
            + " (sellerbridge orders release ORDER)"
        )


@skus_app.command("rule")
def rule_command(
    ctx: typer.Context,
    sku: Annotated[str, typer.Argument(help="The seller SKU on Amazon.")],
    buffer: Annotated[int | None, typer.Option(min=0, help="Units always kept back.")] = None,
    buffer_percent: Annotated[
        Decimal | None, typer.Option(help="Percent of the free stock kept back (rounded up).")
    ] = None,
    zero_below: Annotated[
        int | None, typer.Option(min=0, help="Offer 0 when fewer would be offered.")
    ] = None,
    minimum: Annotated[
        int | None, typer.Option(min=0, help="Offered at least (only if sold without stock).")
    ] = None,
    maximum: Annotated[int | None, typer.Option(min=0, help="Offered at most.")] = None,
    no_maximum: Annotated[bool, typer.Option("--no-maximum", help="Remove the cap.")] = False,
    handling_days: Annotated[
        int | None, typer.Option(help="Days from order to shipment shown on Amazon.")
    ] = None,
    account: Account = None,
) -> None:
    """How much of the free stock a SKU offers on Amazon, and its handling time."""
    cli = context(ctx)
    change = StockRuleChange(buffer, buffer_percent, zero_below, minimum, maximum, no_maximum,
                             handling_days)  # fmt: skip
    rule, handling = set_stock_rule(cli.uow(), sku=sku, account=account, change=change)
    cli.console.print(
        f"SKU {sku} offers the free stock less {rule.buffer} unit(s) and "
        f"{rule.buffer_percent}%, 0 below {rule.zero_below}, at least {rule.minimum} if sold "
        f"without stock, at most {'any' if rule.maximum is None else rule.maximum}; handling "
        f"{'as on Amazon' if handling is None else f'{handling} day(s)'}. It goes to Amazon "
        "with the next stock push."
    )


@skus_app.command("list")
def list_skus(ctx: typer.Context, account: Account = None) -> None:
    """The SKUs mapped to articles."""
    cli = context(ctx)
    output = table(None, "SKU", "Article")
    for sku, article in sku_bindings(cli.uow(), account):
        output.add_row(sku, article)
    cli.console.print(output)


@app.command()
def upload(ctx: typer.Context, account: Account = None) -> None:
    """Invoicing with Amazon now: under VCS with own invoices, issue the invoices Amazon's VAT
    data makes due; correct the invoices of Amazon's refunds; upload what is due and read the
    results of earlier uploads."""
    cli = context(ctx)
    client, account_id, name = account_client(cli, account)
    with client:
        try:
            done = run_invoicing(cli.engine, account_id, client, cli.settings, force=True)
        except LockTaken:
            raise _invoicing_running(name) from None
    report = done.upload
    cli.console.print(
        f"Amazon's VAT data: {done.rows.new} new row(s), {done.rows.changed} changed; "
        f"{len(done.vcs.issued)} invoice(s) issued from it, {done.vcs.waiting} order(s) "
        f"waiting for it. Refunds: {done.refunds.new} new, {len(done.refunds.corrected)} "
        f"corrected, {done.refunds.waiting} waiting, {done.refunds.matched} credit note(s) "
        f"given their transaction id; {done.refunds.returned} unit(s) into the returns "
        "warehouse."
    )
    for problem in done.problems:
        cli.console.print(f"- {problem}")
    cli.console.print(
        f"{report.queued} queued, {report.sent} sent, {report.accepted} accepted, "
        f"{len(report.rejected)} rejected, {len(report.unknown)} unknown, "
        f"{report.waiting} still with Amazon."
    )
    for number, why in report.rejected:
        cli.console.print(f"- {number}: {why}")
    if report.rejected or report.unknown or done.problems:
        raise typer.Exit(1)


def _invoicing_running(name: str) -> DomainError:
    return DomainError(f"Invoicing of {name} is running (the worker's).",
                       hint="Try again in a moment.")  # fmt: skip


@refunds_app.callback()
def refunds(
    ctx: typer.Context,
    state: Annotated[
        RefundStatus | None,
        typer.Option(help="Only these: waiting, corrected, amazon, dismissed."),
    ] = None,
    account: Account = None,
) -> None:
    """Amazon's refunds, newest first: the correction invoice of each, the transaction id its
    credit note is uploaded with, or why it waits."""
    if ctx.invoked_subcommand is not None:
        return
    cli = context(ctx)
    with cli.uow() as uow:
        account_id = accounts.account_by_name(uow.session, account).id if account else None
        output = table(None, "Amazon order", "Posted", "Amount>", "State", "Correction",
                       "Transaction", "Reason")  # fmt: skip
        for row in list_refunds(uow.session, account_id, state):
            output.add_row(row.amazon_order_id, when(row.posted_at, cli.settings.zone),
                           f"{row.total_gross} {row.currency}", row.status.value,
                           row.correction or "", row.transaction_id or "",
                           row.reason or "")  # fmt: skip
    cli.console.print(output)


@uploads_app.callback()
def list_uploads(
    ctx: typer.Context,
    state: Annotated[
        UploadStatus | None,
        typer.Option(help="Only these: pending, submitted, accepted, rejected, unknown."),
    ] = None,
    account: Account = None,
) -> None:
    """The invoice uploads to Amazon, newest first, with Amazon's reason for a rejection."""
    if ctx.invoked_subcommand is not None:
        return
    cli = context(ctx)
    with cli.uow() as uow:
        account_id = accounts.account_by_name(uow.session, account).id if account else None
        output = table(None, "Document", "Order", "Amazon order", "State", "Attempts>", "Reason")
        for row in uploads(uow.session, account_id, state):
            output.add_row(row.number, row.order, row.amazon_order_id, row.status.value,
                           str(row.attempts), row.reason or "")  # fmt: skip
    cli.console.print(output)


@uploads_app.command("show")
def show_upload(
    ctx: typer.Context,
    document: Annotated[str, typer.Argument(help="The invoice or correction invoice number.")],
) -> None:
    """One upload: what was sent, its state, and Amazon's reason for a rejection in full."""
    cli = context(ctx)
    with cli.uow() as uow:
        view = upload_of(uow.session, document)
    zone = cli.settings.zone
    for label, value in (
        ("Document", f"{view.number} ({view.document_type})"),
        ("Order", f"{view.order} (Amazon {view.amazon_order_id})"),
        ("State", view.status.value),
        ("Attempts", str(view.attempts)),
        ("Feed", view.feed_id or "—"),
        ("Transaction", view.transaction_id or "—"),
        ("Sent", when(view.sent_at, zone) or "—"),
        ("Finished", when(view.finished_at, zone) or "—"),
        ("Amazon's reason", view.reason or "—"),
    ):
        cli.console.print(f"{label:16} {value}", highlight=False, soft_wrap=True)


@uploads_app.command("retry")
def retry_upload(
    ctx: typer.Context, document: Annotated[str, typer.Argument(help="The invoice number.")]
) -> None:
    """Send a rejected invoice again (after fixing the cause), or an unknown one that Seller
    Central does not show."""
    cli = context(ctx)
    with cli.uow() as uow:
        settle(uow.session, document, accepted=False)
        uow.commit()
    cli.console.print(f"{document} goes to Amazon with the next upload run (or now: "
                      "`sellerbridge amazon upload`).")  # fmt: skip


@uploads_app.command("accept")
def accept_upload(
    ctx: typer.Context, document: Annotated[str, typer.Argument(help="The invoice number.")]
) -> None:
    """Record an unknown upload as accepted, because Seller Central shows the invoice."""
    cli = context(ctx)
    with cli.uow() as uow:
        settle(uow.session, document, accepted=True)
        uow.commit()
    cli.console.print(f"{document} is recorded as uploaded.")


@refunds_app.command("fetch")
def fetch_refunds(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="The Amazon order id.")],
    account: Account = None,
) -> None:
    """Read one order's refunds from Amazon now and correct its invoice (the worker reads all
    refunds every `invoice_data_minutes`; Amazon lists a refund there a few minutes late)."""
    cli = context(ctx)
    client, account_id, name = account_client(cli, account)
    processor = RefundProcessor(cli.engine, account_id, client, DocumentSettings.of(cli.settings))
    report = RefundReport()
    with client:
        try:
            with exclusive(cli.engine, f"{INVOICE_DATA_LOCK}:{account_id}"):
                report.new = processor.read_order(order)
                processor.correct(report)
        except LockTaken:
            raise _invoicing_running(name) from None
    cli.console.print(f"{report.new} new refund(s); correction invoice(s): "
                      f"{', '.join(report.corrected) or 'none'}.")  # fmt: skip
    for problem in report.problems:
        cli.console.print(f"- {problem}")
    if report.problems:
        raise typer.Exit(1)


@refunds_app.command("dismiss")
def dismiss_refund(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="The Amazon order id.")],
    reason: Annotated[str, typer.Option(help="What was done, e.g. 'corrected by hand'.")],
) -> None:
    """Stop trying an order's waiting refunds: a person took care of them."""
    cli = context(ctx)
    with cli.uow() as uow:
        count = dismiss_refunds(uow.session, order, reason=reason)
        uow.commit()
    cli.console.print(f"{count} refund(s) of {order} dismissed.")


@app.command("vat-invoices")
def vat_invoices(
    ctx: typer.Context,
    account: Account = None,
    fetch: Annotated[
        bool,
        typer.Option(
            "--fetch",
            help="First record what Amazon issued since the last run (its VAT calculation "
            "report, up to 90 days back).",
        ),
    ] = False,
    order: Annotated[
        str | None, typer.Option(help="Only this order's (order number or Amazon order id).")
    ] = None,
) -> None:
    """The invoices Amazon issued in the seller's name (VCS with Amazon issuing), newest first."""
    cli = context(ctx)
    if fetch:
        _fetch_amazon_invoices(cli, account)
    with cli.uow() as uow:
        account_id = accounts.account_by_name(uow.session, account).id if account else None
        rows = amazon_invoices(uow.session, account_id, order)
    if not rows:
        cli.console.print(
            f"No Amazon invoice recorded{f' for {order}' if order else ''}"
            + ("." if fetch else "; `--fetch` reads Amazon's VAT calculation report.")
        )
        return
    output = table(None, "Order", "Amazon order", "Invoice", "Total>", "VAT>", "Date")
    for row in rows:
        output.add_row(
            row.order or "(not imported)",
            row.amazon_order_id,
            row.invoice_number,
            money(row.total_gross, row.currency),
            money(row.total_tax, row.currency),
            f"{row.issued_at:%Y-%m-%d}" if row.issued_at else "",
        )
    cli.console.print(output)


def _fetch_amazon_invoices(cli: CliContext, account: str | None) -> None:
    client, account_id, name = account_client(cli, account)
    with client, Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[window]}"),
        TimeElapsedColumn(), console=cli.console, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("Reading Amazon's VAT calculation reports", total=None, window="")

        def show(window: Window, index: int, count: int) -> None:
            days = f"{window.marketplace_id} {window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}"
            bar.update(task, total=count, completed=index, window=days)

        def waiting(operation: str, seconds: float) -> None:
            bar.update(
                task, description=f"Waiting {seconds:.0f} s for Amazon's quota ({operation})"
            )

        client.on_wait = waiting
        report = record_amazon_invoices(cli.engine, account_id, client,
                                        on_window=show)  # fmt: skip
    missing = len(report.not_imported)
    cli.console.print(
        f"{name}: {report.new} Amazon invoice(s) recorded, {report.known} known already"
        + (f", {missing} of order(s) not imported (linked once they are)" if missing else "")
        + (f", {report.linked} linked to orders imported since" if report.linked else "")
        + f" ({report.reports} report(s) read)."
    )
    for marketplace_id in report.skipped_marketplaces:
        cli.console.print(
            f"- {marketplace_id}: Amazon offers no VAT calculation report there; its invoices "
            "are in Seller Central."
        )
