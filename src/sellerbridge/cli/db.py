"""``sellerbridge db``: the database schema."""

from __future__ import annotations

import typer

from sellerbridge.cli.context import context
from sellerbridge.db.migrate import current_revision, head_revision, upgrade

app = typer.Typer(help="Database schema: upgrade and status.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Bring the database schema up to this version (back up the database first)."""
    cli = context(ctx)
    before = current_revision(cli.engine)
    upgrade(cli.engine)
    after = current_revision(cli.engine)
    if before == after:
        cli.console.print(f"{cli.database_label}: schema {after} is up to date.")
    else:
        cli.console.print(f"{cli.database_label}: schema upgraded from {before} to {after}.")


@app.command()
def status(ctx: typer.Context) -> None:
    """Show the schema version of the database and the one this version needs."""
    cli = context(ctx)
    current, head = current_revision(cli.engine), head_revision(cli.engine)
    cli.console.print(f"Database: {cli.database_label}")
    cli.console.print(f"Schema:   {current or 'not set up'} (needed: {head})")
    if current != head:
        raise typer.Exit(1)
