"""``sellerbridge ship``: ship an order by hand, or import tracking numbers from a carrier tool."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from sellerbridge.cli.context import context
from sellerbridge.core.articles import parse_int
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError, InvalidInput
from sellerbridge.services import shipping


def ship(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Order number, or its Amazon order id.")],
    carrier: Annotated[str, typer.Option(help="Who carries the parcel, e.g. DHL.")],
    tracking: Annotated[str | None, typer.Option(help="The parcel's tracking number.")] = None,
    method: Annotated[str | None, typer.Option(help="Shipping method, e.g. 'DHL Paket'.")] = None,
    line: Annotated[
        list[str] | None,
        typer.Option(help="POSITION:QUANTITY in this parcel; repeat (default: all still open)."),
    ] = None,
) -> None:
    """Ship one parcel of a released order: stock out, order shipped, Amazon told (FBM)."""
    cli = context(ctx)
    package = shipping.Package(carrier=carrier, tracking_number=tracking, shipping_method=method,
                               lines=_lines(line) if line else None)  # fmt: skip
    (shipment,) = shipping.ship_order(cli.uow(), order, [package], actor=cli.actor, at=utcnow(),
                                      methods=cli.settings.shipping_methods)  # fmt: skip
    cli.console.print(f"Order {order}: package {shipment} shipped with {carrier}.")


def _lines(texts: list[str]) -> dict[int, int]:
    lines: dict[int, int] = {}
    for text in texts:
        position, separator, quantity = text.partition(":")
        if not separator:
            raise InvalidInput("--line", f"{text!r} is not POSITION:QUANTITY", hint="e.g. 1:2")
        lines[parse_int(position, field="--line", minimum=1)] = parse_int(
            quantity, field="--line quantity", minimum=1
        )
    return lines


def import_tracking(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with columns order, carrier, tracking.")],
) -> None:
    """Ship the orders a carrier tool printed labels for: one parcel per CSV row, with the
    optional columns method and lines (``1:2 2:1``). Each row is its own transaction; rows that
    fail are listed with the reason and can be run again."""
    cli = context(ctx)
    with file.open(encoding="utf-8-sig", newline="") as handle:
        sample = handle.read(2048)
        handle.seek(0)
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        rows = list(csv.DictReader(handle, dialect=dialect))
    missing = {"order", "carrier", "tracking"} - set(rows[0] if rows else {})
    if missing:
        raise InvalidInput(
            str(file), f"has no column {', '.join(sorted(missing))}",
            hint="The first row names the columns: order, carrier, tracking[, method, lines].",
        )  # fmt: skip
    failed = 0
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            package = shipping.Package(
                carrier=row["carrier"],
                tracking_number=row["tracking"],
                shipping_method=row.get("method") or None,
                lines=_lines((row.get("lines") or "").split()) if row.get("lines") else None,
            )
            shipping.ship_order(cli.uow(), row["order"].strip(), [package], actor=cli.actor,
                                at=utcnow(), methods=cli.settings.shipping_methods)  # fmt: skip
        except DomainError as problem:
            failed += 1
            cli.console.print(f"row {number} ({row['order']}): {problem}")
    cli.console.print(f"{len(rows) - failed} of {len(rows)} parcel(s) shipped.")
    if failed:
        raise typer.Exit(1)
