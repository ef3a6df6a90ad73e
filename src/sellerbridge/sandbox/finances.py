"""Finances API v0 (``listFinancialEventsByOrderId``, ``listFinancialEvents``) and refunds.

A refund is the seller giving a buyer money back for units Amazon has shipped: Amazon posts it
as a financial event, lists it in the VAT invoice data report (VIDR, see :mod:`.reports`) as a
``REFUND`` transaction with its own ``amzn1:crow:…`` transaction id, and a self-invoicing seller
uploads a credit note for that transaction id (:mod:`.vat_invoices`). The sandbox's refunds are
made with the admin route ``POST /_sandbox/orders/{orderId}/refunds``::

    {"items": [{"orderItemId": "…", "quantity": 1, "amount": "50.00"}],
     "shipping": false, "postedAt": "2026-11-27T10:00:00Z"}

``quantity`` units of the item are refunded (default 0); ``amount``, when given, is the
VAT-inclusive principal to refund instead of the units' share of the item price (a partial
refund, with ``quantity`` 0 an amount-only one); ``shipping`` true refunds the shipping share of
the refunded units too; ``postedAt`` defaults to now. Refused with 400: an order not yet
dispatched, an item listed twice or not of the order, an item none of whose units shipped, more
units than were shipped and not yet refunded, an amount above the item price not yet refunded,
an item with neither units nor an amount, a ``postedAt`` in the future (an earlier one, even
before the shipment, is taken as it is, so a test can place a refund in a past window). The
route answers the refund with its amounts, positive: what the buyer gets back;
``GET /_sandbox/refunds[?seller_id=…&order_id=…]`` lists refunds.

Amounts follow the Orders API's European convention (:mod:`.order_records`): a VAT-inclusive
price and the VAT it contains. A refunded item gets its units' share of the item price, its
promotion discount and, with ``shipping``, of its shipping price and shipping discount, each
with its VAT. A share is split as :func:`.vat_invoices._line` splits shipments: the rounded
running share minus the rounded share before, so refunding every unit one by one gives back
exactly the item's amounts. An ``amount`` replaces the item price share and takes no promotion
share; its VAT is the running share of the item's VAT by principal. Each refund gets a
transaction id, ``amzn1:crow:`` and 22 characters of base64 as in Amazon's VAT reports
(``amzn1:crow:A0f6kWaFSV6ymAlMHe4VJw`` in Seller Central's VAT report help page), derived from
the seed and the sandbox's sequence, and each refunded item a numeric ``OrderAdjustmentItemId``.
The refunds live in the reports' state beside the invoice uploads, whose checks they take part
in.

The Finances API, as Amazon's model documents it:

- ``listFinancialEventsByOrderId``: the events of an order; ``orderId`` in 3-7-7 format, else
  400 ``InvalidInput`` "Bad order ID provided." (the model's sandbox example);
- ``listFinancialEvents``: the events posted in [``PostedAfter``, ``PostedBefore``); both must
  be more than two minutes before the request (passing ``time_scale`` times faster, as every
  delay of the sandbox), ``PostedBefore`` later than ``PostedAfter`` and only with it, by
  default two minutes before the request; more than 180 days apart the answer is empty;
- ``MaxResultsPerPage`` 1–100 (default 100), ``NextToken`` continues with the same arguments
  (``PostedAfter``/``PostedBefore`` may be repeated or left out; others are refused); the
  usage plan is 0.5 requests per second, burst 30;
- ``payload.FinancialEvents`` with ``ShipmentEventList`` (one ``ShipmentEvent`` per dispatched
  shipment, posted when it shipped: ``ShipmentItemList`` with ``ItemChargeList``) and
  ``RefundEventList`` (one ``ShipmentEvent`` per refund: ``ShipmentItemAdjustmentList`` with
  ``OrderAdjustmentItemId``, ``QuantityShipped`` the refunded units and
  ``ItemChargeAdjustmentList``); money as ``{"CurrencyCode", "CurrencyAmount"}`` numbers.

Chosen where Amazon's behaviour is unverified:

- the charges of a shipment are ``Principal``, ``Tax``, ``GiftWrap``, ``GiftWrapTax``,
  ``ShippingCharge`` and ``ShippingTax`` (positive), of a refund ``Principal``, ``Tax``,
  ``ShippingCharge`` and ``ShippingTax`` (negative, zero ones included). They state amounts as
  the Orders API does for Europe: ``Principal``, ``GiftWrap`` and ``ShippingCharge``
  VAT-inclusive, each ``*Tax`` the VAT they contain (not to be added again). Caution: an
  Amazon.de response kept as a test fixture by a public MWS client (a VCS seller, 2019) shows
  ``Principal`` VAT-exclusive instead (12.06 with ``Tax`` 2.29 at 19 %, the two adding up to the
  price), with promotions split into a VAT-exclusive and a VAT entry; check with a real
  account before relying on either. Each promotion is one entry of type
  ``PromotionMetaDataDefinitionValue`` with its VAT-inclusive amount, in ``PromotionList``
  (negative) and ``PromotionAdjustmentList`` (positive); the VAT of a promotion is not stated
  (the VIDR has it). No fees, no withheld taxes (UK marketplace-facilitator VAT is shown as
  ``Tax`` like any other);
- every event is there at once (Amazon: "orders from the last 48 hours might not be included");
  an order id of the right format that is not the seller's gives empty lists; the page size
  counts events, shipments and refunds together, in the order they were posted;
- ``listFinancialEvents`` without ``PostedAfter`` and ``NextToken`` is refused (MWS required
  it; the SP-API model only marks it optional);
- gift wrap is never refunded; a refund does not change the order.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from starlette.requests import Request

from sellerbridge.sandbox.admin import json_body
from sellerbridge.sandbox.errors import invalid_input, not_found
from sellerbridge.sandbox.framework import (
    Api,
    Call,
    Reply,
    decode_token,
    encode_token,
    iso,
    parse_time,
)
from sellerbridge.sandbox.marketplaces import BY_ID
from sellerbridge.sandbox.order_records import ZERO, Order, OrderItem, cents
from sellerbridge.sandbox.vat_invoices import Shipment, order_shipments, seller_orders

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox

api = Api()

TRANSACTION_PREFIX = "amzn1:crow:"
PROMOTION_TYPE = "PromotionMetaDataDefinitionValue"
POSTING_DELAY_SECONDS = 120.0
"""Events are asked for up to two minutes before the request (Amazon's rule)."""
MAX_RANGE = timedelta(days=180)
MAX_PAGE_SIZE = 100
_ORDER_ID = re.compile(r"\d{3}-\d{7}-\d{7}")


class RefundLine(BaseModel):
    """What one refunded item gives back: positive, VAT-inclusive amounts with their VAT."""

    order_item_id: str
    order_adjustment_item_id: str
    seller_sku: str
    quantity: int
    """Units refunded; 0 for an amount-only refund."""
    shipment_id: str
    """The shipment that carried the item's units (the first one with the item)."""
    by_amount: bool = False
    """The item price part was given as an amount, not taken as the units' share."""
    with_shipping: bool = False
    item_price: Decimal
    item_tax: Decimal
    promotion_discount: Decimal = ZERO
    promotion_discount_tax: Decimal = ZERO
    shipping_price: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    shipping_discount_tax: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return (
            self.item_price + self.shipping_price - self.promotion_discount - self.shipping_discount
        )

    @property
    def total_tax(self) -> Decimal:
        return (
            self.item_tax
            + self.shipping_tax
            - self.promotion_discount_tax
            - self.shipping_discount_tax
        )


class Refund(BaseModel):
    """A refund of some of an order's shipped items: one ``REFUND`` transaction."""

    transaction_id: str
    number: int
    """The sandbox's sequence number the ids derive from: refunds posted in the same second
    keep the order they were made in."""
    seller_id: str
    order_id: str
    marketplace_id: str
    currency: str
    posted_at: datetime
    lines: list[RefundLine]

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    @property
    def total_tax(self) -> Decimal:
        return sum((line.total_tax for line in self.lines), ZERO)

    @property
    def shipment_ids(self) -> list[str]:
        """The shipments whose units were refunded, without repeats."""
        return list(dict.fromkeys(line.shipment_id for line in self.lines))


def order_refunds(sandbox: Sandbox, order_id: str) -> list[Refund]:
    return sandbox.state.reports.refunds.get(order_id, [])


def transaction_id(seed: int, number: int) -> str:
    """``amzn1:crow:`` and 16 bytes in base64 without padding, derived from seed and number."""
    digest = hashlib.blake2b(f"{seed}:refund:{number}".encode(), digest_size=16).digest()
    return TRANSACTION_PREFIX + base64.b64encode(digest).decode().rstrip("=")


def adjustment_item_id(seed: int, number: int, index: int) -> str:
    """A 13-digit ``OrderAdjustmentItemId``, derived from seed, refund number and item."""
    digest = hashlib.blake2b(f"{seed}:adjustment:{number}:{index}".encode(), digest_size=8)
    return str(10**12 + int.from_bytes(digest.digest()) % (9 * 10**12))


# --- making a refund ---------------------------------------------------------------------------


class _Request(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class RefundItemRequest(_Request):
    order_item_id: str
    quantity: int = Field(default=0, ge=0)
    amount: Decimal | None = Field(default=None, gt=0, allow_inf_nan=False)


class RefundRequest(_Request):
    items: list[RefundItemRequest] = Field(min_length=1)
    shipping: bool = False
    posted_at: str | None = None


def _share(amount: Decimal, done: Decimal, more: Decimal, whole: Decimal) -> Decimal:
    """The part of ``amount`` for ``more`` out of ``whole`` after ``done``: running shares."""
    if not whole:
        return ZERO
    return cents(amount * (done + more) / whole) - cents(amount * done / whole)


def _first_shipment(shipments: list[Shipment], order_item_id: str) -> str | None:
    return next(
        (
            shipment.shipment_id
            for shipment in shipments
            if any(line.order_item_id == order_item_id and line.quantity for line in shipment.lines)
        ),
        None,
    )


def _refund_line(
    item: OrderItem,
    wanted: RefundItemRequest,
    shipping: bool,
    earlier: list[RefundLine],
    shipment_id: str,
    currency: str,
) -> RefundLine:
    """The amounts refunded for ``wanted`` after the item's ``earlier`` refunds, or 400."""
    units_before = sum(line.quantity for line in earlier)
    principal_before = sum((line.item_price for line in earlier), ZERO)
    promoted_before = sum(line.quantity for line in earlier if not line.by_amount)
    shipped_before = sum(line.quantity for line in earlier if line.with_shipping)
    name = f"Item {item.order_item_id}"
    if wanted.quantity == 0 and wanted.amount is None:
        raise invalid_input(f"{name}: give the units to refund (quantity) or an amount.")
    left = item.quantity_shipped - units_before
    if wanted.quantity > left:
        raise invalid_input(
            f"{name}: {wanted.quantity} unit(s) cannot be refunded; {item.quantity_shipped} "
            f"shipped and {units_before} refunded already leave {left}."
        )
    if wanted.amount is not None and cents(wanted.amount) != wanted.amount:
        raise invalid_input(f"{name}: the amount {wanted.amount} has more than two decimals.")
    principal = (
        cents(wanted.amount) if wanted.amount is not None else item.unit_price * wanted.quantity
    )
    remaining = item.item_price - principal_before
    if principal > remaining:
        raise invalid_input(
            f"{name}: {principal} {currency} exceeds the {remaining} {currency} of its price "
            "not refunded yet."
        )
    promoted = Decimal(0 if wanted.amount is not None else wanted.quantity)
    shipped = Decimal(wanted.quantity if shipping else 0)
    units = Decimal(item.quantity)

    def by_units(amount: Decimal, done: int, more: Decimal) -> Decimal:
        return _share(amount, Decimal(done), more, units)

    return RefundLine(
        order_item_id=item.order_item_id,
        order_adjustment_item_id="",  # given once the whole refund is valid
        seller_sku=item.seller_sku,
        quantity=wanted.quantity,
        shipment_id=shipment_id,
        by_amount=wanted.amount is not None,
        with_shipping=shipping and wanted.quantity > 0,
        item_price=principal,
        item_tax=_share(item.item_tax, principal_before, principal, item.item_price),
        promotion_discount=by_units(item.promotion_discount, promoted_before, promoted),
        promotion_discount_tax=by_units(item.promotion_discount_tax, promoted_before, promoted),
        shipping_price=by_units(item.shipping_price, shipped_before, shipped),
        shipping_tax=by_units(item.shipping_tax, shipped_before, shipped),
        shipping_discount=by_units(item.shipping_discount, shipped_before, shipped),
        shipping_discount_tax=by_units(item.shipping_discount_tax, shipped_before, shipped),
    )


def _posted_at(wanted: RefundRequest, now: datetime) -> datetime:
    """When the refund is posted: now, or any earlier time a test wants (even before the
    shipment, so that a refund can be placed in a window that is old enough to be read)."""
    if wanted.posted_at is None:
        return now.replace(microsecond=0)
    posted = parse_time(wanted.posted_at, "postedAt")
    if posted > now:
        raise invalid_input(f"postedAt {iso(posted)} lies in the future.")
    return posted


def refund(sandbox: Sandbox, order: Order, wanted: RefundRequest, now: datetime) -> Refund:
    """Refund what ``wanted`` asks for, or 400 with the reason; the refund is stored."""
    shipments = order_shipments(order)
    if not shipments:
        raise invalid_input(
            f"Order {order.order_id} has not been dispatched: only shipped units can be refunded."
        )
    posted_at = _posted_at(wanted, now)
    listed = [entry.order_item_id for entry in wanted.items]
    twice = sorted({item_id for item_id in listed if listed.count(item_id) > 1})
    if twice:
        raise invalid_input(f"Items listed twice: {', '.join(twice)}.")
    earlier = [line for known in order_refunds(sandbox, order.order_id) for line in known.lines]
    lines = []
    for entry in wanted.items:
        item = order.item(entry.order_item_id)
        if item is None:
            raise invalid_input(f"{entry.order_item_id} is not an item of order {order.order_id}.")
        shipment_id = _first_shipment(shipments, item.order_item_id)
        if shipment_id is None:
            raise invalid_input(f"Item {item.order_item_id} has not been shipped yet.")
        lines.append(
            _refund_line(
                item,
                entry,
                wanted.shipping,
                [line for line in earlier if line.order_item_id == item.order_item_id],
                shipment_id,
                order.currency,
            )
        )
    number = sandbox.next_number()  # drawn only for a refund that is made
    seed = sandbox.config.seed
    made = Refund(
        transaction_id=transaction_id(seed, number),
        number=number,
        seller_id=order.seller_id,
        order_id=order.order_id,
        marketplace_id=order.marketplace_id,
        currency=order.currency,
        posted_at=posted_at,
        lines=[
            line.model_copy(
                update={"order_adjustment_item_id": adjustment_item_id(seed, number, i)}
            )
            for i, line in enumerate(lines)
        ],
    )
    sandbox.state.reports.refunds.setdefault(order.order_id, []).append(made)
    return made


def refund_view(made: Refund) -> dict[str, Any]:
    """A refund as the admin API shows it: what the buyer gets back, amounts as strings."""

    def amounts(line: RefundLine) -> dict[str, str]:
        names = (
            "item_price", "item_tax", "promotion_discount", "promotion_discount_tax",
            "shipping_price", "shipping_tax", "shipping_discount", "shipping_discount_tax",
        )  # fmt: skip
        return {to_camel(name): str(getattr(line, name)) for name in names}

    return {
        "transactionId": made.transaction_id,
        "orderId": made.order_id,
        "sellerId": made.seller_id,
        "marketplaceId": made.marketplace_id,
        "currency": made.currency,
        "postedDate": iso(made.posted_at),
        "items": [
            {
                "orderItemId": line.order_item_id,
                "orderAdjustmentItemId": line.order_adjustment_item_id,
                "sellerSku": line.seller_sku,
                "quantity": line.quantity,
                "shippingId": line.shipment_id,
                **amounts(line),
                "total": str(line.total),
                "totalVat": str(line.total_tax),
            }
            for line in made.lines
        ],
        "total": str(made.total),
        "totalVat": str(made.total_tax),
    }


@api.admin("POST", "/_sandbox/orders/{order_id}/refunds")
async def create_refund(sandbox: Sandbox, request: Request) -> Any:
    """Refund shipped units or amounts of an order (see the module docstring)."""
    order = sandbox.state.orders.orders.get(request.path_params["order_id"])
    if order is None:
        raise not_found(f"Order {request.path_params['order_id']} was not found.")
    try:
        wanted = RefundRequest.model_validate(await json_body(request))
    except ValidationError as error:
        raise invalid_input("Invalid refund.", str(error)) from None
    return refund_view(refund(sandbox, order, wanted, sandbox.now()))


@api.admin("GET", "/_sandbox/refunds")
def list_refunds(sandbox: Sandbox, request: Request) -> Any:
    """Every refund, oldest first; ``?seller_id=…`` and ``?order_id=…`` filter."""
    wanted = request.query_params
    every = [r for refunds in sandbox.state.reports.refunds.values() for r in refunds]
    return [
        refund_view(made)
        for made in sorted(every, key=lambda made: (made.posted_at, made.number))
        if wanted.get("seller_id", made.seller_id) == made.seller_id
        and wanted.get("order_id", made.order_id) == made.order_id
    ]


# --- financial events ----------------------------------------------------------------------


def _money(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"CurrencyCode": currency, "CurrencyAmount": float(amount) if amount else 0.0}


def _charges(currency: str, sign: int, *charges: tuple[str, Decimal]) -> list[dict[str, Any]]:
    return [
        {"ChargeType": charge_type, "ChargeAmount": _money(sign * amount, currency)}
        for charge_type, amount in charges
    ]


def _promotions(currency: str, sign: int, *promotions: tuple[str, Decimal]) -> list[dict[str, Any]]:
    """Each promotion that took something off: (id, VAT-inclusive amount)."""
    return [
        {
            "PromotionType": PROMOTION_TYPE,
            "PromotionId": promotion_id,
            "PromotionAmount": _money(sign * amount, currency),
        }
        for promotion_id, amount in promotions
        if amount
    ]


def _promotion_ids(item: OrderItem) -> tuple[str, str]:
    """The ids of the item's promotion and of its shipping promotion."""
    ids = item.promotion_ids or ["Promotion"]
    return ids[0], ids[-1]


def _event(order: Order, posted_at: datetime) -> dict[str, Any]:
    return {
        "AmazonOrderId": order.order_id,
        "SellerOrderId": order.seller_order_id or order.order_id,
        "MarketplaceName": BY_ID[order.marketplace_id].name,
        "PostedDate": iso(posted_at),
    }


def shipment_event(shipment: Shipment) -> dict[str, Any]:
    """A dispatched shipment as a ``ShipmentEvent``: what the buyer was charged."""
    order = shipment.order
    items = []
    for line in shipment.lines:
        promotion_id, shipping_promotion_id = _promotion_ids(line)
        item: dict[str, Any] = {
            "SellerSKU": line.seller_sku,
            "OrderItemId": line.order_item_id,
            "QuantityShipped": line.quantity,
            "ItemChargeList": _charges(
                order.currency,
                1,
                ("Principal", line.item_price),
                ("Tax", line.item_tax),
                ("GiftWrap", line.gift_wrap_price),
                ("GiftWrapTax", line.gift_wrap_tax),
                ("ShippingCharge", line.shipping_price),
                ("ShippingTax", line.shipping_tax),
            ),
        }
        promotions = _promotions(
            order.currency,
            -1,
            (promotion_id, line.promotion_discount),
            (shipping_promotion_id, line.shipping_discount),
        )
        if promotions:
            item["PromotionList"] = promotions
        items.append(item)
    return {**_event(order, shipment.shipped_at), "ShipmentItemList": items}


def refund_event(order: Order, made: Refund) -> dict[str, Any]:
    """A refund as a ``ShipmentEvent`` of the ``RefundEventList``: negative charges."""
    items = []
    for line in made.lines:
        ordered = order.item(line.order_item_id)
        promotion_id, shipping_promotion_id = (
            _promotion_ids(ordered) if ordered else ("Promotion", "Promotion")
        )
        item: dict[str, Any] = {
            "SellerSKU": line.seller_sku,
            "OrderItemId": line.order_item_id,
            "OrderAdjustmentItemId": line.order_adjustment_item_id,
            "QuantityShipped": line.quantity,
            "ItemChargeAdjustmentList": _charges(
                made.currency,
                -1,
                ("Principal", line.item_price),
                ("Tax", line.item_tax),
                ("ShippingCharge", line.shipping_price),
                ("ShippingTax", line.shipping_tax),
            ),
        }
        promotions = _promotions(
            made.currency,
            1,
            (promotion_id, line.promotion_discount),
            (shipping_promotion_id, line.shipping_discount),
        )
        if promotions:
            item["PromotionAdjustmentList"] = promotions
        items.append(item)
    return {**_event(order, made.posted_at), "ShipmentItemAdjustmentList": items}


EventKey = tuple[datetime, int, str]
"""How events are ordered and pages continue: posted date, shipments first, then the shipment
id or the refund's number."""


def _order_events(sandbox: Sandbox, order: Order) -> Iterator[tuple[EventKey, dict[str, Any]]]:
    for shipment in order_shipments(order):
        yield (shipment.shipped_at, 0, shipment.shipment_id), shipment_event(shipment)
    for made in order_refunds(sandbox, order.order_id):
        yield (made.posted_at, 1, f"{made.number:012d}"), refund_event(order, made)


def _page(
    call: Call,
    events: Iterable[tuple[EventKey, dict[str, Any]]],
    after: EventKey | None,
    token: dict[str, Any],
) -> Reply:
    """One page of ``events`` after the key ``after``; the token data continues it."""
    size = call.integer("MaxResultsPerPage", default=MAX_PAGE_SIZE, lowest=1, highest=MAX_PAGE_SIZE)
    ordered = sorted(
        ((key, event) for key, event in events if after is None or key > after),
        key=lambda pair: pair[0],
    )
    page = ordered[:size]
    payload: dict[str, Any] = {
        "FinancialEvents": {
            "ShipmentEventList": [event for key, event in page if key[1] == 0],
            "RefundEventList": [event for key, event in page if key[1] == 1],
        }
    }
    if len(ordered) > size:
        moment, kind, ident = page[-1][0]
        payload["NextToken"] = encode_token({**token, "key": [moment.isoformat(), kind, ident]})
    return Reply(body={"payload": payload})


def _continued(call: Call, what: str) -> tuple[dict[str, Any], EventKey | None]:
    """The data of the request's ``NextToken`` (checked to be this seller's, for ``what``)."""
    raw = call.query("NextToken")
    if raw is None:
        return {}, None
    data = decode_token(raw, "NextToken")
    if data.get("seller") != call.seller.seller_id or data.get("what") != what:
        raise invalid_input("Invalid NextToken.")
    try:
        moment, kind, ident = data["key"]
        return data, (datetime.fromisoformat(moment), int(kind), str(ident))
    except (KeyError, TypeError, ValueError):
        raise invalid_input("Invalid NextToken.") from None


@api.operation("finances.listFinancialEventsByOrderId")
def list_financial_events_by_order_id(call: Call) -> Reply:
    order_id = call.path["orderId"]
    if not _ORDER_ID.fullmatch(order_id):
        raise invalid_input("Bad order ID provided.")
    token, after = _continued(call, "order")
    if token and token.get("orderId") != order_id:
        raise invalid_input("The NextToken belongs to another orderId.")
    order = call.sandbox.state.orders.orders.get(order_id)
    own = order is not None and order.seller_id == call.seller.seller_id
    events = _order_events(call.sandbox, order) if order is not None and own else iter(())
    data = {"seller": call.seller.seller_id, "what": "order", "orderId": order_id}
    return _page(call, events, after, data)


def _range(call: Call, token: dict[str, Any]) -> tuple[datetime, datetime]:
    """[PostedAfter, PostedBefore) of a request, checked as Amazon's model describes them."""
    after, before = call.time("PostedAfter"), call.time("PostedBefore")
    if token:
        try:
            kept_after = datetime.fromisoformat(token["after"])
            kept_before = datetime.fromisoformat(token["before"])
        except (KeyError, TypeError, ValueError):
            raise invalid_input("Invalid NextToken.") from None
        if (after is not None and after != kept_after) or (
            before is not None and before != kept_before
        ):
            raise invalid_input(
                "PostedAfter and PostedBefore must be those of the call that returned the "
                "NextToken."
            )
        return kept_after, kept_before
    if after is None:
        if before is not None:
            raise invalid_input("PostedBefore requires PostedAfter.")
        raise invalid_input("PostedAfter or NextToken must be provided.")
    delay = call.sandbox.config.scaled(POSTING_DELAY_SECONDS)
    latest = call.now - timedelta(seconds=delay)
    scale = call.sandbox.config.time_scale
    pace = f" ({delay:g} s at time scale {scale:g})" if scale != 1 else ""
    for name, moment in (("PostedAfter", after), ("PostedBefore", before)):
        if moment is not None and moment > latest:
            raise invalid_input(
                f"{name} must be more than 2 minutes before the time of the request{pace}."
            )
    if before is None:
        return after, latest.replace(microsecond=0)
    if before <= after:
        raise invalid_input("PostedBefore must be later than PostedAfter.")
    return after, before


@api.operation("finances.listFinancialEvents")
def list_financial_events(call: Call) -> Reply:
    token, key = _continued(call, "events")
    after, before = _range(call, token)
    data = {
        "seller": call.seller.seller_id,
        "what": "events",
        "after": after.isoformat(),
        "before": before.isoformat(),
    }
    if before - after > MAX_RANGE:
        return _page(call, (), None, data)  # more than 180 days apart: empty, as documented

    def events() -> Iterator[tuple[EventKey, dict[str, Any]]]:
        for order in seller_orders(call.sandbox, call.seller.seller_id):
            for event_key, event in _order_events(call.sandbox, order):
                if after <= event_key[0] < before:
                    yield event_key, event

    return _page(call, events(), key, data)
