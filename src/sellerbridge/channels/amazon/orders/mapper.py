"""Amazon order → the ERP's view of it, amounts to the cent as Amazon reports them.

Amazon's European amounts are VAT-inclusive, and it states the VAT it calculated; those
amounts take precedence over anything the ERP would compute (VAT uploads are rejected on a
cent's difference). Per order item the Orders API 2026-01-01 gives proceeds breakdowns
``ITEM`` (unit price × quantity), ``SHIPPING``, ``GIFT_WRAP``, ``DISCOUNT`` (negative; detailed
by ``ITEM`` and ``SHIPPING``) and ``TAX`` (the VAT contained in them; detailed by ``ITEM``,
``SHIPPING``, ``GIFT_WRAP`` and ``DISCOUNT``). They become:

- an order line per item: the unit price, the item discount, and the line's gross
  ``ITEM − item discount`` with its VAT ``ITEM tax − the item discount's tax``;
- charges per kind and VAT rate: shipping ``SHIPPING − shipping discount`` and gift wrap,
  each with its VAT.

``DISCOUNT`` tax comes as one figure for the item's and the shipping's discount; when both
exist it is split by the item's rate, the shipping discount taking the rest, so nothing is lost
or counted twice. VAT rates are not in the API: each is recognised from its amounts
(:func:`sellerbridge.core.tax.rate_of`).

The mapper is pure: which article a SKU sells, and what to do with the result, is the
importer's business.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sellerbridge.channels.amazon.spapi.models.orders import (
    CustomerAddress,
    ItemProceedsBreakdown,
    Order,
    OrderItem,
)
from sellerbridge.core.money import ZERO
from sellerbridge.core.orders import ChargeKind
from sellerbridge.core.parties import Address, PickupPointType
from sellerbridge.core.tax import rate_of, split_gross

_PACKSTATION = re.compile(r"^\s*packstation\s*(\d+)\s*$", re.IGNORECASE)
_POST_OFFICE = re.compile(r"^\s*(?:postfiliale|filiale)\s*(\d+)\s*$", re.IGNORECASE)
_DIGITS = re.compile(r"\d{6,10}")


@dataclass(frozen=True)
class ImportedLine:
    order_item_id: str
    seller_sku: str
    title: str
    quantity: int
    quantity_shipped: int
    unit_price: Decimal  # VAT-inclusive
    discount: Decimal  # VAT-inclusive, positive
    gross: Decimal  # unit_price × quantity − discount
    tax: Decimal  # the VAT Amazon calculated for the line
    tax_rate: Decimal
    cancel_requested: bool = False
    cancel_reason: str | None = None
    gift_message: str | None = None

    @property
    def net(self) -> Decimal:
        return self.gross - self.tax


@dataclass(frozen=True)
class ImportedCharge:
    kind: ChargeKind
    description: str
    gross: Decimal
    tax: Decimal
    tax_rate: Decimal

    @property
    def net(self) -> Decimal:
        return self.gross - self.tax


@dataclass(frozen=True)
class ImportedOrder:
    amazon_order_id: str
    marketplace_id: str
    status: str
    fulfilled_by: str  # MERCHANT or AMAZON
    currency: str
    created: datetime
    last_updated: datetime
    service_level: str | None
    is_prime: bool
    is_business: bool
    ship_by: datetime | None
    deliver_by: datetime | None
    buyer_name: str | None
    buyer_email: str | None
    buyer_company: str | None
    purchase_order_number: str | None
    buyer_vat_id: str | None
    delivery_address: Address | None
    lines: tuple[ImportedLine, ...]
    charges: tuple[ImportedCharge, ...]
    grand_total: Decimal | None
    problems: tuple[str, ...] = field(default=())
    """What the mapping could not read, in words for the operator."""

    @property
    def total(self) -> Decimal:
        return sum((line.gross for line in self.lines), ZERO) + sum(
            (charge.gross for charge in self.charges), ZERO
        )

    @property
    def cancel_requested(self) -> bool:
        return any(line.cancel_requested for line in self.lines)


def _amounts(breakdowns: list[ItemProceedsBreakdown]) -> dict[str, Decimal]:
    """Flatten breakdowns: ``ITEM``, ``TAX``, ``DISCOUNT/ITEM``, ``TAX/SHIPPING``, ..."""
    amounts: dict[str, Decimal] = {}
    for breakdown in breakdowns:
        amounts[breakdown.type] = amounts.get(breakdown.type, ZERO) + breakdown.subtotal.amount
        for detail in breakdown.detailed:
            if detail.subtype is None or detail.value is None:
                continue  # a detail without its kind or amount details nothing
            key = f"{breakdown.type}/{detail.subtype}"
            amounts[key] = amounts.get(key, ZERO) + detail.value.amount
    return amounts


@dataclass(frozen=True)
class _ItemAmounts:
    line: ImportedLine
    charges: tuple[ImportedCharge, ...]
    problems: tuple[str, ...]


def _rate(
    gross: Decimal, tax: Decimal, currency: str, what: str, problems: list[str], quantity: int = 1
) -> Decimal:
    """The VAT rate of an amount; one that is no known rate is noted as a problem (and kept
    as the plain ratio, so the amounts stay as Amazon sent them)."""
    if gross <= 0:
        return ZERO
    rate = rate_of(gross, tax, currency, quantity)
    if rate is not None:
        return rate
    problems.append(f"The VAT of {what} ({tax} in {gross} {currency}) matches no VAT rate.")
    net = gross - tax
    return (tax * 100 / net).quantize(Decimal("0.01")) if net > 0 else ZERO


def _map_item(item: OrderItem, currency: str) -> _ItemAmounts:
    problems: list[str] = []
    sku = item.product.seller_sku or item.order_item_id
    proceeds = item.proceeds
    amounts = _amounts(proceeds.breakdowns if proceeds else [])
    if amounts.get("TAX", ZERO) and not any(key.startswith("TAX/") for key in amounts):
        problems.append(f"Amazon did not break the VAT of {sku} down by item and shipping.")
    item_gross = amounts.get("ITEM", ZERO)
    item_tax = amounts.get("TAX/ITEM", ZERO)
    item_discount = -amounts.get("DISCOUNT/ITEM", ZERO)
    shipping_discount = -amounts.get("DISCOUNT/SHIPPING", ZERO)
    if "DISCOUNT" in amounts and "DISCOUNT/ITEM" not in amounts and not shipping_discount:
        item_discount = -amounts["DISCOUNT"]  # an undetailed discount is on the item
    quantity = max(item.quantity_ordered, 1)
    rate = _rate(item_gross, item_tax, currency, sku, problems, quantity)
    discount_tax = -amounts.get("TAX/DISCOUNT", ZERO)
    if item_discount and shipping_discount:
        item_discount_tax = min(split_gross(item_discount, rate, currency).tax, discount_tax)
    else:
        item_discount_tax = discount_tax if item_discount else ZERO
    shipping_discount_tax = discount_tax - item_discount_tax

    price = item.product.price
    unit_price = (
        price.unit_price.amount
        if price and price.unit_price
        # The line's amount is Amazon's; the unit price only shows it, to four decimals.
        else (item_gross / quantity).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    )
    cancellation = item.cancellation.request if item.cancellation else None
    packing = item.fulfillment.packing if item.fulfillment else None
    gift = packing.gift_option if packing else None
    line = ImportedLine(
        order_item_id=item.order_item_id,
        seller_sku=item.product.seller_sku or "",
        title=item.product.title or item.product.seller_sku or item.order_item_id,
        quantity=item.quantity_ordered,
        quantity_shipped=(item.fulfillment.quantity_fulfilled or 0) if item.fulfillment else 0,
        unit_price=unit_price,
        discount=item_discount,
        gross=item_gross - item_discount,
        tax=item_tax - item_discount_tax,
        tax_rate=rate,
        cancel_requested=cancellation is not None,
        cancel_reason=cancellation.cancel_reason if cancellation else None,
        gift_message=gift.gift_message if gift else None,
    )
    charges = []
    shipping = amounts.get("SHIPPING", ZERO) - shipping_discount
    shipping_tax = amounts.get("TAX/SHIPPING", ZERO) - shipping_discount_tax
    if shipping or shipping_tax:
        charges.append(
            _charge(ChargeKind.SHIPPING, "Shipping", shipping, shipping_tax, currency, problems)
        )
    gift_wrap = amounts.get("GIFT_WRAP", ZERO)
    if gift_wrap:
        gift_wrap_tax = amounts.get("TAX/GIFT_WRAP", ZERO)
        charges.append(
            _charge(ChargeKind.GIFT_WRAP, "Gift wrap", gift_wrap, gift_wrap_tax, currency, problems)
        )
    stated = amounts.get("TAX", ZERO)
    mapped = line.tax + sum((charge.tax for charge in charges), ZERO)
    if mapped != stated:
        problems.append(f"The VAT of {sku} adds up to {mapped} {currency}, Amazon states {stated}.")
    return _ItemAmounts(line, tuple(charges), tuple(problems))


def _charge(
    kind: ChargeKind,
    description: str,
    gross: Decimal,
    tax: Decimal,
    currency: str,
    problems: list[str],
) -> ImportedCharge:
    rate = _rate(gross, tax, currency, description.lower(), problems)
    return ImportedCharge(kind, description, gross, tax, rate)


def _merge_charges(charges: list[ImportedCharge]) -> tuple[ImportedCharge, ...]:
    """One charge per kind and rate: an invoice shows shipping once per VAT rate."""
    merged: dict[tuple[ChargeKind, Decimal], ImportedCharge] = {}
    for charge in charges:
        key = (charge.kind, charge.tax_rate)
        previous = merged.get(key)
        merged[key] = (
            charge
            if previous is None
            else ImportedCharge(
                charge.kind,
                charge.description,
                previous.gross + charge.gross,
                previous.tax + charge.tax,
                charge.tax_rate,
            )
        )
    return tuple(merged.values())


def map_address(address: CustomerAddress | None, email: str | None) -> Address | None:
    """Amazon's delivery address as an ERP address; DHL Packstation and Postfiliale addresses
    become pickup points (station number, and the recipient's Postnummer from the next line)."""
    if address is None:
        return None
    pickup_type: PickupPointType | None = None
    pickup_id = customer_number = None
    street1, street2 = address.address_line1 or "", address.address_line2
    for pattern, kind in (
        (_PACKSTATION, PickupPointType.PACKSTATION),
        (_POST_OFFICE, PickupPointType.POST_OFFICE),
    ):
        match = pattern.match(street1)
        if match:
            pickup_type, pickup_id = kind, match.group(1)
            number = _DIGITS.search(street2 or "")
            customer_number = number.group(0) if number else None
    return Address(
        name=address.name or "",
        company=address.company_name,
        street1=street1,
        street2=street2,
        street3=address.address_line3,
        postal_code=address.postal_code or "",
        city=address.city or "",
        region=address.state_or_region,
        country=address.country_code or "",
        phone=address.phone,
        email=email,
        pickup_point_type=pickup_type,
        pickup_point_id=pickup_id,
        pickup_customer_number=customer_number,
    )


def map_order(order: Order) -> ImportedOrder:
    """The ERP's view of an Amazon order; what cannot be read is listed in ``problems``."""
    problems: list[str] = []
    total = order.proceeds.grand_total if order.proceeds else None
    currency = total.currency_code if total else _currency(order)
    if currency is None:
        problems.append("Amazon sent no amounts for this order.")
        currency = ""
    items = [_map_item(item, currency) for item in order.order_items] if currency else []
    problems.extend(problem for item in items for problem in item.problems)
    fulfillment = order.fulfillment
    buyer = order.buyer
    vat_ids = [
        registration.registration_number
        for registration in (order.tax.registrations if order.tax else [])
        if registration.registration_type == "VAT" and registration.registration_number
    ]
    return ImportedOrder(
        amazon_order_id=order.order_id,
        marketplace_id=order.sales_channel.marketplace_id or "",
        status=fulfillment.fulfillment_status if fulfillment else "PENDING",
        fulfilled_by=(fulfillment.fulfilled_by if fulfillment else None) or "MERCHANT",
        currency=currency,
        created=order.created_time,
        last_updated=order.last_updated_time,
        service_level=fulfillment.service_level if fulfillment else None,
        is_prime="PRIME" in order.programs,
        is_business="AMAZON_BUSINESS" in order.programs,
        ship_by=fulfillment.ship_by.latest if fulfillment and fulfillment.ship_by else None,
        deliver_by=(
            fulfillment.deliver_by.latest if fulfillment and fulfillment.deliver_by else None
        ),
        buyer_name=buyer.buyer_name if buyer else None,
        buyer_email=buyer.buyer_email if buyer else None,
        buyer_company=buyer.buyer_company_name if buyer else None,
        purchase_order_number=buyer.buyer_purchase_order_number if buyer else None,
        buyer_vat_id=vat_ids[0] if vat_ids else None,
        delivery_address=map_address(
            order.recipient.delivery_address if order.recipient else None,
            buyer.buyer_email if buyer else None,
        ),
        lines=tuple(item.line for item in items),
        charges=_merge_charges([charge for item in items for charge in item.charges]),
        grand_total=total.amount if total else None,
        problems=tuple(problems),
    )


def _currency(order: Order) -> str | None:
    for item in order.order_items:
        if item.proceeds and item.proceeds.proceeds_total:
            return item.proceeds.proceeds_total.currency_code
        if item.product.price and item.product.price.unit_price:
            return item.product.price.unit_price.currency_code
    return None
