"""Order use cases: create a manual order, hold it, release it, cancel it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from sellerbridge.core.clock import ensure_utc, utcnow
from sellerbridge.core.errors import DomainError, InvalidFields, InvalidInput
from sellerbridge.core.money import ZERO, check_currency
from sellerbridge.core.orders import (
    HOLD_MANUAL,
    ChargeDraft,
    ChargeKind,
    LineDraft,
    OrderState,
    OrderTotals,
    default_charge_rate,
    price_charge,
    price_line,
)
from sellerbridge.core.parties import Address, check_vat_id, validated_address
from sellerbridge.core.tax import TaxSplit, rate_for
from sellerbridge.db.models import (
    AddressRecord,
    Customer,
    OrderHold,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
)
from sellerbridge.db.numbering import allocate_number
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock
from sellerbridge.services.events import change_state, record_event
from sellerbridge.services.lookup import (
    article_by_number,
    channel_by_code,
    customer_by_number,
    order_by_number,
)

MANUAL_CHANNEL = "manual"


@dataclass(frozen=True)
class OrderLineInput:
    article_number: str
    quantity: int
    unit_price: Decimal
    tax_rate: Decimal | None = None  # default: the home country's rate for the article
    discount: Decimal = ZERO


@dataclass(frozen=True)
class NewCustomer:
    address: Address
    vat_id: str | None = None


@dataclass(frozen=True)
class ManualOrderInput:
    """A manual order: an existing customer by number, or a new one with an address."""

    lines: list[OrderLineInput]
    customer: str | NewCustomer
    currency: str = "EUR"
    prices_include_tax: bool = True
    shipping: Decimal = ZERO
    shipping_address: Address | None = None
    external_reference: str | None = None
    ordered_at: datetime | None = None
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    channel: str = MANUAL_CHANNEL
    notes: list[str] = field(default_factory=list)


def create_manual_order(
    uow: UnitOfWork, order_input: ManualOrderInput, *, actor: str, home_country: str
) -> str:
    """Create an order, reserve its stock, and return its number."""
    if not order_input.lines:
        raise InvalidInput("lines", "an order needs at least one line")
    currency = check_currency(order_input.currency)
    now = utcnow()
    ordered_at = ensure_utc(order_input.ordered_at or now, field="ordered_at")
    with uow:
        session = uow.session
        channel = channel_by_code(session, order_input.channel)
        customer, billing = _customer_and_address(session, order_input.customer, at=now)
        shipping = (
            validated_address(order_input.shipping_address, field_prefix="shipping.")
            if order_input.shipping_address is not None
            else billing
        )
        order = SalesOrder(
            number=allocate_number(session, "sales_order", channel.order_series, at=now),
            channel=channel,
            external_reference=order_input.external_reference,
            customer=customer,
            billing_address=AddressRecord.of(billing),
            shipping_address=AddressRecord.of(shipping),
            warehouse=channel.warehouse,
            currency=currency,
            prices_include_tax=order_input.prices_include_tax,
            state=OrderState.OPEN,
            ordered_at=ordered_at,
            ship_by=_optional_utc(order_input.ship_by, "ship_by"),
            deliver_by=_optional_utc(order_input.deliver_by, "deliver_by"),
        )
        splits = _add_lines(session, order, order_input, home_country=home_country)
        if order_input.shipping:
            splits.append(_add_shipping(order, order_input.shipping))
        totals = OrderTotals.of(splits)
        order.total_net, order.total_tax, order.total_gross = totals.net, totals.tax, totals.gross
        session.add(order)
        record_event(
            order,
            "created",
            f"Order created in channel {channel.code}: {len(order.lines)} line(s), "
            f"{totals.gross} {currency}.",
            actor=actor,
            at=now,
        )
        for note in order_input.notes:
            record_event(order, "note", note, actor=actor, at=now)
        session.flush()
        stock.reserve_order(session, order, actor=actor, at=now)
        number = order.number
        uow.commit()
    return number


def _optional_utc(value: datetime | None, field_name: str) -> datetime | None:
    return None if value is None else ensure_utc(value, field=field_name)


def _customer_and_address(
    session: Session, customer: str | NewCustomer, *, at: datetime
) -> tuple[Customer, Address]:
    if isinstance(customer, str):
        existing = customer_by_number(session, customer)
        return existing, existing.address.to_address()
    address = validated_address(customer.address)
    vat_id = check_vat_id(customer.vat_id) if customer.vat_id else None
    record = Customer(
        number=allocate_number(session, "customer", "default", at=at),
        vat_id=vat_id,
        address=AddressRecord.of(address),
    )
    session.add(record)
    return record, address


def _add_lines(
    session: Session, order: SalesOrder, order_input: ManualOrderInput, *, home_country: str
) -> list[TaxSplit]:
    problems: list[InvalidInput] = []
    splits: list[TaxSplit] = []
    for position, line_input in enumerate(order_input.lines, start=1):
        try:
            article = article_by_number(session, line_input.article_number)
            rate = line_input.tax_rate
            if rate is None:
                rate = rate_for(home_country, article.tax_class, order.ordered_at.date())
            draft = LineDraft(
                article_number=article.number,
                quantity=line_input.quantity,
                unit_price=line_input.unit_price,
                tax_rate=rate,
                discount=line_input.discount,
            )
            price = price_line(draft, order.currency, prices_include_tax=order.prices_include_tax)
        except DomainError as problem:
            problems.append(InvalidInput(f"line {position}", problem.message, hint=problem.hint))
            continue
        order.lines.append(
            SalesOrderLine(
                position=position,
                article=article,
                article_number=article.number,
                description=article.name,
                quantity=draft.quantity,
                unit_price_net=price.unit_net,
                unit_price_gross=price.unit_gross,
                tax_rate=rate,
                discount=price.discount,
                net=price.total.net,
                tax=price.total.tax,
                gross=price.total.gross,
            )
        )
        splits.append(price.total)
    if problems:
        raise InvalidFields(problems)
    return splits


def _add_shipping(order: SalesOrder, amount: Decimal) -> TaxSplit:
    if amount < 0:
        raise InvalidInput("shipping", f"{amount} must not be negative")
    charge = ChargeDraft(
        kind=ChargeKind.SHIPPING,
        amount=amount,
        tax_rate=default_charge_rate([line.tax_rate for line in order.lines]),
    )
    split = price_charge(charge, order.currency, prices_include_tax=order.prices_include_tax)
    order.charges.append(
        SalesOrderCharge(
            kind=charge.kind,
            description="Shipping",
            tax_rate=charge.tax_rate,
            net=split.net,
            tax=split.tax,
            gross=split.gross,
        )
    )
    return split


def cancel_order(uow: UnitOfWork, number: str, *, reason: str, actor: str) -> None:
    """Cancel an order that has not shipped and give its reserved stock back."""
    if not reason.strip():
        raise InvalidInput("reason", "is empty", hint="Say why the order is cancelled.")
    with uow:
        session = uow.session
        order = order_by_number(session, number, for_update=True)
        now = utcnow()
        change_state(order, OrderState.CANCELLED, actor=actor, at=now, why=reason.strip())
        stock.release_order(session, order, actor=actor, at=now)
        uow.commit()


def hold_order(
    uow: UnitOfWork, number: str, *, reason: str, actor: str, code: str = HOLD_MANUAL
) -> None:
    """Stop an order until someone resolves the hold; its stock stays reserved."""
    if not reason.strip():
        raise InvalidInput("reason", "is empty", hint="Say why the order is held.")
    with uow:
        order = order_by_number(uow.session, number, for_update=True)
        now = utcnow()
        if order.state != OrderState.ON_HOLD:
            change_state(order, OrderState.ON_HOLD, actor=actor, at=now)
        order.holds.append(
            OrderHold(code=code, message=reason.strip(), created_at=now, created_by=actor)
        )
        record_event(
            order, "hold_added", f"On hold ({code}): {reason.strip()}", actor=actor, at=now
        )
        uow.commit()


def resolve_holds(uow: UnitOfWork, number: str, *, actor: str, code: str | None = None) -> int:
    """Resolve the order's open holds (all, or those with ``code``); returns how many remain.

    When none remains the order is open again and can be released.
    """
    with uow:
        order = order_by_number(uow.session, number, for_update=True)
        now = utcnow()
        to_resolve = [h for h in order.open_holds if code is None or h.code == code]
        if not to_resolve:
            raise DomainError(
                f"Order {order.number} has no open hold{'' if code is None else f' {code!r}'}.",
                hint=f"It is {order.state.label}.",
            )
        for hold in to_resolve:
            hold.resolved_at, hold.resolved_by = now, actor
            record_event(
                order, "hold_resolved", f"Hold resolved ({hold.code}).", actor=actor, at=now
            )
        remaining = len(order.open_holds)
        if remaining == 0:
            change_state(order, OrderState.OPEN, actor=actor, at=now)
        uow.commit()
    return remaining


def release_order(uow: UnitOfWork, number: str, *, actor: str) -> None:
    """Release an open order to the warehouse; all of its stock must be reserved."""
    with uow:
        order = order_by_number(uow.session, number, for_update=True)
        missing = [
            f"line {line.position} {reservation.article.number}: "
            f"{reservation.reserved} of {reservation.wanted} reserved"
            for line in order.lines
            for reservation in line.reservations
            if reservation.reserved < reservation.wanted
        ]
        if missing and order.state == OrderState.OPEN:
            raise DomainError(
                f"Order {order.number} cannot be released: {'; '.join(missing)}.",
                hint="Receive the missing stock; the order gets it automatically.",
            )
        change_state(order, OrderState.RELEASED, actor=actor, at=utcnow())
        uow.commit()
