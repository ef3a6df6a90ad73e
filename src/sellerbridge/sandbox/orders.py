"""Orders API 2026-01-01 (``searchOrders``, ``getOrder``), Orders v0 ``confirmShipment`` and
``getOrderBuyerInfo``, and the admin routes that create orders and move them through their
lifecycle.

A connector's order import and shipment confirmation are where money is lost, so these
operations keep Amazon's protocol rules rather than answering whatever is asked:

- ``searchOrders`` takes exactly one of ``createdAfter`` / ``lastUpdatedAfter``, never mixes the
  created and last-updated filters, and wants a ``…Before`` value that is not after the
  ``…After`` value and at least two minutes before the request. Without one, the upper bound is
  two minutes before the request (as Amazon's v0 ``getOrders`` reports it; assumed for
  2026-01-01) and the response says which bound applied. Orders come sorted by the filtered
  time, then by order id, and pages continue after the last order of the previous page within
  that fixed bound: a page never repeats or skips an order, and an order updated while a client
  pages moves out of the window into the next one. A ``paginationToken`` is kept on the server
  with its query; the other parameters must be repeated unchanged (``maxResultsPerPage`` and
  ``includedData`` may change), and it expires after ``search_token_seconds`` (Amazon: 24 h).
  Like every delay of the sandbox, the two minutes pass ``time_scale`` times faster.
- ``includedData`` decides which parts of an order are returned; ``orderItems`` always are.
  ``EXPENSE`` (points, Japan only), ``PAYMENT`` and ``FULFILLMENT_ORDERS`` (Easy Ship) are
  accepted but have nothing to show for European orders. A ``PENDING`` order has no prices,
  proceeds or promotions yet, and only orders ready to ship or shipped show the delivery
  address (both as the v0 API documents; assumed for 2026-01-01). The phone number is
  suppressed for FBA orders and for shipped orders past their latest delivery date.
- Amounts are rendered by the convention of :mod:`.order_records`: ``proceedsTotal`` and
  ``grandTotal`` are the VAT-inclusive sums of ``ITEM``, ``SHIPPING``, ``GIFT_WRAP`` and the
  negative ``DISCOUNT``; ``TAX`` states the VAT contained and is not added again. Items of
  cross-border B2C orders name the ``UOSS`` reporting scheme and UK items Amazon as the
  collecting marketplace facilitator (both unverified for European sellers' own sales).
- ``confirmShipment`` checks the marketplace, a positive numeric ``packageReferenceId``, a
  carrier code from :data:`~.order_records.CARRIER_CODES` or ``Other`` with a carrier name, and
  that every item belongs to the order with at most its unshipped quantity; only merchant
  orders ready to ship can be confirmed. Repeating a package reference with the same details
  changes nothing (a retry after a lost response is safe); with other details it is refused as
  a conflicting repeat — Amazon's behaviour for repeated references is not documented; this is
  the plausible one for a reference that "uniquely identifies a package within an order".
- ``getOrderBuyerInfo`` (restricted: it needs a Restricted Data Token) gives the buyer's relay
  address for FBA orders too — the 2026 ``buyerEmail`` is FBM only —, but not while an order is
  pending (as v0 documents buyer information: for unshipped, partially shipped and shipped
  orders).

Admin routes: ``POST /_sandbox/orders`` places one order from a partial description
(:class:`~.generator.OrderSpec`), ``POST /_sandbox/orders/generate`` generates ``count`` orders,
``POST /_sandbox/orders/{orderId}/events`` moves an order on (``pay``: pending → unshipped;
``ship_fba``; ``request_cancel``: the buyer asks; ``cancel``; ``deliver``) and refuses moves
Amazon would never make, ``GET /_sandbox/orders[/{orderId}]`` shows orders with their packages
and tracking numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from sellerbridge.sandbox.admin import json_body
from sellerbridge.sandbox.errors import invalid_input, not_found
from sellerbridge.sandbox.framework import Api, Call, Reply, check_marketplaces, iso
from sellerbridge.sandbox.generator import (
    BUYER_CANCEL_REASONS,
    OrderSpec,
    build_order,
    fba_shipment,
    generate_orders,
    new_shipment_id,
)
from sellerbridge.sandbox.marketplaces import BY_ID
from sellerbridge.sandbox.order_records import (
    CARRIER_CODES,
    CENT,
    OTHER_CARRIER,
    FulfillmentStatus,
    Order,
    OrderItem,
    Package,
    PackageItem,
    SearchCursor,
    SearchQuery,
    TaxTreatment,
)

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox

api = Api()

SEARCH_DELAY_SECONDS = 120.0
"""Orders show in searches two minutes after they change (Amazon's rule for ``…Before``)."""
MAX_PAGE_SIZE = 100
MAX_GENERATED = 10_000
INCLUDED_DATA = frozenset(
    {
        "BUYER", "RECIPIENT", "PROCEEDS", "EXPENSE", "PROMOTION", "CANCELLATION",
        "FULFILLMENT", "PACKAGES", "TAX", "PAYMENT", "FULFILLMENT_ORDERS",
    }
)  # fmt: skip
SEARCHABLE_STATUSES = frozenset({"PENDING_AVAILABILITY", *FulfillmentStatus, "UNFULFILLABLE"})
FULFILLERS = frozenset({"MERCHANT", "AMAZON"})
TAX_COLLECTOR_UK = "Amazon Services Europe S.a.r.L."
_PACKAGE_REFERENCE = re.compile(r"[1-9][0-9]*")
_ADDRESS_SHOWN = (
    FulfillmentStatus.UNSHIPPED,
    FulfillmentStatus.PARTIALLY_SHIPPED,
    FulfillmentStatus.SHIPPED,
)

# --- rendering (Orders API 2026-01-01) ---------------------------------------------------------


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount.quantize(CENT)), "currencyCode": currency}


def _window(earliest: datetime, latest: datetime) -> dict[str, str]:
    return {"earliestDateTime": iso(earliest), "latestDateTime": iso(latest)}


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _buyer(order: Order) -> dict[str, Any]:
    return _without_none(
        {
            "buyerName": order.buyer_name,
            "buyerEmail": order.buyer_email if order.fulfilled_by == "MERCHANT" else None,
            "buyerCompanyName": order.buyer_company_name,
            "buyerPurchaseOrderNumber": order.purchase_order_number,
        }
    )


def _delivery_address(order: Order, now: datetime) -> dict[str, Any]:
    address = order.shipping_address
    phone_suppressed = order.fulfilled_by == "AMAZON" or (
        order.status is FulfillmentStatus.SHIPPED and now > order.deliver_by_latest
    )
    return _without_none(
        {
            "name": address.name,
            "companyName": address.company_name,
            "addressLine1": address.line1,
            "addressLine2": address.line2,
            "addressLine3": address.line3,
            "city": address.city,
            "districtOrCounty": address.district,
            "stateOrRegion": address.state_or_region,
            "postalCode": address.postal_code,
            "countryCode": address.country_code,
            "phone": None if phone_suppressed else address.phone,
            "addressType": address.address_type,
        }
    )


def _item_proceeds(item: OrderItem, currency: str) -> dict[str, Any]:
    breakdowns: list[dict[str, Any]] = [
        {"type": "ITEM", "subtotal": _money(item.item_price, currency)}
    ]
    if item.shipping_price:
        breakdowns.append({"type": "SHIPPING", "subtotal": _money(item.shipping_price, currency)})
    if item.gift_wrap_price:
        breakdowns.append({"type": "GIFT_WRAP", "subtotal": _money(item.gift_wrap_price, currency)})
    discount = item.promotion_discount + item.shipping_discount
    if discount:
        details = [
            {"subtype": subtype, "value": _money(-amount, currency)}
            for subtype, amount in (
                ("ITEM", item.promotion_discount),
                ("SHIPPING", item.shipping_discount),
            )
            if amount
        ]
        breakdowns.append(
            {
                "type": "DISCOUNT",
                "subtotal": _money(-discount, currency),
                "detailedBreakdowns": details,
            }
        )
    taxes = [("ITEM", item.item_tax)]
    if item.shipping_price:
        taxes.append(("SHIPPING", item.shipping_tax))
    if item.gift_wrap_price:
        taxes.append(("GIFT_WRAP", item.gift_wrap_tax))
    if discount:
        taxes.append(("DISCOUNT", -(item.promotion_discount_tax + item.shipping_discount_tax)))
    breakdowns.append(
        {
            "type": "TAX",
            "subtotal": _money(item.total_tax, currency),
            "detailedBreakdowns": [
                {"subtype": subtype, "value": _money(amount, currency)} for subtype, amount in taxes
            ],
        }
    )
    return {"proceedsTotal": _money(item.total, currency), "breakdowns": breakdowns}


def _order_proceeds(order: Order) -> dict[str, Any]:
    totals = {
        "ITEM": sum((item.item_price for item in order.items), Decimal(0)),
        "SHIPPING": sum((item.shipping_price for item in order.items), Decimal(0)),
        "GIFT_WRAP": sum((item.gift_wrap_price for item in order.items), Decimal(0)),
        "DISCOUNT": -sum(
            (item.promotion_discount + item.shipping_discount for item in order.items),
            Decimal(0),
        ),
    }
    breakdowns = [
        {"type": kind, "subtotal": _money(amount, order.currency)}
        for kind, amount in totals.items()
        if amount or kind == "ITEM"
    ]
    breakdowns.append({"type": "TAX", "subtotal": _money(order.total_tax, order.currency)})
    return {"grandTotal": _money(order.grand_total, order.currency), "breakdowns": breakdowns}


def _order_tax(order: Order) -> dict[str, Any] | None:
    if order.buyer_vat_number is None:
        return None
    registration = {
        "entityType": "BUYER",
        "legalName": order.buyer_company_name or order.buyer_name,
        "taxRegistrationType": "VAT",
        "taxRegistrationNumber": order.buyer_vat_number,
    }
    return {"taxRegistrations": [registration]}


def _item_tax(order: Order) -> dict[str, Any] | None:
    if order.tax_treatment is TaxTreatment.UK_MARKETPLACE:
        collection = {"model": "MARKETPLACE_FACILITATOR", "responsibleParty": TAX_COLLECTOR_UK}
        return {"taxCollections": [collection]}
    if order.tax_treatment is TaxTreatment.OSS:
        return {"taxCalculationBreakdowns": [{"reportingScheme": "UOSS"}]}
    return None


def _cancellation(order: Order, item: OrderItem) -> dict[str, Any] | None:
    cancellation: dict[str, Any] = {}
    if item.cancel_requested:
        cancellation["cancellationRequest"] = _without_none(
            {"requester": "BUYER", "cancelReason": item.cancel_reason}
        )
    if order.status is FulfillmentStatus.CANCELLED and order.cancelled_by is not None:
        cancelled_by = "MERCHANT" if order.cancelled_by == "SELLER" else order.cancelled_by
        cancellation["cancellationExecution"] = _without_none(
            {"cancelledBy": cancelled_by, "cancelReason": order.cancel_reason}
        )
    return cancellation or None


def _item(order: Order, item: OrderItem, included: frozenset[str]) -> dict[str, Any]:
    priced = order.status is not FulfillmentStatus.PENDING
    product: dict[str, Any] = {
        "asin": item.asin,
        "title": item.title,
        "sellerSku": item.seller_sku,
        "condition": {"conditionType": item.condition, "conditionSubtype": item.condition},
    }
    if priced:
        product["price"] = {"unitPrice": _money(item.unit_price, order.currency)}
    body: dict[str, Any] = {
        "orderItemId": item.order_item_id,
        "quantityOrdered": item.quantity,
        "product": product,
    }
    if "PROCEEDS" in included and priced:
        body["proceeds"] = _item_proceeds(item, order.currency)
    if "PROMOTION" in included and priced and item.promotion_ids:
        body["promotion"] = {"breakdowns": [{"promotionId": p} for p in item.promotion_ids]}
    if "CANCELLATION" in included and (cancellation := _cancellation(order, item)):
        body["cancellation"] = cancellation
    if "FULFILLMENT" in included:
        fulfillment: dict[str, Any] = {
            "quantityFulfilled": item.quantity_shipped,
            "quantityUnfulfilled": item.quantity_unshipped,
        }
        if priced and (item.gift_wrap_level or item.gift_message):
            gift = {"giftMessage": item.gift_message, "giftWrapLevel": item.gift_wrap_level}
            fulfillment["packing"] = {"giftOption": _without_none(gift)}
        body["fulfillment"] = fulfillment
    if "TAX" in included and (tax := _item_tax(order)):
        body["tax"] = tax
    return body


def _package(package: Package) -> dict[str, Any]:
    return _without_none(
        {
            "packageReferenceId": package.package_reference_id,
            "createdTime": iso(package.created_at),
            "packageStatus": {"status": "DELIVERED" if package.delivered_at else "SHIPPED"},
            "carrier": package.carrier,
            "shipTime": iso(package.ship_date),
            "shippingService": package.shipping_method,
            "trackingNumber": package.tracking_number,
            "packageItems": [
                {"orderItemId": item.order_item_id, "quantity": item.quantity}
                for item in package.items
            ],
        }
    )


def render_order(order: Order, included: frozenset[str], now: datetime) -> dict[str, Any]:
    """``order`` as the Orders API 2026-01-01 returns it with ``includedData`` = ``included``."""
    body: dict[str, Any] = {
        "orderId": order.order_id,
        "createdTime": iso(order.created_time),
        "lastUpdatedTime": iso(order.last_updated_time),
    }
    if order.seller_order_id:
        body["orderAliases"] = [{"aliasId": order.seller_order_id, "aliasType": "SELLER_ORDER_ID"}]
    if order.programs:
        body["programs"] = list(order.programs)
    body["salesChannel"] = {
        "channelName": "AMAZON",
        "marketplaceId": order.marketplace_id,
        "marketplaceName": BY_ID[order.marketplace_id].name,
    }
    if "BUYER" in included:
        body["buyer"] = _buyer(order)
    if "RECIPIENT" in included and order.status in _ADDRESS_SHOWN:
        body["recipient"] = {"deliveryAddress": _delivery_address(order, now)}
    if "PROCEEDS" in included and order.status is not FulfillmentStatus.PENDING:
        body["proceeds"] = _order_proceeds(order)
    if "TAX" in included and (tax := _order_tax(order)):
        body["tax"] = tax
    if "FULFILLMENT" in included:
        body["fulfillment"] = {
            "fulfillmentStatus": order.status.value,
            "fulfilledBy": order.fulfilled_by,
            "fulfillmentServiceLevel": order.service_level,
            "shipByWindow": _window(order.ship_by_earliest, order.ship_by_latest),
            "deliverByWindow": _window(order.deliver_by_earliest, order.deliver_by_latest),
        }
    body["orderItems"] = [_item(order, item, included) for item in order.items]
    if "PACKAGES" in included and order.fulfilled_by == "MERCHANT":
        body["packages"] = [_package(package) for package in order.packages]
    return body


# --- request parameters ------------------------------------------------------------------------


def _included_data(call: Call) -> frozenset[str]:
    return frozenset(call.choices("includedData", INCLUDED_DATA))


def _search_query(call: Call) -> SearchQuery:
    """The filters of a searchOrders request, checked for the combinations Amazon refuses."""
    query = SearchQuery(
        created_after=call.time("createdAfter"),
        created_before=call.time("createdBefore"),
        last_updated_after=call.time("lastUpdatedAfter"),
        last_updated_before=call.time("lastUpdatedBefore"),
        fulfillment_statuses=sorted(set(call.choices("fulfillmentStatuses", SEARCHABLE_STATUSES))),
        marketplace_ids=sorted(set(call.query_list("marketplaceIds"))),
        fulfilled_by=sorted(set(call.choices("fulfilledBy", FULFILLERS))),
    )
    if (query.created_after is None) == (query.last_updated_after is None):
        raise invalid_input("Exactly one of createdAfter and lastUpdatedAfter must be provided.")
    if query.created_after and query.last_updated_before:
        raise invalid_input("lastUpdatedBefore cannot be combined with createdAfter.")
    if query.last_updated_after and query.created_before:
        raise invalid_input("createdBefore cannot be combined with lastUpdatedAfter.")
    if len(query.marketplace_ids) > 50:
        raise invalid_input("marketplaceIds takes at most 50 marketplace ids.")
    check_marketplaces(call.seller, query.marketplace_ids)
    return query


def _upper_bound(call: Call, query: SearchQuery) -> datetime:
    """The latest time the search covers: the ``…Before`` value, else two minutes ago."""
    by_created = query.created_after is not None
    name = "createdBefore" if by_created else "lastUpdatedBefore"
    after = query.created_after or query.last_updated_after
    before = query.created_before if by_created else query.last_updated_before
    delay = call.sandbox.config.scaled(SEARCH_DELAY_SECONDS)
    latest = call.now - timedelta(seconds=delay)
    if before is None:
        return latest.replace(microsecond=0)
    if after is not None and before < after:
        after_name = "createdAfter" if by_created else "lastUpdatedAfter"
        raise invalid_input(f"{name} must be equal to or after {after_name}.")
    if before > latest:
        scale = call.sandbox.config.time_scale
        pace = f" ({delay:g} s at time scale {scale:g})" if scale != 1 else ""
        raise invalid_input(
            f"{name} must be at least 2 minutes before the time of the request{pace}."
        )
    return before


def _cursor(call: Call, token: str, query: SearchQuery) -> SearchCursor:
    cursors = call.sandbox.state.orders.search_cursors
    cursor = cursors.get(token)
    if cursor is None or cursor.seller_id != call.seller.seller_id:
        raise invalid_input("Invalid paginationToken.")
    if cursor.expires_at <= call.now:
        del cursors[token]
        raise invalid_input("The paginationToken has expired; start the search again.")
    if cursor.query != query:
        raise invalid_input(
            "The parameters differ from the request that returned this paginationToken; all "
            "but maxResultsPerPage and includedData must be repeated unchanged."
        )
    return cursor


def _new_cursor(call: Call, cursor: SearchCursor) -> str:
    cursors = call.sandbox.state.orders.search_cursors
    for token in [token for token, kept in cursors.items() if kept.expires_at <= call.now]:
        del cursors[token]
    token = call.sandbox.random_token(48)
    cursors[token] = cursor
    return token


# --- Orders API 2026-01-01 ---------------------------------------------------------------------


@api.operation("orders.searchOrders")
def search_orders(call: Call) -> Reply:
    query = _search_query(call)
    page_size = call.integer(
        "maxResultsPerPage", default=MAX_PAGE_SIZE, lowest=1, highest=MAX_PAGE_SIZE
    )
    included = _included_data(call)
    token = call.query("paginationToken")
    previous = _cursor(call, token, query) if token else None
    bound = previous.upper_bound if previous else _upper_bound(call, query)
    by_created = query.created_after is not None
    after = query.created_after or query.last_updated_after
    assert after is not None  # _search_query requires one of them

    def moment(order: Order) -> datetime:
        return order.created_time if by_created else order.last_updated_time

    marketplaces = query.marketplace_ids or call.seller.marketplace_ids
    matches = sorted(
        (
            order
            for order in call.sandbox.state.orders.orders.values()
            if order.seller_id == call.seller.seller_id
            and after <= moment(order) <= bound
            and order.marketplace_id in marketplaces
            and (not query.fulfillment_statuses or order.status in query.fulfillment_statuses)
            and (not query.fulfilled_by or order.fulfilled_by in query.fulfilled_by)
            and (
                previous is None
                or (moment(order), order.order_id) > (previous.last_time, previous.last_order_id)
            )
        ),
        key=lambda order: (moment(order), order.order_id),
    )
    page = matches[:page_size]
    body: dict[str, Any] = {
        "orders": [render_order(order, included, call.now) for order in page],
        "createdBefore" if by_created else "lastUpdatedBefore": iso(bound),
    }
    if len(matches) > page_size:
        cursor = SearchCursor(
            seller_id=call.seller.seller_id,
            query=query,
            upper_bound=bound,
            last_time=moment(page[-1]),
            last_order_id=page[-1].order_id,
            expires_at=call.now + timedelta(seconds=call.sandbox.config.search_token_seconds),
        )
        body["pagination"] = {"nextToken": _new_cursor(call, cursor)}
    return Reply(body=body)


def _own_order(call: Call, order_id: str) -> Order:
    order = call.sandbox.state.orders.orders.get(order_id)
    if order is None or order.seller_id != call.seller.seller_id:
        raise not_found(f"Order {order_id} was not found.")
    return order


@api.operation("orders.getOrder")
def get_order(call: Call) -> Reply:
    order = _own_order(call, call.path["orderId"])
    return Reply(body={"order": render_order(order, _included_data(call), call.now)})


@api.operation("ordersV0.getOrderBuyerInfo", restricted=True)
def get_order_buyer_info(call: Call) -> Reply:
    order = _own_order(call, call.path["orderId"])
    available = order.status not in (FulfillmentStatus.PENDING, FulfillmentStatus.CANCELLED)
    info = {"AmazonOrderId": order.order_id, "BuyerEmail": order.buyer_email if available else None}
    return Reply(body={"payload": _without_none(info)})


# --- Orders API v0: confirmShipment ------------------------------------------------------------


def _package_items(order: Order, requested: list[dict[str, Any]]) -> list[PackageItem]:
    if not requested:
        raise invalid_input("packageDetail.orderItems must list at least one order item.")
    items: list[PackageItem] = []
    for entry in requested:
        order_item_id, quantity = entry["orderItemId"], entry["quantity"]
        if order.item(order_item_id) is None:
            raise invalid_input(f"{order_item_id} is not an item of order {order.order_id}.")
        if any(item.order_item_id == order_item_id for item in items):
            raise invalid_input(f"orderItemId {order_item_id} is listed twice.")
        if quantity < 1:
            raise invalid_input(f"The quantity of item {order_item_id} must be at least 1.")
        items.append(PackageItem(order_item_id=order_item_id, quantity=quantity))
    return items


def _check_shippable(order: Order, items: list[PackageItem]) -> None:
    if order.fulfilled_by == "AMAZON":
        raise invalid_input(
            f"Order {order.order_id} is fulfilled by Amazon; Amazon confirms its shipment."
        )
    refusals = {
        FulfillmentStatus.PENDING: "is PENDING: its payment is not authorised yet, so it must "
        "not be shipped",
        FulfillmentStatus.CANCELLED: "is CANCELLED",
        FulfillmentStatus.SHIPPED: "is SHIPPED: every unit is confirmed already",
    }
    if order.status in refusals:
        raise invalid_input(f"Order {order.order_id} {refusals[order.status]}.")
    for package_item in items:
        item = order.item(package_item.order_item_id)
        assert item is not None  # _package_items checked it
        if package_item.quantity > item.quantity_unshipped:
            raise invalid_input(
                f"The quantity {package_item.quantity} of item {item.order_item_id} exceeds the "
                f"{item.quantity_unshipped} unit(s) not yet shipped."
            )


@dataclass(frozen=True)
class _Confirmation:
    """What a confirmShipment request says about its package."""

    reference: str
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    ship_date: datetime
    items: tuple[tuple[str, int], ...]

    def matches(self, package: Package) -> bool:
        return self == _Confirmation(
            package.package_reference_id,
            package.carrier_code,
            package.carrier_name,
            package.shipping_method,
            package.tracking_number,
            package.ship_date,
            tuple(sorted((item.order_item_id, item.quantity) for item in package.items)),
        )


def _confirmation(order: Order, body: dict[str, Any]) -> _Confirmation:
    """The package of a confirmShipment request, checked as far as it does not depend on state."""
    detail = body["packageDetail"]
    if body["marketplaceId"] != order.marketplace_id:
        raise invalid_input(
            f"marketplaceId {body['marketplaceId']} is not the marketplace of order "
            f"{order.order_id} ({order.marketplace_id})."
        )
    reference = detail["packageReferenceId"]
    if not _PACKAGE_REFERENCE.fullmatch(reference):
        raise invalid_input("PackageReferenceId: is invalid, must be a positive numeric value.")
    carrier_code, carrier_name = detail["carrierCode"], detail.get("carrierName")
    if carrier_code == OTHER_CARRIER:
        if not (carrier_name or "").strip():
            raise invalid_input("carrierName is required when carrierCode is Other.")
    elif carrier_code not in CARRIER_CODES:
        raise invalid_input(
            f"Unknown carrierCode {carrier_code!r}: use one of Amazon's carrier codes, or Other "
            "with the carrier's name in carrierName."
        )
    tracking = detail["trackingNumber"].strip()
    if not tracking:
        raise invalid_input("trackingNumber must not be empty.")
    try:
        ship_date = datetime.fromisoformat(detail["shipDate"])
    except ValueError:
        raise invalid_input("shipDate must be an ISO 8601 date-time.") from None
    if ship_date.tzinfo is None:
        ship_date = ship_date.replace(tzinfo=UTC)
    items = _package_items(order, detail["orderItems"])
    return _Confirmation(
        reference,
        carrier_code,
        carrier_name,
        detail.get("shippingMethod"),
        tracking,
        ship_date.astimezone(UTC),
        tuple(sorted((item.order_item_id, item.quantity) for item in items)),
    )


@api.operation("ordersV0.confirmShipment")
def confirm_shipment(call: Call) -> Reply:
    order = _own_order(call, call.path["orderId"])
    confirmation = _confirmation(order, call.body)
    known = order.package(confirmation.reference)
    if known is not None:
        if confirmation.matches(known):
            return Reply(status=204)  # a retry: the package is confirmed already
        raise invalid_input(
            f"Package {confirmation.reference} of order {order.order_id} was confirmed already "
            "with other details; use a new packageReferenceId for another package."
        )
    items = [PackageItem(order_item_id=i, quantity=q) for i, q in confirmation.items]
    _check_shippable(order, items)
    now = call.now.replace(microsecond=0)
    order.add_package(
        Package(
            package_reference_id=confirmation.reference,
            shipment_id=new_shipment_id(call.sandbox.random),
            carrier_code=confirmation.carrier_code,
            carrier_name=confirmation.carrier_name,
            shipping_method=confirmation.shipping_method,
            tracking_number=confirmation.tracking_number,
            ship_date=confirmation.ship_date,
            created_at=now,
            items=items,
        )
    )
    return Reply(status=204)


# --- admin: create orders, move them through their lifecycle, look at them ---------------------


def admin_view(order: Order) -> dict[str, Any]:
    """The stored order with its totals, as the admin API shows it."""
    view: dict[str, Any] = order.model_dump(mode="json")
    view["grand_total"] = str(order.grand_total)
    view["total_tax"] = str(order.total_tax)
    return view


def _stored_order(sandbox: Sandbox, order_id: str) -> Order:
    order = sandbox.state.orders.orders.get(order_id)
    if order is None:
        raise not_found(f"Order {order_id} was not found.")
    return order


@api.admin("POST", "/_sandbox/orders")
async def create_order(sandbox: Sandbox, request: Request) -> Any:
    """Place one order from a partial description (see :class:`~.generator.OrderSpec`)."""
    body = await json_body(request)
    try:
        spec = OrderSpec.model_validate(body)
    except ValidationError as error:
        raise invalid_input("Invalid order description.", str(error)) from None
    return admin_view(build_order(sandbox, spec, now=sandbox.now()))


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=MAX_GENERATED)
    seller_id: str | None = None


@api.admin("POST", "/_sandbox/orders/generate")
async def generate(sandbox: Sandbox, request: Request) -> Any:
    """Generate ``count`` orders for a seller (default: the first), dated back from now."""
    try:
        wanted = GenerateRequest.model_validate(await json_body(request))
    except ValidationError as error:
        raise invalid_input("Invalid generate request.", str(error)) from None
    seller_id = wanted.seller_id or next(iter(sandbox.state.sellers), "")
    seller = sandbox.state.sellers.get(seller_id)
    if seller is None:
        raise not_found(f"There is no seller {seller_id!r}.")
    orders = generate_orders(sandbox, seller, wanted.count, anchor=sandbox.now())
    return {"generated": len(orders), "order_ids": [order.order_id for order in orders]}


class OrderEvent(BaseModel):
    """Something that happens to an order outside the seller's SP-API calls."""

    model_config = ConfigDict(extra="forbid")

    event: Literal["pay", "ship_fba", "request_cancel", "cancel", "deliver"]
    reason: str | None = None
    """Why the buyer asks to cancel, or why the order is cancelled."""
    by: Literal["BUYER", "SELLER", "AMAZON"] | None = None
    """Who cancels: default the buyer if they asked to, else the seller."""


def _refuse(order: Order, why: str) -> NoReturn:
    raise invalid_input(f"Order {order.order_id} is {order.status.value}: {why}.")


def _pay(sandbox: Sandbox, order: Order, event: OrderEvent, now: datetime) -> None:
    if order.status is not FulfillmentStatus.PENDING:
        _refuse(order, "only a PENDING order waits for its payment")
    order.pay(now)


def _ship_fba(sandbox: Sandbox, order: Order, event: OrderEvent, now: datetime) -> None:
    if order.fulfilled_by != "AMAZON":
        _refuse(order, "a merchant-fulfilled order is shipped with confirmShipment")
    if order.status is not FulfillmentStatus.UNSHIPPED:
        _refuse(order, "Amazon ships an FBA order once it is paid and not yet shipped")
    order.ship_by_amazon(fba_shipment(sandbox.random, order, now))


def _request_cancel(sandbox: Sandbox, order: Order, event: OrderEvent, now: datetime) -> None:
    if order.fulfilled_by == "AMAZON":
        _refuse(order, "Amazon handles cancellation requests for FBA orders itself")
    if order.status not in (FulfillmentStatus.UNSHIPPED, FulfillmentStatus.PARTIALLY_SHIPPED):
        _refuse(order, "a buyer can ask the seller to cancel only units not yet shipped")
    order.request_cancellation(event.reason or BUYER_CANCEL_REASONS[0], now)


def _cancel(sandbox: Sandbox, order: Order, event: OrderEvent, now: datetime) -> None:
    if order.status not in (FulfillmentStatus.PENDING, FulfillmentStatus.UNSHIPPED):
        _refuse(order, "only an order with no shipped unit can be cancelled")
    requested = next((item for item in order.items if item.cancel_requested), None)
    by = event.by or ("BUYER" if requested else "SELLER")
    reason = event.reason or (requested.cancel_reason if requested else None)
    order.cancel(by, reason or "NoInventory", now)


def _deliver(sandbox: Sandbox, order: Order, event: OrderEvent, now: datetime) -> None:
    if order.status is not FulfillmentStatus.SHIPPED:
        _refuse(order, "only a SHIPPED order can be delivered")
    shipments = [p.delivered_at for p in order.packages]
    if order.fba_shipment is not None:
        shipments.append(order.fba_shipment.delivered_at)
    if all(shipments):
        _refuse(order, "it is delivered already")
    order.deliver(now)


_EVENTS: dict[str, Callable[[Sandbox, Order, OrderEvent, datetime], None]] = {
    "pay": _pay,
    "ship_fba": _ship_fba,
    "request_cancel": _request_cancel,
    "cancel": _cancel,
    "deliver": _deliver,
}


@api.admin("POST", "/_sandbox/orders/{order_id}/events")
async def order_event(sandbox: Sandbox, request: Request) -> Any:
    """``{"event": "pay" | "ship_fba" | "request_cancel" | "cancel" | "deliver", ...}``."""
    order = _stored_order(sandbox, request.path_params["order_id"])
    try:
        event = OrderEvent.model_validate(await json_body(request))
    except ValidationError as error:
        raise invalid_input("Invalid order event.", str(error)) from None
    _EVENTS[event.event](sandbox, order, event, sandbox.now().replace(microsecond=0))
    return admin_view(order)


@api.admin("GET", "/_sandbox/orders")
def list_orders(sandbox: Sandbox, request: Request) -> Any:
    """Every order, oldest first; filter with ``?seller_id=…&status=…&marketplace_id=…``."""
    wanted = request.query_params
    return [
        admin_view(order)
        for order in sorted(
            sandbox.state.orders.orders.values(),
            key=lambda order: (order.created_time, order.order_id),
        )
        if wanted.get("seller_id", order.seller_id) == order.seller_id
        and wanted.get("status", order.status.value) == order.status.value
        and wanted.get("marketplace_id", order.marketplace_id) == order.marketplace_id
    ]


@api.admin("GET", "/_sandbox/orders/{order_id}")
def show_order(sandbox: Sandbox, request: Request) -> Any:
    return admin_view(_stored_order(sandbox, request.path_params["order_id"]))
