"""``sellerbridge orders``: create, list, show, hold, release and cancel orders."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from sellerbridge.cli.context import context
from sellerbridge.cli.render import money, table, when
from sellerbridge.core.articles import parse_int
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import InvalidFields, InvalidInput
from sellerbridge.core.money import parse_decimal
from sellerbridge.core.orders import OrderState
from sellerbridge.core.parties import Address
from sellerbridge.db.models import AddressRecord, SalesOrder
from sellerbridge.services import orders as order_service
from sellerbridge.services import queries
from sellerbridge.services.lookup import order_by_number

app = typer.Typer(help="Orders: create, list, show, hold, release, cancel.", no_args_is_help=True)

Number = Annotated[str, typer.Argument(help="Order number, e.g. SO-000001.")]


def parse_line(text: str, *, field: str) -> order_service.OrderLineInput:
    """``ARTICLE:QUANTITY:UNIT_PRICE[:TAX_RATE]``, e.g. ``A-100:2:19.99`` or ``B-7:1:9.90:7``."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise InvalidInput(
            field,
            f"{text!r} is not ARTICLE:QUANTITY:UNIT_PRICE[:TAX_RATE]",
            hint="Example: --line A-100:2:19.99",
        )
    return order_service.OrderLineInput(
        article_number=parts[0].strip(),
        quantity=parse_int(parts[1], field=f"{field} quantity", minimum=1),
        unit_price=parse_decimal(parts[2], field=f"{field} unit price"),
        tax_rate=parse_decimal(parts[3], field=f"{field} tax rate") if len(parts) == 4 else None,
    )


def parse_local_time(text: str, zone: ZoneInfo, *, field: str) -> datetime:
    """A date or date and time as people write it, in their own time zone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            field, f"{text!r} is not a date", hint="Write it as 2026-12-24 or 2026-12-24T18:00."
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


@app.command()
def create(
    ctx: typer.Context,
    line: Annotated[
        list[str],
        typer.Option(help="ARTICLE:QUANTITY:UNIT_PRICE[:TAX_RATE]; repeat for more lines."),
    ],
    customer: Annotated[str | None, typer.Option(help="Existing customer number.")] = None,
    name: Annotated[str | None, typer.Option(help="New customer: full name.")] = None,
    company: Annotated[str | None, typer.Option()] = None,
    street: Annotated[str | None, typer.Option()] = None,
    street2: Annotated[str | None, typer.Option()] = None,
    postal_code: Annotated[str | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
    country: Annotated[str | None, typer.Option(help="ISO code, e.g. DE.")] = None,
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    vat_id: Annotated[str | None, typer.Option(help="EU VAT ID of a business customer.")] = None,
    shipping: Annotated[str, typer.Option(help="Shipping charge.")] = "0",
    currency: Annotated[str, typer.Option()] = "EUR",
    net: Annotated[
        bool, typer.Option("--net", help="Prices are net (B2B); default gross.")
    ] = False,
    reference: Annotated[str | None, typer.Option(help="The customer's order reference.")] = None,
    ship_by: Annotated[str | None, typer.Option(help="Latest ship date, e.g. 2026-12-01.")] = None,
    note: Annotated[list[str] | None, typer.Option(help="A note for the timeline.")] = None,
) -> None:
    """Create a manual order; its stock is reserved at once."""
    cli = context(ctx)
    problems: list[InvalidInput] = []
    lines: list[order_service.OrderLineInput] = []
    for index, text in enumerate(line, start=1):
        try:
            lines.append(parse_line(text, field=f"--line {index}"))
        except InvalidInput as problem:
            problems.append(problem)
    if problems:
        raise InvalidFields(problems)
    the_customer: str | order_service.NewCustomer
    if customer is not None:
        the_customer = customer
    else:
        if name is None:
            raise InvalidInput(
                "--name", "is missing", hint="Give --customer NUMBER, or --name and the address."
            )
        the_customer = order_service.NewCustomer(
            address=Address(
                name=name,
                company=company,
                street1=street or "",
                street2=street2,
                postal_code=postal_code or "",
                city=city or "",
                country=country or "",
                email=email,
                phone=phone,
            ),
            vat_id=vat_id,
        )
    number = order_service.create_manual_order(
        cli.uow(),
        order_service.ManualOrderInput(
            lines=lines,
            customer=the_customer,
            currency=currency,
            prices_include_tax=not net,
            shipping=parse_decimal(shipping, field="--shipping"),
            external_reference=reference,
            ship_by=(
                parse_local_time(ship_by, cli.settings.zone, field="--ship-by") if ship_by else None
            ),
            notes=note or [],
        ),
        actor=cli.actor,
        seller=cli.settings.seller.tax_profile(cli.settings.home_country),
    )
    with cli.uow() as uow:
        _show(cli.console, order_by_number(uow.session, number), cli.settings.zone)


@app.command("list")
def list_command(
    ctx: typer.Context,
    state: Annotated[OrderState | None, typer.Option(help="Only orders in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """List the most recent orders."""
    cli = context(ctx)
    with cli.uow() as uow:
        found = queries.orders(uow.session, state, limit)
        output = table(None, "Order", "Ordered", "Channel", "Customer", "State", "Total>")
        for order in found:
            output.add_row(
                order.number,
                when(order.ordered_at, cli.settings.zone),
                order.channel.code,
                order.billing_address.company or order.billing_address.name,
                order.state.label,
                money(order.total_gross, order.currency),
            )
        cli.console.print(output)
        cli.console.print(f"{len(found)} order(s)")


@app.command()
def due(
    ctx: typer.Context,
    hours: Annotated[int, typer.Option(min=0, help="Ship-by date within this many hours.")] = 24,
) -> None:
    """Orders not shipped yet whose ship-by date is near or past, most urgent first."""
    cli = context(ctx)
    now = utcnow()
    with cli.uow() as uow:
        found = queries.due_orders(uow.session, now + timedelta(hours=hours))
        output = table(None, "Order", "Ship by", "Channel", "State", "Reference")
        for order in found:
            assert order.ship_by is not None  # the query asks for a ship-by date
            late = " (late)" if order.ship_by < now else ""
            output.add_row(order.number, when(order.ship_by, cli.settings.zone) + late,
                           order.channel.code, order.state.label,
                           order.external_reference or "")  # fmt: skip
        cli.console.print(output)
        cli.console.print(f"{len(found)} order(s) to ship within {hours} hour(s) or late")


@app.command()
def show(ctx: typer.Context, number: Number) -> None:
    """Show an order: addresses, lines with their stock, totals, holds and timeline."""
    cli = context(ctx)
    with cli.uow() as uow:
        _show(cli.console, order_by_number(uow.session, number), cli.settings.zone)


@app.command()
def cancel(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option(help="Why the order is cancelled.")],
) -> None:
    """Cancel an order that has not shipped; its reserved stock is set free."""
    cli = context(ctx)
    order_service.cancel_order(cli.uow(), number, reason=reason, actor=cli.actor)
    cli.console.print(f"Order {number} cancelled; its stock is free again.")


@app.command()
def hold(
    ctx: typer.Context,
    number: Number,
    reason: Annotated[str, typer.Option(help="Why the order must wait.")],
) -> None:
    """Put an order on hold; it keeps its reserved stock."""
    cli = context(ctx)
    order_service.hold_order(cli.uow(), number, reason=reason, actor=cli.actor)
    cli.console.print(f"Order {number} is on hold.")


@app.command()
def unhold(ctx: typer.Context, number: Number) -> None:
    """Resolve an order's holds; with none left it is open again."""
    cli = context(ctx)
    remaining = order_service.resolve_holds(cli.uow(), number, actor=cli.actor)
    cli.console.print(
        f"Order {number} is open again."
        if remaining == 0
        else f"Order {number} still has {remaining} hold(s)."
    )


@app.command()
def release(ctx: typer.Context, number: Number) -> None:
    """Release an open order to the warehouse (all of its stock must be reserved)."""
    cli = context(ctx)
    state = order_service.release_order(cli.uow(), number, actor=cli.actor)
    messages = {
        OrderState.RELEASED: f"Order {number} is released for shipping.",
        OrderState.SHIPPED: f"Order {number} is shipped (by its channel).",
        OrderState.OPEN: f"Order {number} is open again and waits for stock.",
    }
    cli.console.print(messages.get(state, f"Order {number} is {state.label}."))


def _address_lines(address: AddressRecord) -> str:
    parts = [
        address.company,
        address.name,
        address.street1,
        address.street2,
        address.street3,
        f"{address.postal_code} {address.city}",
        address.country,
    ]
    return "\n".join(part for part in parts if part)


def _show(console: Console, order: SalesOrder, zone: ZoneInfo) -> None:
    console.print(
        f"Order {order.number}  {order.state.label}  ·  channel {order.channel.code}"
        f"  ·  ordered {when(order.ordered_at, zone)}"
        + (f"  ·  ship by {when(order.ship_by, zone)}" if order.ship_by else "")
        + (f"  ·  reference {order.external_reference}" if order.external_reference else ""),
        style="bold",
    )
    addresses = table(None, f"Customer {order.customer.number}", "Ship to")
    addresses.add_row(_address_lines(order.billing_address), _address_lines(order.shipping_address))
    console.print(addresses)
    prices = "gross" if order.prices_include_tax else "net"
    lines = table(
        None,
        "#",
        "Article",
        "Description",
        "Qty>",
        f"Unit ({prices})>",
        "VAT %>",
        "Total>",
        "Stock",
    )
    for line in order.lines:
        stock = ", ".join(
            f"{r.article.number} {r.reserved}/{r.wanted} reserved" for r in line.reservations
        )
        lines.add_row(
            str(line.position),
            line.article_number,
            line.description,
            str(line.quantity),
            str(line.unit_price_gross if order.prices_include_tax else line.unit_price_net),
            f"{line.tax_rate.normalize():f}",
            money(line.gross, order.currency),
            stock,
        )
    for charge in order.charges:
        lines.add_row(
            "",
            charge.kind.value,
            charge.description,
            "",
            "",
            f"{charge.tax_rate.normalize():f}",
            money(charge.gross, order.currency),
            "",
        )
    console.print(lines)
    console.print(
        f"Net {money(order.total_net, order.currency)}  ·  VAT "
        f"{money(order.total_tax, order.currency)}  ·  Total "
        f"{money(order.total_gross, order.currency)}",
        style="bold",
    )
    for hold in order.open_holds:
        console.print(f"On hold ({hold.code}): {hold.message}", style="yellow")
    timeline = table("Timeline", "When", "What", "By")
    for event in order.events:
        timeline.add_row(when(event.at, zone), event.message, event.actor)
    console.print(timeline)
