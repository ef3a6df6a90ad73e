"""The ``sellerbridge`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from typer.core import TyperGroup

from sellerbridge import __version__, logs
from sellerbridge.channels.amazon.accounts import credentials_hint
from sellerbridge.channels.amazon.spapi import AuthError, SpApiError
from sellerbridge.cli import (
    alerts,
    amazon,
    articles,
    db,
    demo,
    documents,
    orders,
    sandbox,
    shipping,
    stock,
    worker,
)
from sellerbridge.cli.context import CliContext, context
from sellerbridge.config import ConfigError, load_settings
from sellerbridge.core.errors import DomainError
from sellerbridge.db.errors import is_conflict
from sellerbridge.db.migrate import upgrade
from sellerbridge.secrets import create_key_file
from sellerbridge.services.setup import initialise

_errors = Console(stderr=True)


class _ErrorsAsMessages(TyperGroup):
    """Show refused operations as one readable message and exit with status 1.

    Domain errors already say what is wrong and what to do; a traceback would only hide that.
    Anything else is a bug and keeps its traceback.
    """

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (DomainError, ConfigError, SpApiError) as error:
            # SP-API errors say what failed and what to do, without secrets or personal data.
            _errors.print(f"[bold red]Error:[/] {escape(str(error))}")
            if isinstance(error, AuthError) and (hint := credentials_hint(error)):
                _errors.print(escape(hint))
            raise typer.Exit(1) from None
        except (DBAPIError, StaleDataError) as error:
            if is_conflict(error):
                _errors.print(
                    "[bold red]Error:[/] someone else changed the same data at the same moment, "
                    "so nothing was saved. Run the command again."
                )
                raise typer.Exit(1) from None
            if isinstance(error, OperationalError):
                _errors.print(
                    "[bold red]Error:[/] the database cannot be used: "
                    f"{escape(str(error.orig).strip())}\n"
                    "Check that it is running and that SELLERBRIDGE_DATABASE_URL is right."
                )
                raise typer.Exit(1) from None
            raise


app = typer.Typer(
    cls=_ErrorsAsMessages,
    help="sellerbridge: your back office, connected to Amazon Seller Central.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(articles.app, name="articles")
app.add_typer(stock.app, name="stock")
app.add_typer(orders.app, name="orders")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(amazon.app, name="amazon")
app.add_typer(amazon.skus_app, name="skus")
app.add_typer(alerts.app, name="alerts")
app.add_typer(documents.app, name="documents")
app.command("ship")(shipping.ship)
app.command("import-tracking")(shipping.import_tracking)
app.command("run")(worker.run)
app.command("worker")(worker.worker)
app.command("demo")(demo.demo)


def _version(value: bool) -> None:
    if value:
        Console().print(f"sellerbridge {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            help="TOML configuration file (default: $SELLERBRIDGE_CONFIG, "
            "else sellerbridge.toml in the data directory)."
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    if not ctx.resilient_parsing:
        ctx.obj = CliContext(load_settings(config))
        logs.configure(ctx.obj.settings.log_level or "WARNING", json=ctx.obj.settings.log_json)
        ctx.call_on_close(ctx.obj.close)


@app.command()
def init(ctx: typer.Context) -> None:
    """Set up the data directory and the database (safe to run again)."""
    cli = context(ctx)
    cli.settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(cli.engine)
    created = initialise(cli.uow(), home_country=cli.settings.home_country)
    key = create_key_file(cli.settings)
    if key is not None:
        created.append(f"secret key {key} (back it up: stored credentials need it)")
    cli.console.print(f"Database: {cli.database_label} (schema up to date)")
    for item in created:
        cli.console.print(f"  created {item}")
    if not created:
        cli.console.print("  everything was set up already")
