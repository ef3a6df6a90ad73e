"""Orders as the sandbox keeps them, shared by every API that reads or changes them.

Amounts follow Amazon's European convention: prices are VAT-inclusive, and the ``*_tax``
amounts state the VAT contained in them. Per item:

    total = unit_price × quantity + shipping_price + gift_wrap_price
            − promotion_discount − shipping_discount

and the order's grand total is the sum of its items' totals. The Orders API 2026-01-01
renders this as proceeds breakdowns ``ITEM``, ``SHIPPING``, ``GIFT_WRAP`` and ``DISCOUNT``
(negative), with ``TAX`` as the VAT contained in them (detailed by ``ITEM``, ``SHIPPING``,
``GIFT_WRAP`` and ``DISCOUNT``); ``TAX`` is not added again to the total.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

ZERO = Decimal(0)


class FulfillmentStatus(StrEnum):
    PENDING = "PENDING"
    UNSHIPPED = "UNSHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class Address(BaseModel):
    name: str
    company_name: str | None = None
    line1: str
    line2: str | None = None
    line3: str | None = None
    city: str
    district: str | None = None
    state_or_region: str | None = None
    postal_code: str
    country_code: str
    phone: str | None = None
    address_type: Literal["RESIDENTIAL", "COMMERCIAL", "PICKUP_POINT"] = "RESIDENTIAL"


class OrderItem(BaseModel):
    order_item_id: str
    asin: str
    seller_sku: str
    title: str
    quantity: int
    quantity_shipped: int = 0
    vat_rate: Decimal
    unit_price: Decimal
    item_tax: Decimal
    shipping_price: Decimal = ZERO
    shipping_tax: Decimal = ZERO
    gift_wrap_price: Decimal = ZERO
    gift_wrap_tax: Decimal = ZERO
    gift_wrap_level: str | None = None
    gift_message: str | None = None
    promotion_discount: Decimal = ZERO
    promotion_discount_tax: Decimal = ZERO
    shipping_discount: Decimal = ZERO
    shipping_discount_tax: Decimal = ZERO
    promotion_ids: list[str] = Field(default_factory=list)
    condition: str = "NEW"
    cancel_requested: bool = False
    cancel_reason: str | None = None

    @property
    def item_price(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def total(self) -> Decimal:
        return (
            self.item_price
            + self.shipping_price
            + self.gift_wrap_price
            - self.promotion_discount
            - self.shipping_discount
        )

    @property
    def total_tax(self) -> Decimal:
        return (
            self.item_tax
            + self.shipping_tax
            + self.gift_wrap_tax
            - self.promotion_discount_tax
            - self.shipping_discount_tax
        )

    @property
    def quantity_unshipped(self) -> int:
        return self.quantity - self.quantity_shipped


class PackageItem(BaseModel):
    order_item_id: str
    quantity: int


class Package(BaseModel):
    """A package the seller confirmed with ``confirmShipment`` (FBM)."""

    package_reference_id: str
    shipment_id: str  # Amazon's id of the shipment, the VIDR's shipping-id
    carrier_code: str
    carrier_name: str | None = None
    shipping_method: str | None = None
    tracking_number: str
    ship_date: datetime
    created_at: datetime
    items: list[PackageItem]


class FbaShipment(BaseModel):
    """How Amazon shipped an FBA order."""

    shipment_id: str
    shipped_at: datetime
    fulfillment_center: str
    carrier: str
    tracking_number: str


class Order(BaseModel):
    order_id: str  # 3-7-7 digits
    seller_id: str
    marketplace_id: str
    currency: str
    created_time: datetime
    last_updated_time: datetime
    status: FulfillmentStatus
    fulfilled_by: Literal["MERCHANT", "AMAZON"]
    service_level: str = "STANDARD"
    programs: list[str] = Field(default_factory=list)  # PRIME, AMAZON_BUSINESS
    buyer_name: str
    buyer_email: str
    buyer_company_name: str | None = None
    purchase_order_number: str | None = None
    buyer_vat_number: str | None = None
    ship_from_country: str
    shipping_address: Address
    ship_by_earliest: datetime
    ship_by_latest: datetime
    deliver_by_earliest: datetime
    deliver_by_latest: datetime
    items: list[OrderItem]
    packages: list[Package] = Field(default_factory=list)
    fba_shipment: FbaShipment | None = None
    seller_order_id: str | None = None
    cancelled_by: Literal["BUYER", "SELLER", "AMAZON"] | None = None
    cancel_reason: str | None = None

    @property
    def grand_total(self) -> Decimal:
        return sum((item.total for item in self.items), ZERO)

    @property
    def total_tax(self) -> Decimal:
        return sum((item.total_tax for item in self.items), ZERO)

    @property
    def is_business(self) -> bool:
        return "AMAZON_BUSINESS" in self.programs

    def item(self, order_item_id: str) -> OrderItem | None:
        return next((item for item in self.items if item.order_item_id == order_item_id), None)


class OrdersState(BaseModel):
    orders: dict[str, Order] = Field(default_factory=dict)
