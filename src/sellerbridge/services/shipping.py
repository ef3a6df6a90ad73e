"""Shipping an order: packages leave the warehouse, the stock is booked out, Amazon is told.

:func:`ship` writes one :class:`~sellerbridge.db.models.Shipment` per package with the order
lines and quantities in it, books those units out of the warehouse (using the order's
reservations), moves the order to partially shipped or shipped, and — for an Amazon order the
merchant fulfils (FBM) — writes a pending shipment confirmation per package, all in the
caller's transaction: a package is never shipped without its confirmation queued, nor queued
without having shipped. The confirmation exporter (``channels/amazon/shipments``) sends it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerbridge.core.errors import DomainError, InvalidInput
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    AmazonOrderBinding,
    ConfirmationStatus,
    Fulfillment,
    SalesOrder,
    Shipment,
    ShipmentConfirmation,
    ShipmentLine,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock
from sellerbridge.services.alerts import resolve_alerts
from sellerbridge.services.events import change_state, record_event

LATE_ALERT = "ship_by_missed"
"""Raised by the dispatch for an order past its ship-by date; shipping it resolves it."""
CARRIER_MAX = 60
TRACKING_MAX = 100
METHOD_MAX = 100


@dataclass(frozen=True)
class Label:
    """A bought shipping label: the file and the carrier's reference for the shipment."""

    content: bytes
    format: str  # PDF, PNG, ZPL
    reference: str | None = None
    confirms_shipment: bool = False
    """Buying it told the marketplace already (Amazon Buy Shipping): the confirmation is only
    verified, never sent a second time."""


@dataclass(frozen=True)
class Package:
    """One parcel: who carries it, its tracking number, and what is in it."""

    carrier: str
    tracking_number: str | None
    shipping_method: str | None = None
    lines: Mapping[int, int] | None = None  # order line position → units; None: all still open
    label: Label | None = None


def ship(
    session: Session,
    order_number: str,
    packages: Sequence[Package],
    *,
    actor: str,
    at: datetime,
    methods: Mapping[str, str] | None = None,
) -> list[Shipment]:
    """Ship ``packages`` of a released order; return the shipments written. A package without
    a shipping method takes the one ``methods`` maps the order's service level to (Amazon's
    ``STANDARD``, ``NEXT_DAY``, ...: the buyer's choice at checkout)."""
    if not packages:
        raise InvalidInput("packages", "name at least one package")
    order = stock.lock_order_with_stock(session, order_number)
    _check_shippable(order)
    left = {line.position: line.quantity - line.shipped_quantity for line in order.lines}
    by_position = {line.position: line for line in order.lines}
    shipments: list[Shipment] = []
    for index, package in enumerate(packages, start=1):
        contents = _contents(order, package, left, index)
        shipment = Shipment(
            order=order,
            carrier=_carrier(package.carrier),
            shipping_method=_text(
                package.shipping_method or (methods or {}).get(order.service_level or ""),
                "shipping method",
                METHOD_MAX,
            ),
            tracking_number=_text(package.tracking_number, "tracking number", TRACKING_MAX),
            shipped_at=at,
            created_by=actor,
            label=package.label.content if package.label else None,
            label_format=package.label.format if package.label else None,
            label_reference=package.label.reference if package.label else None,
        )
        for position, quantity in contents.items():
            line = by_position[position]
            stock.ship_line(session, line, quantity, actor=actor, reference=order.number, at=at)
            shipment.lines.append(ShipmentLine(order_line=line, quantity=quantity))
            left[position] -= quantity
        session.add(shipment)
        shipments.append(shipment)
    session.flush()  # the shipment ids are the packages' reference numbers at Amazon
    for shipment in shipments:
        units = sum(line.quantity for line in shipment.lines)
        tracking = f", tracking {shipment.tracking_number}" if shipment.tracking_number else ""
        record_event(order, "shipped", f"Package {shipment.id} ({units} unit(s)) handed to "
                     f"{shipment.carrier}{tracking}.", actor=actor, at=at)  # fmt: skip
    target = OrderState.SHIPPED if not any(left.values()) else OrderState.PARTIALLY_SHIPPED
    if order.state is not target:
        change_state(order, target, actor=actor, at=at)
    _queue_confirmations(session, order, shipments, packages, at=at)
    resolve_alerts(session, kind=LATE_ALERT, subject=order.number, at=at)
    return shipments


def ship_order(
    uow: UnitOfWork,
    order_number: str,
    packages: Sequence[Package],
    *,
    actor: str,
    at: datetime,
    methods: Mapping[str, str] | None = None,
) -> list[int]:
    """:func:`ship` in a transaction of its own; returns the shipment ids."""
    with uow:
        shipments = ship(uow.session, order_number, packages, actor=actor, at=at, methods=methods)
        ids = [shipment.id for shipment in shipments]
        uow.commit()
    return ids


def _check_shippable(order: SalesOrder) -> None:
    if order.channel.fulfilled_externally:
        raise DomainError(f"Order {order.number} is shipped by its channel (FBA), not by you.")
    if order.state not in (OrderState.RELEASED, OrderState.PARTIALLY_SHIPPED):
        raise DomainError(
            f"Order {order.number} is {order.state.label}; only a released order ships.",
            hint="Release it first: `sellerbridge orders release`."
            if order.state in (OrderState.OPEN, OrderState.ON_HOLD)
            else None,
        )


def _contents(
    order: SalesOrder, package: Package, left: Mapping[int, int], index: int
) -> dict[int, int]:
    """What goes into a package: its lines, or everything still open."""
    wanted = (
        dict(package.lines)
        if package.lines is not None
        else {position: units for position, units in left.items() if units}
    )
    field = f"package {index}"
    if not wanted or not any(wanted.values()):
        raise InvalidInput(field, f"has nothing in it; order {order.number} has nothing open")
    for position, quantity in wanted.items():
        if position not in left:
            raise InvalidInput(field, f"order {order.number} has no line {position}")
        if not 0 < quantity <= left[position]:
            raise InvalidInput(
                field,
                f"line {position} has {left[position]} unit(s) left to ship, not {quantity}",
            )
    return wanted


def _carrier(name: str) -> str:
    carrier = _text(name, "carrier", CARRIER_MAX)
    if carrier is None:
        raise InvalidInput("carrier", "is empty", hint="Name the carrier, e.g. --carrier DHL.")
    return carrier


def _text(value: str | None, name: str, limit: int) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > limit:
        raise InvalidInput(name, f"is longer than {limit} characters")
    return cleaned or None


def _queue_confirmations(
    session: Session,
    order: SalesOrder,
    shipments: Sequence[Shipment],
    packages: Sequence[Package],
    *,
    at: datetime,
) -> None:
    """Queue Amazon's shipment confirmation of each package of a merchant-fulfilled order; one
    whose label Amazon sold is confirmed already and only waits to be verified."""
    binding = session.scalars(
        select(AmazonOrderBinding).where(AmazonOrderBinding.order_id == order.id)
    ).first()
    if binding is None or binding.fulfillment is not Fulfillment.FBM:
        return
    for shipment, package in zip(shipments, packages, strict=True):
        confirmed = package.label is not None and package.label.confirms_shipment
        session.add(
            ShipmentConfirmation(
                shipment=shipment,
                account_id=binding.account_id,
                marketplace_id=binding.marketplace_id,
                amazon_order_id=binding.amazon_order_id,
                status=ConfirmationStatus.SENT if confirmed else ConfirmationStatus.PENDING,
                attempts=0,
                next_attempt_at=at,
                created_at=at,
                sent_at=at if confirmed else None,
            )
        )
