"""``sellerbridge articles``: the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sellerbridge.cli.context import context
from sellerbridge.cli.render import table
from sellerbridge.core.errors import DomainError
from sellerbridge.services import queries
from sellerbridge.services.articles import import_articles, read_csv

app = typer.Typer(help="Articles: import from CSV, list.", no_args_is_help=True)


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import or update articles from a CSV file: all rows, or none if any row is wrong.

    Columns: article_number, name (required), gtin, tax_class (standard, reduced,
    super_reduced, zero), weight_g, stock_tracked (yes/no), allow_backorder (yes/no),
    components ("A-100:2; A-200:1" for a bundle). Comma or semicolon separated, UTF-8.
    """
    cli = context(ctx)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainError(
            f"{file} is not UTF-8 text (byte {error.start} cannot be read).",
            hint="Save it as 'CSV UTF-8' in your spreadsheet program.",
        ) from None
    header, rows = read_csv(text)
    summary = import_articles(cli.uow(), header, rows)
    cli.console.print(
        f"Imported {summary.created + summary.updated} article(s) from {file.name}: "
        f"{summary.created} new, {summary.updated} updated."
    )


@app.command("list")
def list_command(
    ctx: typer.Context,
    search: Annotated[
        str | None, typer.Option(help="Part of the number or name, or a GTIN.")
    ] = None,
) -> None:
    """List articles."""
    cli = context(ctx)
    with cli.uow() as uow:
        found = queries.articles(uow.session, search)
        output = table(None, "Article", "Name", "GTIN", "Tax class", "Weight g>", "Stock")
        for article in found:
            if article.is_bundle:
                kind = "bundle: " + ", ".join(
                    f"{part.quantity}× {part.component.number}" for part in article.components
                )
            elif article.stock_tracked:
                kind = "tracked" + (", backorders" if article.allow_backorder else "")
            else:
                kind = "not tracked"
            output.add_row(
                article.number,
                article.name,
                article.gtin or "",
                article.tax_class.value,
                "" if article.weight_g is None else str(article.weight_g),
                kind,
            )
        cli.console.print(output)
        cli.console.print(f"{len(found)} article(s)")
