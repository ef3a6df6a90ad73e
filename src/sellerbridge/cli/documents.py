"""``sellerbridge documents``: issue, list, show and write invoices, corrections, delivery notes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sellerbridge.cli.context import context
from sellerbridge.cli.render import money, table, when
from sellerbridge.core.articles import parse_int
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import InvalidInput
from sellerbridge.core.money import parse_decimal
from sellerbridge.db.models import Document
from sellerbridge.services import documents as service
from sellerbridge.services import mailing

app = typer.Typer(
    help="Documents: invoices, correction invoices, delivery notes; PDFs and e-mail.",
    no_args_is_help=True,
)

OrderNumber = Annotated[str, typer.Argument(help="Order number, or its Amazon order id.")]
DocumentNumber = Annotated[str, typer.Argument(help="Document number, e.g. RE-000001.")]


@app.command()
def invoice(ctx: typer.Context, order: OrderNumber) -> None:
    """Issue the invoice of an order."""
    _issue(ctx, service.issue_invoice, order)


@app.command("delivery-note")
def delivery_note(ctx: typer.Context, order: OrderNumber) -> None:
    """Issue the delivery note of a released order (no prices)."""
    _issue(ctx, service.issue_delivery_note, order)


def _issue(ctx: typer.Context, issue: service.Issuer, order: str) -> None:
    cli = context(ctx)
    settings = service.DocumentSettings.of(cli.settings)
    with cli.uow() as uow:
        document = issue(uow.session, order, settings=settings, actor=cli.actor, at=utcnow())
        uow.commit()
        _print_issued(cli.console, document)


@app.command()
def correct(
    ctx: typer.Context,
    invoice_number: DocumentNumber,
    reason: Annotated[str, typer.Option(help="Why, e.g. 'returned', printed on the document.")],
    line: Annotated[
        list[str] | None,
        typer.Option(help="POSITION[:QUANTITY] of the invoice to correct (default: all units)."),
    ] = None,
    amount: Annotated[
        str | None, typer.Option(help="A gross amount to refund, split across the VAT rates.")
    ] = None,
) -> None:
    """Issue a correction invoice (Rechnungskorrektur) for lines of an invoice or an amount."""
    cli = context(ctx)
    quantities = _quantities(line) if line else None
    with cli.uow() as uow:
        document = service.issue_correction(
            uow.session,
            invoice_number,
            reason=reason,
            quantities=quantities,
            amount=parse_decimal(amount, field="--amount") if amount is not None else None,
            settings=service.DocumentSettings.of(cli.settings),
            actor=cli.actor,
            at=utcnow(),
        )
        uow.commit()
        _print_issued(cli.console, document)


def _quantities(lines: list[str]) -> dict[int, int | None]:
    """``POSITION[:QUANTITY]`` options; no quantity: every unit left."""
    result: dict[int, int | None] = {}
    for text in lines:
        position, _, quantity = text.partition(":")
        number = parse_int(position, field="--line", minimum=1)
        if number in result:
            raise InvalidInput("--line", f"line {number} is named twice")
        result[number] = (
            parse_int(quantity, field="--line quantity", minimum=1) if quantity else None
        )
    return result


@app.command("list")
def list_command(
    ctx: typer.Context,
    order: Annotated[str | None, typer.Option(help="Only the documents of this order.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """List documents, newest first."""
    cli = context(ctx)
    with cli.uow() as uow:
        found = (
            service.documents_of(uow.session, order)
            if order
            else service.recent_documents(uow.session, limit)
        )
        output = table(None, "Document", "Kind", "Issued", "Order", "Total>")
        for document in found:
            output.add_row(
                document.number,
                document.kind.value.replace("_", " "),
                when(document.issued_at, cli.settings.zone),
                document.order.number,
                money(document.total_gross, document.currency) if document.kind.has_prices else "",
            )
        cli.console.print(output)
        cli.console.print(f"{len(found)} document(s)")


@app.command()
def show(ctx: typer.Context, number: DocumentNumber) -> None:
    """Show a document: its lines, totals, SHA-256 and e-mails."""
    cli = context(ctx)
    with cli.uow() as uow:
        document = service.document_by_number(uow.session, number)
        cli.console.print(
            f"{document.kind.value.replace('_', ' ').capitalize()} {document.number} for order "
            f"{document.order.number}, issued {when(document.issued_at, cli.settings.zone)} by "
            f"{document.issued_by} (language {document.language})"
        )
        if document.corrects is not None:
            cli.console.print(f"Corrects invoice {document.corrects.number}: {document.reason}")
        output = table(None, "#", "Description", "Qty>", "VAT %>", "Net>", "VAT>", "Gross>")
        for line in document.lines:
            output.add_row(
                str(line.position), line.description, str(line.quantity),
                f"{line.tax_rate.normalize():f}", f"{line.net:,.2f}", f"{line.tax:,.2f}",
                f"{line.gross:,.2f}",
            )  # fmt: skip
        cli.console.print(output)
        if document.kind.has_prices:
            cli.console.print(
                f"Total {money(document.total_gross, document.currency)} (net "
                f"{document.total_net:,.2f}, VAT {document.total_tax:,.2f})"
            )
        cli.console.print(f"SHA-256 {document.sha256}")
        for mail in mailing.mails_of(uow.session, document):
            cli.console.print(
                f"E-mail: {mail.status.value}, {mail.attempts} attempt(s)"
                + (f", last error: {mail.last_error}" if mail.last_error else "")
            )


@app.command()
def pdf(
    ctx: typer.Context,
    number: DocumentNumber,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: NUMBER.pdf).")
    ] = None,
) -> None:
    """Write a document's PDF to a file, exactly as it was issued."""
    cli = context(ctx)
    with cli.uow() as uow:
        content = service.pdf_of(uow.session, number)
    target = output or Path(f"{number}.pdf")
    target.write_bytes(content)
    cli.console.print(f"Wrote {target} ({len(content):,} bytes).")


@app.command()
def mail(
    ctx: typer.Context,
    number: DocumentNumber,
    to: Annotated[
        str | None, typer.Option(help="Send to this address instead of the buyer's.")
    ] = None,
) -> None:
    """E-mail an invoice or correction to the buyer now (again, if it was sent before)."""
    cli = context(ctx)
    with cli.uow() as uow:
        mail_id = mailing.queue_mail(uow.session, number, to=to, at=utcnow()).id
        uow.commit()
    result = mailing.send_mail(cli.engine, cli.settings, mail_id, at=utcnow())
    cli.console.print(result.message)
    if not result.sent:
        raise typer.Exit(1)


def _print_issued(console: Console, document: Document) -> None:
    total = (
        f", {money(document.total_gross, document.currency)}" if document.kind.has_prices else ""
    )
    console.print(
        f"Issued {document.kind.value.replace('_', ' ')} {document.number} for order "
        f"{document.order.number}{total}. Write it with `sellerbridge documents pdf "
        f"{document.number}`."
    )
