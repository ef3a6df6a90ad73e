"""Orders API v2026-01-01: ``searchOrders`` and ``getOrder`` as sellerbridge reads them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Money(_Model):
    amount: Decimal
    currency_code: str = Field(alias="currencyCode")


class DateTimeRange(_Model):
    earliest: datetime | None = Field(default=None, alias="earliestDateTime")
    latest: datetime | None = Field(default=None, alias="latestDateTime")


class SalesChannel(_Model):
    channel_name: str = Field(alias="channelName")
    marketplace_id: str | None = Field(default=None, alias="marketplaceId")
    marketplace_name: str | None = Field(default=None, alias="marketplaceName")


class Buyer(_Model):
    buyer_name: str | None = Field(default=None, alias="buyerName")
    buyer_email: str | None = Field(default=None, alias="buyerEmail")
    buyer_company_name: str | None = Field(default=None, alias="buyerCompanyName")
    buyer_purchase_order_number: str | None = Field(default=None, alias="buyerPurchaseOrderNumber")


class CustomerAddress(_Model):
    name: str | None = None
    company_name: str | None = Field(default=None, alias="companyName")
    address_line1: str | None = Field(default=None, alias="addressLine1")
    address_line2: str | None = Field(default=None, alias="addressLine2")
    address_line3: str | None = Field(default=None, alias="addressLine3")
    city: str | None = None
    district_or_county: str | None = Field(default=None, alias="districtOrCounty")
    state_or_region: str | None = Field(default=None, alias="stateOrRegion")
    postal_code: str | None = Field(default=None, alias="postalCode")
    country_code: str | None = Field(default=None, alias="countryCode")
    phone: str | None = None
    address_type: str | None = Field(default=None, alias="addressType")


class Recipient(_Model):
    delivery_address: CustomerAddress | None = Field(default=None, alias="deliveryAddress")


class DetailedBreakdown(_Model):
    subtype: str | None = None
    value: Money | None = None


class OrderProceedsBreakdown(_Model):
    """One category of the order's proceeds."""

    type: str
    subtotal: Money


class ItemProceedsBreakdown(_Model):
    """One category of an item's proceeds; ``TAX`` and ``DISCOUNT`` may be detailed by
    subtype."""

    type: str
    subtotal: Money
    detailed: list[DetailedBreakdown] = Field(default_factory=list, alias="detailedBreakdowns")


class OrderProceeds(_Model):
    grand_total: Money | None = Field(default=None, alias="grandTotal")
    breakdowns: list[OrderProceedsBreakdown] = Field(default_factory=list)


class ItemProceeds(_Model):
    proceeds_total: Money | None = Field(default=None, alias="proceedsTotal")
    breakdowns: list[ItemProceedsBreakdown] = Field(default_factory=list)


class ItemPrice(_Model):
    unit_price: Money | None = Field(default=None, alias="unitPrice")


class ItemProduct(_Model):
    asin: str | None = None
    title: str | None = None
    seller_sku: str | None = Field(default=None, alias="sellerSku")
    price: ItemPrice | None = None


class PromotionBreakdown(_Model):
    promotion_id: str | None = Field(default=None, alias="promotionId")


class ItemPromotion(_Model):
    breakdowns: list[PromotionBreakdown] = Field(default_factory=list)


class CancellationRequest(_Model):
    requester: str | None = None
    cancel_reason: str | None = Field(default=None, alias="cancelReason")


class ItemCancellation(_Model):
    request: CancellationRequest | None = Field(default=None, alias="cancellationRequest")


class GiftOption(_Model):
    gift_message: str | None = Field(default=None, alias="giftMessage")
    gift_wrap_level: str | None = Field(default=None, alias="giftWrapLevel")


class ItemPacking(_Model):
    gift_option: GiftOption | None = Field(default=None, alias="giftOption")


class ItemFulfillment(_Model):
    quantity_fulfilled: int | None = Field(default=None, alias="quantityFulfilled")
    quantity_unfulfilled: int | None = Field(default=None, alias="quantityUnfulfilled")
    packing: ItemPacking | None = None


class OrderItem(_Model):
    order_item_id: str = Field(alias="orderItemId")
    quantity_ordered: int = Field(alias="quantityOrdered")
    product: ItemProduct
    proceeds: ItemProceeds | None = None
    promotion: ItemPromotion | None = None
    cancellation: ItemCancellation | None = None
    fulfillment: ItemFulfillment | None = None


class OrderFulfillment(_Model):
    fulfillment_status: str = Field(alias="fulfillmentStatus")
    fulfilled_by: str | None = Field(default=None, alias="fulfilledBy")
    service_level: str | None = Field(default=None, alias="fulfillmentServiceLevel")
    ship_by: DateTimeRange | None = Field(default=None, alias="shipByWindow")
    deliver_by: DateTimeRange | None = Field(default=None, alias="deliverByWindow")


class PackageItem(_Model):
    order_item_id: str = Field(alias="orderItemId")
    quantity: int


class PackageStatus(_Model):
    status: str


class OrderPackage(_Model):
    package_reference_id: str = Field(alias="packageReferenceId")
    carrier: str | None = None
    tracking_number: str | None = Field(default=None, alias="trackingNumber")
    ship_time: datetime | None = Field(default=None, alias="shipTime")
    package_status: PackageStatus | None = Field(default=None, alias="packageStatus")
    package_items: list[PackageItem] = Field(default_factory=list, alias="packageItems")


class TaxRegistration(_Model):
    entity_type: str | None = Field(default=None, alias="entityType")
    legal_name: str | None = Field(default=None, alias="legalName")
    registration_type: str | None = Field(default=None, alias="taxRegistrationType")
    registration_number: str | None = Field(default=None, alias="taxRegistrationNumber")


class OrderTax(_Model):
    registrations: list[TaxRegistration] = Field(default_factory=list, alias="taxRegistrations")


class Order(_Model):
    order_id: str = Field(alias="orderId")
    created_time: datetime = Field(alias="createdTime")
    last_updated_time: datetime = Field(alias="lastUpdatedTime")
    programs: list[str] = Field(default_factory=list)
    sales_channel: SalesChannel = Field(alias="salesChannel")
    buyer: Buyer | None = None
    recipient: Recipient | None = None
    proceeds: OrderProceeds | None = None
    tax: OrderTax | None = None
    fulfillment: OrderFulfillment | None = None
    order_items: list[OrderItem] = Field(alias="orderItems")
    packages: list[OrderPackage] = Field(default_factory=list)


class Pagination(_Model):
    next_token: str | None = Field(default=None, alias="nextToken")


class SearchOrdersResponse(_Model):
    orders: list[Order]
    pagination: Pagination | None = None
    last_updated_before: datetime | None = Field(default=None, alias="lastUpdatedBefore")
    created_before: datetime | None = Field(default=None, alias="createdBefore")


class GetOrderResponse(_Model):
    order: Order
