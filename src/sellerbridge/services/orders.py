"""Order use cases: create a manual order, hold it, release it, cancel it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial

from sqlalchemy.orm import Session

from sellerbridge.core.clock import ensure_utc, utcnow
from sellerbridge.core.errors import DomainError, InvalidInput, Problems
from sellerbridge.core.money import ZERO, check_currency
from sellerbridge.core.orders import (
    EXTERNAL_REFERENCE_MAX,
    HOLD_MANUAL,
    HOLD_SHIPPED_ELSEWHERE,
    HOLD_UNKNOWN_ARTICLE,
    NOTE_MAX,
    ChargeKind,
    OrderState,
    OrderTotals,
)
from sellerbridge.core.parties import Address, check_vat_id, validated_address
from sellerbridge.core.text import clean_text, required_text
from sellerbridge.core.vat import (
    PricedLine,
    SaleCharge,
    SaleLine,
    SellerTaxProfile,
    Treatment,
    price_charges,
    price_line,
    treatment_of,
)
from sellerbridge.db.models import (
    AddressRecord,
    Customer,
    OrderHold,
    SalesChannel,
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


@dataclass(frozen=True)
class NewOrder:
    """An order ready to be written: every amount computed, every field checked.

    Holds put it on hold at once; otherwise it is open, or shipped when its channel ships its
    orders itself (Amazon FBA) or it was shipped before it arrived (``shipped_outside``). Its
    stock is reserved unless it is shipped without the merchant's warehouse.
    """

    channel: SalesChannel
    customer: Customer
    billing: Address
    shipping: Address
    currency: str
    prices_include_tax: bool
    ordered_at: datetime
    lines: list[SalesOrderLine]
    charges: list[SalesOrderCharge]
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    service_level: str | None = None
    external_reference: str | None = None
    holds: list[tuple[str, str]] = field(default_factory=list)  # (code, reason)
    notes: list[str] = field(default_factory=list)
    number: str | None = None
    """A number allocated beforehand (a bulk import takes many at once); default: the next
    number of the channel's series."""
    shipped_outside: bool = False
    """Shipped outside the ERP before it arrived (a marketplace order shipped from its seller
    portal): stored as shipped, its stock untouched. With holds, it waits for them with a
    :data:`HOLD_SHIPPED_ELSEWHERE` hold."""

    @property
    def ships_without_warehouse(self) -> bool:
        return self.channel.fulfilled_externally or self.shipped_outside


def place_order(session: Session, new: NewOrder, *, actor: str, at: datetime) -> SalesOrder:
    """Write ``new`` with its number, totals, holds and timeline, and reserve its stock."""
    billing = AddressRecord.of(new.billing)
    order = SalesOrder(
        number=new.number or allocate_number(session, "sales_order", new.channel.order_series),
        channel=new.channel,
        external_reference=new.external_reference,
        customer=new.customer,
        billing_address=billing,
        shipping_address=billing if new.shipping == new.billing else AddressRecord.of(new.shipping),
        warehouse=new.channel.warehouse,
        currency=new.currency,
        prices_include_tax=new.prices_include_tax,
        state=OrderState.OPEN,
        ordered_at=new.ordered_at,
        ship_by=new.ship_by,
        deliver_by=new.deliver_by,
        service_level=new.service_level,
        lines=new.lines,
        charges=new.charges,
    )
    totals = OrderTotals.of([*order.lines, *order.charges])
    order.total_net, order.total_tax, order.total_gross = totals.net, totals.tax, totals.gross
    session.add(order)
    record_event(
        order,
        "created",
        f"Order created in channel {new.channel.code}: {len(order.lines)} line(s), "
        f"{totals.gross} {new.currency}.",
        actor=actor,
        at=at,
    )
    for note in new.notes:
        record_event(order, "note", note, actor=actor, at=at)
    holds = list(new.holds)
    if new.shipped_outside and holds:
        holds.append((HOLD_SHIPPED_ELSEWHERE, SHIPPED_OUTSIDE))
    for code, reason in holds:
        add_hold(order, code, reason, actor=actor, at=at)
    if new.ships_without_warehouse and not holds:
        _shipped_without_warehouse(session, order, actor=actor, at=at)
    if not new.ships_without_warehouse:
        stock.reserve_order(session, order, actor=actor, at=at)
    return order


SHIPPED_OUTSIDE = (
    "It was shipped outside sellerbridge before it arrived here. Releasing it marks it shipped; "
    "its stock is not booked out."
)


def _shipped_without_warehouse(
    session: Session, order: SalesOrder, *, actor: str, at: datetime
) -> None:
    """Shipped by the channel (Amazon FBA: booked out of its warehouse where that is tracked)
    or outside sellerbridge (nothing booked out): straight to shipped."""
    if order.channel.fulfilled_externally:
        why = f"Shipped by {order.channel.name}."
        stock.book_channel_shipment(session, order, actor=actor, at=at)
    else:
        why = "Shipped outside sellerbridge; no stock was booked out."
    for target in (OrderState.RELEASED, OrderState.SHIPPED):
        change_state(order, target, actor=actor, at=at, why=why)


def create_manual_order(
    uow: UnitOfWork, order_input: ManualOrderInput, *, actor: str, seller: SellerTaxProfile
) -> str:
    """Create an order, reserve its stock, and return its number.

    Its VAT follows the tax engine for the seller's registrations (``seller``): domestic, a
    distance sale taxed at the destination, an exempt intra-EU supply to a business with a
    valid VAT ID, an exempt export — the same treatment its invoice will name. Every problem
    with the input (address fields, unknown articles, bad prices) is reported at once, and
    nothing is written unless there is none.
    """
    if not order_input.lines:
        raise InvalidInput("lines", "an order needs at least one line")
    currency = check_currency(order_input.currency)
    now = utcnow()
    ordered_at = ensure_utc(order_input.ordered_at or now, field="ordered_at")
    ship_by = _optional_utc(order_input.ship_by, "ship_by")
    deliver_by = _optional_utc(order_input.deliver_by, "deliver_by")
    with uow:
        session = uow.session
        channel = channel_by_code(session, order_input.channel)
        problems = Problems()
        billing = problems.check(lambda: _billing_address(session, order_input.customer))
        shipping = None
        if order_input.shipping_address is not None:
            shipping = problems.check(
                partial(validated_address, order_input.shipping_address, field_prefix="shipping.")
            )
        reference = problems.check(
            lambda: clean_text(
                order_input.external_reference,
                field="external_reference",
                max_length=EXTERNAL_REFERENCE_MAX,
            )
        )
        notes = [
            problems.check(partial(clean_text, note, field="note", max_length=NOTE_MAX))
            for note in order_input.notes
        ]
        destination = shipping or billing
        # While the address is wrong (reported on its own), price as a domestic sale so that
        # problems with the lines are reported too; nothing is written either way.
        treatment = problems.check(
            lambda: _treatment(session, seller, channel.warehouse.country, order_input, destination)
        ) or treatment_of(seller, ship_from=seller.home_country, ship_to=seller.home_country)
        priced = problems.check(
            lambda: _priced_lines(session, order_input, currency, ordered_at, treatment)
        )
        charges = problems.check(
            lambda: _shipping_charges(
                order_input,
                currency,
                None if priced is None else [line for _, line in priced],
                treatment,
            )
        )
        problems.raise_if_any()
        assert billing is not None  # the checks above raised otherwise
        assert priced is not None
        assert charges is not None
        order = place_order(
            session,
            NewOrder(
                channel=channel,
                customer=_customer(session, order_input.customer, billing),
                billing=billing,
                shipping=shipping or billing,
                currency=currency,
                prices_include_tax=order_input.prices_include_tax,
                ordered_at=ordered_at,
                ship_by=ship_by,
                deliver_by=deliver_by,
                external_reference=reference,
                lines=[row for row, _ in priced],
                charges=charges,
                notes=[note for note in notes if note],
            ),
            actor=actor,
            at=now,
        )
        number = order.number
        uow.commit()
    return number


def _optional_utc(value: datetime | None, field_name: str) -> datetime | None:
    return None if value is None else ensure_utc(value, field=field_name)


def _billing_address(session: Session, customer: str | NewCustomer) -> Address:
    """The address a new or an existing customer is billed at, checked."""
    if isinstance(customer, str):
        return customer_by_number(session, customer).address.to_address()
    problems = Problems()
    address = problems.check(lambda: validated_address(customer.address))
    if customer.vat_id:
        problems.check(partial(check_vat_id, customer.vat_id))
    problems.raise_if_any()
    assert address is not None
    return address


def _customer(session: Session, customer: str | NewCustomer, address: Address) -> Customer:
    if isinstance(customer, str):
        return customer_by_number(session, customer)
    record = Customer(
        number=allocate_number(session, "customer", "default"),
        vat_id=check_vat_id(customer.vat_id) if customer.vat_id else None,
        address=AddressRecord.of(address),
    )
    session.add(record)
    return record


def _treatment(
    session: Session,
    seller: SellerTaxProfile,
    ship_from: str | None,
    order_input: ManualOrderInput,
    destination: Address | None,
) -> Treatment | None:
    """Whose VAT applies; None while the address is wrong (that is reported on its own)."""
    if destination is None:
        return None
    customer = order_input.customer
    vat_id = (
        customer_by_number(session, customer).vat_id
        if isinstance(customer, str)
        else customer.vat_id
    )
    return treatment_of(seller, ship_from=ship_from or seller.home_country,
                        ship_to=destination.country, buyer_vat_id=vat_id)  # fmt: skip


def _priced_lines(
    session: Session,
    order_input: ManualOrderInput,
    currency: str,
    ordered_at: datetime,
    treatment: Treatment,
) -> list[tuple[SalesOrderLine, PricedLine]]:
    """The order's lines as rows, with the amounts their charges are apportioned by."""
    problems = Problems()
    lines: list[tuple[SalesOrderLine, PricedLine]] = []
    for position, line_input in enumerate(order_input.lines, start=1):
        try:
            article = article_by_number(session, line_input.article_number)
            price = price_line(
                SaleLine(
                    quantity=line_input.quantity,
                    unit_price=line_input.unit_price,
                    tax_class=article.tax_class,
                    discount=line_input.discount,
                    tax_rate=line_input.tax_rate,
                ),
                treatment,
                day=ordered_at.date(),
                currency=currency,
                prices_include_tax=order_input.prices_include_tax,
            )
        except DomainError as problem:
            problems.found.append(
                InvalidInput(f"line {position}", problem.message, hint=problem.hint)
            )
            continue
        row = SalesOrderLine(
            position=position,
            article=article,
            article_number=article.number,
            description=article.name,
            quantity=line_input.quantity,
            unit_price_net=price.unit_net,
            unit_price_gross=price.unit_gross,
            tax_rate=price.rate,
            discount=price.discount,
            net=price.net,
            tax=price.tax,
            gross=price.gross,
        )
        lines.append((row, price))
    problems.raise_if_any()
    return lines


def _shipping_charges(
    order_input: ManualOrderInput,
    currency: str,
    lines: list[PricedLine] | None,
    treatment: Treatment,
) -> list[SalesOrderCharge]:
    """The shipping charge, one row per VAT rate it is split across (see ``price_charges``);
    none yet while the lines cannot be priced (their problems are reported instead)."""
    if not order_input.shipping:
        return []
    if order_input.shipping < 0:
        raise InvalidInput("shipping", f"{order_input.shipping} must not be negative")
    if lines is None:
        return []
    (shipping,) = price_charges(
        [SaleCharge(ChargeKind.SHIPPING, order_input.shipping)],
        lines,
        treatment,
        currency=currency,
        prices_include_tax=order_input.prices_include_tax,
    )
    return [
        SalesOrderCharge(
            kind=shipping.kind,
            description="Shipping",
            tax_rate=part.rate,
            net=part.net,
            tax=part.tax,
            gross=part.gross,
        )
        for part in shipping.parts
    ]


def cancel_order(uow: UnitOfWork, number: str, *, reason: str, actor: str) -> None:
    """Cancel an order that has not shipped and give its reserved stock back."""
    reason = required_text(
        reason, field="reason", max_length=NOTE_MAX, hint="Say why the order is cancelled."
    )
    with uow:
        cancel(uow.session, number, reason=reason, actor=actor, at=utcnow())
        uow.commit()


def cancel(session: Session, number: str, *, reason: str, actor: str, at: datetime) -> SalesOrder:
    """Cancel order ``number`` and release its stock, inside the caller's transaction."""
    order = stock.lock_order_with_stock(session, number)
    change_state(order, OrderState.CANCELLED, actor=actor, at=at, why=reason)
    stock.release_reservations(session, order, actor=actor, at=at)
    return order


def hold_order(
    uow: UnitOfWork, number: str, *, reason: str, actor: str, code: str = HOLD_MANUAL
) -> None:
    """Stop an order until someone resolves the hold; its stock stays reserved."""
    reason = required_text(
        reason, field="reason", max_length=NOTE_MAX, hint="Say why the order is held."
    )
    with uow:
        order = order_by_number(uow.session, number, for_update=True)
        add_hold(order, code, reason, actor=actor, at=utcnow())
        uow.commit()


def add_hold(order: SalesOrder, code: str, reason: str, *, actor: str, at: datetime) -> None:
    """Put ``order`` on hold for ``reason`` (the same open hold is not added twice)."""
    if any(hold.code == code and hold.message == reason for hold in order.open_holds):
        return
    if order.state != OrderState.ON_HOLD:
        change_state(order, OrderState.ON_HOLD, actor=actor, at=at)
    order.holds.append(OrderHold(code=code, message=reason, created_at=at, created_by=actor))
    record_event(order, "hold_added", f"On hold ({code}): {reason}", actor=actor, at=at)


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
        _check_resolvable(order, [hold.code for hold in to_resolve])
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


def _check_resolvable(order: SalesOrder, codes: list[str]) -> None:
    """Holds that only releasing the order may clear: it does what they need."""
    if HOLD_SHIPPED_ELSEWHERE in codes:
        raise DomainError(
            f"Order {order.number} was shipped outside sellerbridge; resolving the hold alone "
            "would send it to the warehouse again.",
            hint=f"Release it instead: `sellerbridge orders release {order.number}` marks it "
            "shipped.",
        )
    if HOLD_UNKNOWN_ARTICLE in codes and any(line.article_id is None for line in order.lines):
        skus = ", ".join(line.article_number for line in order.lines if line.article_id is None)
        raise DomainError(
            f"Order {order.number} still has lines without an article ({skus}).",
            hint="Map each with `sellerbridge skus map SKU ARTICLE` first.",
        )


def release_order(uow: UnitOfWork, number: str, *, actor: str, partial: bool = False) -> OrderState:
    """Let an order go on: resolve its holds, then release it to the warehouse.

    A held order's holds are resolved by the person releasing it — except that a line whose
    article is still unknown keeps it on hold until the SKU is mapped. An open order is
    released when all of its stock is reserved (``partial``: when some of it is, so that what is
    there can ship); an order its channel ships itself (FBA), or
    one held because it was shipped elsewhere, goes on to shipped (giving back what it had
    reserved). Returns the state the order ends in.
    """
    with uow:
        # With the stock rows locked, no receipt or count can change the reservations between
        # the check below and the commit.
        order = stock.lock_order_with_stock(uow.session, number)
        now = utcnow()
        held = order.state == OrderState.ON_HOLD
        shipped_elsewhere = any(h.code == HOLD_SHIPPED_ELSEWHERE for h in order.open_holds)
        if held:
            _lift_holds(order, actor=actor, at=now)
        missing = _missing_stock(order)
        if order.channel.fulfilled_externally or shipped_elsewhere:
            stock.release_reservations(uow.session, order, actor=actor, at=now)
            _shipped_without_warehouse(uow.session, order, actor=actor, at=now)
        elif not missing or (partial and any(stock.ready_units(line) for line in order.lines)):
            change_state(order, OrderState.RELEASED, actor=actor, at=now)
        elif not held:
            raise DomainError(
                f"Order {order.number} cannot be released: {'; '.join(missing)}.",
                hint="Receive the missing stock; the order gets it automatically.",
            )
        state = order.state
        uow.commit()
    return state


def _lift_holds(order: SalesOrder, *, actor: str, at: datetime) -> None:
    _check_resolvable(order, [HOLD_UNKNOWN_ARTICLE])
    for hold in order.open_holds:
        hold.resolved_at, hold.resolved_by = at, actor
        record_event(order, "hold_resolved", f"Hold resolved ({hold.code}).", actor=actor, at=at)
    change_state(order, OrderState.OPEN, actor=actor, at=at)


def _missing_stock(order: SalesOrder) -> list[str]:
    return [
        f"line {line.position} {reservation.article.number}: "
        f"{reservation.reserved} of {reservation.wanted} reserved"
        for line in order.lines
        for reservation in line.reservations
        if reservation.reserved < reservation.wanted
    ]
