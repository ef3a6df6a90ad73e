"""Writing Amazon orders into the ERP: create, update or pass over, inside one transaction.

:class:`OrderStore` applies a batch of orders (a page, or one order) in the caller's
transaction. Every order goes through its binding (account, marketplace, order id), locked, and
is changed only when Amazon's ``lastUpdatedTime`` is newer than the version applied.

Everything the batch needs is read and locked up front, in the order every use case takes its
locks — **number series rows** (customers, then orders), **stock rows** (by warehouse, then
article), then **orders** — so that a page never deadlocks with a manual order, a release or a
second import, and the ORM writes each table's new rows together.

A first import follows :mod:`.rules`. An order that cannot go on as it is gets a hold with the
reason an operator acts on: an unknown SKU, amounts or VAT that do not add up, an incomplete
address, a buyer's cancellation request, a partial shipment outside sellerbridge. Later versions
cancel the ERP order (before shipping) or raise an alert (after); other changes Amazon makes —
lines, amounts, the address after release — hold the order for a person to check. A hold Amazon
gives reason for is added once: an operator's decision is not undone by the next update.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload, selectinload

from sellerbridge.channels.amazon.orders.mapper import ImportedLine, ImportedOrder, map_order
from sellerbridge.channels.amazon.orders.rules import Decision, ImportRules, decide
from sellerbridge.channels.amazon.spapi.models.orders import Order
from sellerbridge.core.errors import DomainError, InvalidFields, InvalidInput
from sellerbridge.core.orders import (
    HOLD_ADDRESS_INCOMPLETE,
    HOLD_CANCEL_REQUEST,
    HOLD_CHANGED_BY_CHANNEL,
    HOLD_PARTLY_SHIPPED,
    HOLD_SHIPPED_ELSEWHERE,
    HOLD_TOTALS_MISMATCH,
    HOLD_UNKNOWN_ARTICLE,
    OrderState,
)
from sellerbridge.core.parties import FIELD_LENGTHS, Address, validated_address
from sellerbridge.db.models import (
    AddressRecord,
    AmazonChannel,
    AmazonCustomerBinding,
    AmazonMarketplace,
    AmazonOrderBinding,
    AmazonSkuBinding,
    Article,
    BundleComponent,
    Customer,
    Fulfillment,
    SalesChannel,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
    Severity,
    Warehouse,
)
from sellerbridge.db.numbering import allocate_numbers
from sellerbridge.services import orders as order_service
from sellerbridge.services import stock
from sellerbridge.services.alerts import raise_alert
from sellerbridge.services.events import record_event

SHIPPED_STATES = frozenset({OrderState.SHIPPED, OrderState.PARTIALLY_SHIPPED, OrderState.COMPLETED})
DONE_STATES = SHIPPED_STATES | {OrderState.CANCELLED}


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    WAITING = "waiting"
    SKIPPED = "skipped"
    FAILED = "failed"
    """Could not be stored; kept as a failure and tried again (see the importer)."""


class OrderStore:
    """Applies Amazon orders of one account inside the caller's transaction."""

    def __init__(self, session: Session, account_id: int, *, actor: str, now: datetime) -> None:
        self._session = session
        self._account_id = account_id
        self._actor = actor
        self._now = now
        # Bindings of the orders and customers created, written once they have their ids:
        # nothing reads them back in the same batch, so one statement each suffices.
        self._order_bindings: list[tuple[SalesOrder, dict[str, Any]]] = []
        self._customer_bindings: list[tuple[Customer, str]] = []

    def apply(self, orders: list[Order], rules: ImportRules) -> list[Outcome]:
        """Create, update or pass over each order; returns what happened to each."""
        session = self._session
        imported = [map_order(order) for order in orders]
        bindings = self._bindings(imported)
        outcomes: list[Outcome] = []
        updating: list[tuple[AmazonOrderBinding, ImportedOrder]] = []
        creating: list[tuple[ImportedOrder, Order]] = []
        for mapped, order in zip(imported, orders, strict=True):
            binding = bindings.get((mapped.marketplace_id, mapped.amazon_order_id))
            if binding is not None:
                if mapped.last_updated <= binding.last_updated_time:
                    outcomes.append(Outcome.UNCHANGED)
                else:
                    updating.append((binding, mapped))
                    outcomes.append(Outcome.UPDATED)
                continue
            verdict = decide(mapped, rules)
            if verdict.decision is Decision.IMPORT:
                creating.append((mapped, order))
                outcomes.append(Outcome.CREATED)
            else:
                outcomes.append(
                    Outcome.WAITING if verdict.decision is Decision.WAIT else Outcome.SKIPPED
                )
        lookups = self._lookups([mapped for mapped, _ in creating]) if creating else None
        self._lock_stock(lookups, [mapped for mapped, _ in creating], updating)
        for binding, mapped in updating:
            self._update(binding, mapped)
        for mapped, order in creating:
            assert lookups is not None
            self._create(mapped, order, rules, lookups)
        session.flush()
        self._write_bindings()
        return outcomes

    def _write_bindings(self) -> None:
        if self._order_bindings:
            self._session.execute(
                insert(AmazonOrderBinding),
                [{**values, "order_id": order.id} for order, values in self._order_bindings],
            )
        if self._customer_bindings:
            self._session.execute(
                insert(AmazonCustomerBinding),
                [
                    {"account_id": self._account_id, "buyer_key": key, "customer_id": customer.id}
                    for customer, key in self._customer_bindings
                ],
            )
        self._order_bindings.clear()
        self._customer_bindings.clear()

    # --- reading and locking up front --------------------------------------------------------

    def _bindings(self, imported: list[ImportedOrder]) -> dict[tuple[str, str], AmazonOrderBinding]:
        found = self._session.scalars(
            select(AmazonOrderBinding)
            .where(
                AmazonOrderBinding.account_id == self._account_id,
                AmazonOrderBinding.amazon_order_id.in_({o.amazon_order_id for o in imported}),
            )
            .with_for_update()
        )
        return {(b.marketplace_id, b.amazon_order_id): b for b in found}

    def _lookups(self, imported: list[ImportedOrder]) -> _Lookups:
        """Channels, articles, customers and numbers for the orders about to be created."""
        session = self._session
        channels = {
            (mapping.marketplace_id, mapping.fulfillment): mapping.channel
            for mapping in session.scalars(
                select(AmazonChannel)
                .where(AmazonChannel.account_id == self._account_id)
                .options(joinedload(AmazonChannel.channel).joinedload(SalesChannel.warehouse))
            )
        }
        skus = {line.seller_sku for order in imported for line in order.lines}
        with_parts = selectinload(Article.components).joinedload(BundleComponent.component)
        articles: dict[str, Article] = {
            binding.seller_sku: binding.article
            for binding in session.scalars(
                select(AmazonSkuBinding)
                .where(
                    AmazonSkuBinding.account_id == self._account_id,
                    AmazonSkuBinding.seller_sku.in_(skus),
                )
                .options(joinedload(AmazonSkuBinding.article).options(with_parts))
            )
        }
        for article in session.scalars(
            select(Article).where(Article.number.in_(skus - articles.keys())).options(with_parts)
        ):
            articles[article.number] = article
        keys = {_buyer_key(order) for order in imported}
        customers = {
            binding.buyer_key: binding.customer
            for binding in session.scalars(
                select(AmazonCustomerBinding)
                .where(
                    AmazonCustomerBinding.account_id == self._account_id,
                    AmazonCustomerBinding.buyer_key.in_(keys),
                )
                .options(joinedload(AmazonCustomerBinding.customer))
            )
        }
        # Number series before stock rows, customers before orders: as a manual order does.
        customer_numbers = iter(
            allocate_numbers(session, "customer", "default", len(keys - customers.keys()))
        )
        series = Counter(_channel(channels, order).order_series for order in imported)
        order_numbers = {
            name: iter(allocate_numbers(session, "sales_order", name, count))
            for name, count in sorted(series.items())
        }
        return _Lookups(channels, articles, customers, order_numbers, customer_numbers)

    def _lock_stock(
        self,
        lookups: _Lookups | None,
        creating: list[ImportedOrder],
        updating: list[tuple[AmazonOrderBinding, ImportedOrder]],
    ) -> None:
        """Lock every stock row the batch may touch, by warehouse and article."""
        needed: dict[Warehouse, list[Article]] = {}
        if lookups is not None:
            for order in creating:
                channel = _channel(lookups.channels, order)
                if not channel.fulfilled_externally:
                    needed.setdefault(channel.warehouse, []).extend(
                        lookups.articles[line.seller_sku]
                        for line in order.lines
                        if line.seller_sku in lookups.articles
                    )
        for binding, _ in updating:
            erp = binding.order
            needed.setdefault(erp.warehouse, []).extend(
                reservation.article for line in erp.lines for reservation in line.reservations
            )
        for warehouse in sorted(needed, key=lambda warehouse: warehouse.id):
            stock.lock_stock(self._session, needed[warehouse], warehouse)

    # --- a new order -------------------------------------------------------------------------

    def _create(
        self, imported: ImportedOrder, order: Order, rules: ImportRules, lookups: _Lookups
    ) -> None:
        session, now = self._session, self._now
        fulfillment = _fulfillment(imported)
        channel = _channel(lookups.channels, imported)
        lines = [
            _line(position, line, lookups.articles.get(line.seller_sku))
            for position, line in enumerate(imported.lines, start=1)
        ]
        shipped_outside = fulfillment is Fulfillment.FBM and imported.status == "SHIPPED"
        shipping = _storable(imported.delivery_address)
        billing = (
            replace(shipping, company=imported.buyer_company[: FIELD_LENGTHS["company"]])
            if imported.buyer_company and not shipping.company
            else shipping
        )
        erp_order = order_service.place_order(
            session,
            order_service.NewOrder(
                channel=channel,
                number=next(lookups.order_numbers[channel.order_series]),
                customer=self._customer(imported, billing, lookups),
                billing=billing,
                shipping=shipping,
                currency=imported.currency or self._marketplace_currency(imported),
                prices_include_tax=True,
                ordered_at=imported.created,
                ship_by=imported.ship_by,
                deliver_by=imported.deliver_by,
                service_level=imported.service_level[:30] if imported.service_level else None,
                external_reference=imported.amazon_order_id,
                lines=lines,
                charges=[
                    SalesOrderCharge(
                        kind=charge.kind,
                        description=charge.description,
                        tax_rate=charge.tax_rate,
                        net=charge.net,
                        tax=charge.tax,
                        gross=charge.gross,
                    )
                    for charge in imported.charges
                ],
                holds=_holds(imported, lines),
                notes=[_note(imported)],
                shipped_outside=shipped_outside,
            ),
            actor=self._actor,
            at=now,
        )
        self._order_bindings.append((
            erp_order,
            {
                "account_id": self._account_id,
                "marketplace_id": imported.marketplace_id,
                "amazon_order_id": imported.amazon_order_id,
                "amazon_status": imported.status,
                "fulfillment": fulfillment,
                "last_updated_time": imported.last_updated,
                "first_seen_at": now,
            },
        ))  # fmt: skip
        if shipped_outside and imported.created >= rules.taken_over:
            raise_alert(
                session,
                kind="shipped_outside",
                severity=Severity.WARNING,
                subject=erp_order.number,
                message=(
                    f"Amazon order {imported.amazon_order_id} (order {erp_order.number}) was "
                    "shipped outside sellerbridge; its stock was not booked out. Check the "
                    "stock of its articles."
                ),
                at=now,
            )

    def _marketplace_currency(self, imported: ImportedOrder) -> str:
        return self._session.scalars(
            select(AmazonMarketplace.currency).where(
                AmazonMarketplace.account_id == self._account_id,
                AmazonMarketplace.marketplace_id == imported.marketplace_id,
            )
        ).one()

    def _customer(self, imported: ImportedOrder, address: Address, lookups: _Lookups) -> Customer:
        """The buyer's customer record, found again by a hash of their (anonymised) e-mail."""
        key = _buyer_key(imported)
        vat_id = imported.buyer_vat_id[:20] if imported.buyer_vat_id else None
        customer = lookups.customers.get(key)
        if customer is None:
            customer = Customer(
                number=next(lookups.customer_numbers),
                vat_id=vat_id,
                address=AddressRecord.of(address),
            )
            self._session.add(customer)
            self._customer_bindings.append((customer, key))
            lookups.customers[key] = customer
        elif vat_id and not customer.vat_id:
            customer.vat_id = vat_id
        return customer

    # --- a changed order ---------------------------------------------------------------------

    def _update(self, binding: AmazonOrderBinding, imported: ImportedOrder) -> None:
        erp, now = binding.order, self._now
        shipped_elsewhere = any(h.code == HOLD_SHIPPED_ELSEWHERE for h in erp.open_holds)
        if imported.status == "CANCELLED":
            if erp.state in SHIPPED_STATES or shipped_elsewhere:
                raise_alert(
                    self._session,
                    kind="cancelled_after_shipping",
                    severity=Severity.ERROR,
                    subject=erp.number,
                    message=(
                        f"Amazon order {imported.amazon_order_id} was cancelled after order "
                        f"{erp.number} shipped. Stop the parcel if you can, and refund the buyer."
                    ),
                    at=now,
                )
            elif erp.state != OrderState.CANCELLED:
                order_service.cancel(self._session, erp.number, reason="Cancelled on Amazon.",
                                     actor=self._actor, at=now)  # fmt: skip
        elif erp.state not in DONE_STATES:
            change = _changed(erp, imported)
            if change:
                self._hold_once(erp, HOLD_CHANGED_BY_CHANNEL, change)
            self._refresh_delivery(erp, imported)
            if imported.cancel_requested:
                self._hold_once(erp, HOLD_CANCEL_REQUEST, _cancel_reason(imported))
            if binding.fulfillment is Fulfillment.FBM and imported.status == "SHIPPED":
                self._hold_once(erp, HOLD_SHIPPED_ELSEWHERE, _SHIPPED_ELSEWHERE)
            elif binding.fulfillment is Fulfillment.FBM and imported.status == "PARTIALLY_SHIPPED":
                self._hold_once(erp, HOLD_PARTLY_SHIPPED, _partly_shipped(imported))
        if imported.status != binding.amazon_status:
            record_event(erp, "amazon_status",
                         f"Amazon: {binding.amazon_status.lower()} → {imported.status.lower()}.",
                         actor=self._actor, at=now)  # fmt: skip
        binding.amazon_status = imported.status
        binding.last_updated_time = imported.last_updated

    def _hold_once(self, erp: SalesOrder, code: str, reason: str) -> None:
        """Hold the order for ``reason`` unless it was held for it before (and released)."""
        if not any(hold.code == code and hold.message == reason for hold in erp.holds):
            order_service.add_hold(erp, code, reason, actor=self._actor, at=self._now)

    def _refresh_delivery(self, erp: SalesOrder, imported: ImportedOrder) -> None:
        """Take over the dates and the address Amazon changed while the order is still here."""
        erp.ship_by = imported.ship_by or erp.ship_by
        erp.deliver_by = imported.deliver_by or erp.deliver_by
        if imported.delivery_address is None:
            return
        address = _storable(imported.delivery_address)
        if erp.shipping_address.to_address() == address:
            return
        record = AddressRecord.of(address)
        if erp.billing_address_id == erp.shipping_address_id:
            erp.billing_address = record  # billed where it ships: the invoice follows too
        erp.shipping_address = record
        record_event(erp, "address_changed", "Amazon changed the delivery address.",
                     actor=self._actor, at=self._now)  # fmt: skip
        if erp.state == OrderState.RELEASED:
            self._hold_once(erp, HOLD_CHANGED_BY_CHANNEL, _ADDRESS_AFTER_RELEASE)


@dataclass
class _Lookups:
    """What the orders of a batch need, read in a few queries instead of a few per order."""

    channels: dict[tuple[str, Fulfillment], SalesChannel]
    articles: dict[str, Article]
    """By seller SKU: through the account's SKU bindings, else the article of that number."""
    customers: dict[str, Customer]
    """By buyer key; customers created for the batch are added."""
    order_numbers: dict[str, Iterator[str]]
    """Allocated numbers by number series."""
    customer_numbers: Iterator[str]


_SHIPPED_ELSEWHERE = (
    "Amazon reports this order shipped, but sellerbridge did not ship it. If it left your "
    "warehouse, book its stock out (`sellerbridge stock adjust`); releasing the order then "
    "marks it shipped and gives back its reservation."
)
_ADDRESS_AFTER_RELEASE = (
    "Amazon changed the delivery address after the order was released to the warehouse. "
    "Check the parcel's label, then release the order again."
)


def _channel(
    channels: dict[tuple[str, Fulfillment], SalesChannel], imported: ImportedOrder
) -> SalesChannel:
    fulfillment = _fulfillment(imported)
    channel = channels.get((imported.marketplace_id, fulfillment))
    if channel is None:  # every marketplace of an account gets both channels when it is added
        raise DomainError(
            f"The account has no ERP channel for {fulfillment.value} orders of marketplace "
            f"{imported.marketplace_id}; its setup is incomplete."
        )
    return channel


def _fulfillment(imported: ImportedOrder) -> Fulfillment:
    return Fulfillment.FBM if imported.fulfilled_by == "MERCHANT" else Fulfillment.FBA


def _line(position: int, line: ImportedLine, article: Article | None) -> SalesOrderLine:
    unit_net = (line.unit_price * 100 / (100 + line.tax_rate)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )
    return SalesOrderLine(
        position=position,
        article=article,
        article_number=line.seller_sku[:40],
        description=line.title[:255],
        external_reference=line.order_item_id,
        quantity=line.quantity,
        unit_price_net=unit_net,
        unit_price_gross=line.unit_price,
        tax_rate=line.tax_rate,
        discount=line.discount,
        net=line.net,
        tax=line.tax,
        gross=line.gross,
    )


def _holds(imported: ImportedOrder, lines: list[SalesOrderLine]) -> list[tuple[str, str]]:
    holds: list[tuple[str, str]] = []
    unknown = sorted({line.article_number for line in lines if line.article is None})
    if unknown:
        holds.append((
            HOLD_UNKNOWN_ARTICLE,
            f"No article is known for SKU {', '.join(unknown)}. Map it with "
            "`sellerbridge skus map SKU ARTICLE`, then release the order.",
        ))  # fmt: skip
    currency = imported.currency
    if imported.problems:
        holds.append((
            HOLD_TOTALS_MISMATCH,
            f"{' '.join(imported.problems)} Check the order in Seller Central before "
            "invoicing it.",
        ))  # fmt: skip
    elif imported.grand_total is None:
        holds.append((
            HOLD_TOTALS_MISMATCH,
            f"Amazon sent no order total; the lines and charges add up to {imported.total} "
            f"{currency}. Check the order in Seller Central before invoicing it.",
        ))  # fmt: skip
    elif imported.total != imported.grand_total:
        holds.append((
            HOLD_TOTALS_MISMATCH,
            f"The lines and charges add up to {imported.total} {currency}, but Amazon charged "
            f"{imported.grand_total} {currency}. Check the order in Seller Central before "
            "invoicing it.",
        ))  # fmt: skip
    problem = _address_problem(imported.delivery_address)
    if problem:
        holds.append((HOLD_ADDRESS_INCOMPLETE, problem))
    if imported.cancel_requested:
        holds.append((HOLD_CANCEL_REQUEST, _cancel_reason(imported)))
    if imported.fulfilled_by == "MERCHANT" and imported.status == "PARTIALLY_SHIPPED":
        holds.append((HOLD_PARTLY_SHIPPED, _partly_shipped(imported)))
    return holds


def _changed(erp: SalesOrder, imported: ImportedOrder) -> str | None:
    """What Amazon changed in the lines or the total since the order was imported, if any."""
    if imported.grand_total is None:  # a version without amounts changes none
        return None
    before = {line.external_reference or "": line.quantity for line in erp.lines}
    after = {line.order_item_id: line.quantity for line in imported.lines}
    skus = {line.external_reference or "": line.article_number for line in erp.lines} | {
        line.order_item_id: line.seller_sku for line in imported.lines
    }
    differences: list[str] = [
        f"{skus[item]} × {before.get(item, 0)} → × {after.get(item, 0)}"
        for item in sorted(before.keys() | after.keys())
        if before.get(item) != after.get(item)
    ]
    if imported.grand_total != erp.total_gross:
        differences.append(f"total {erp.total_gross} → {imported.grand_total} {imported.currency}")
    if not differences:
        return None
    return (
        f"Amazon changed the order after it was imported ({'; '.join(differences)}). Check it "
        "in Seller Central; cancel it here if it no longer stands, or release it as it is."
    )


def _partly_shipped(imported: ImportedOrder) -> str:
    shipped = sum(line.quantity_shipped for line in imported.lines)
    ordered = sum(line.quantity for line in imported.lines)
    return (
        f"Amazon reports {shipped} of {ordered} unit(s) of this order shipped outside "
        "sellerbridge. Book those out (`sellerbridge stock adjust`) and ship only the rest."
    )


def _address_problem(address: Address | None) -> str | None:
    if address is None:
        return "Amazon sent no delivery address. Add it before shipping or invoicing the order."
    try:
        validated_address(address)
    except (InvalidFields, InvalidInput) as error:
        found = error.problems if isinstance(error, InvalidFields) else [error]
        problems = "; ".join(
            f"{p.field.replace('_', ' ')} {p.message.removeprefix(p.field + ': ')}" for p in found
        )
        return (
            f"The delivery address is incomplete: {problems}. Check it in Seller Central "
            "(Amazon sends a corrected address with the order's next update), then release "
            "the order."
        )
    return None


def _storable(address: Address | None) -> Address:
    """The address as it can be stored, even incomplete: every field cut to its column."""
    if address is None:
        return Address(name="", street1="", postal_code="", city="", country="")
    values: dict[str, Any] = {
        name: value[: FIELD_LENGTHS[name]]
        for name, value in vars(address).items()
        if name in FIELD_LENGTHS and isinstance(value, str)
    }
    values["country"] = (address.country or "")[:2].upper()
    return replace(address, **values)


def _cancel_reason(imported: ImportedOrder) -> str:
    reasons = sorted({line.cancel_reason for line in imported.lines if line.cancel_reason})
    why = f" ({'; '.join(reasons)})" if reasons else ""
    return f"The buyer asked to cancel{why}. Cancel the order, or ship it if it has left already."


def _note(imported: ImportedOrder) -> str:
    flags = [
        label
        for label, present in (
            ("Prime", imported.is_prime),
            ("Amazon Business", imported.is_business),
        )
        if present
    ]
    parts = [
        f"Amazon order {imported.amazon_order_id}" + (f" ({', '.join(flags)})." if flags else ".")
    ]
    if imported.service_level:
        parts.append(f"Shipping service level: {imported.service_level.lower()}.")
    if imported.purchase_order_number:
        parts.append(f"Buyer's purchase order: {imported.purchase_order_number}.")
    parts.extend(
        f"Gift message for {line.seller_sku}: “{line.gift_message}”"
        for line in imported.lines
        if line.gift_message
    )
    return " ".join(parts)


def _buyer_key(imported: ImportedOrder) -> str:
    """A stable key for the buyer that does not store who they are: a hash of the
    (anonymised) e-mail address Amazon gives per buyer. Without one, nothing identifies the
    buyer safely, and the order gets a customer of its own."""
    identity = (
        f"email:{imported.buyer_email.strip().lower()}"
        if imported.buyer_email
        else f"order:{imported.marketplace_id}:{imported.amazon_order_id}"
    )
    return hashlib.sha256(identity.encode()).hexdigest()
