"""Orders as the sandbox keeps them, shared by every API that reads or changes them.

Amounts follow Amazon's European convention: prices are VAT-inclusive, and the ``*_tax``
amounts state the VAT contained in them. Per item:

    total = unit_price × quantity + shipping_price + gift_wrap_price
            − promotion_discount − shipping_discount

and the order's grand total is the sum of its items' totals. The Orders API 2026-01-01
renders this as proceeds breakdowns ``ITEM``, ``SHIPPING``, ``GIFT_WRAP`` and ``DISCOUNT``
(negative), with ``TAX`` as the VAT contained in them (detailed by ``ITEM``, ``SHIPPING``,
``GIFT_WRAP`` and ``DISCOUNT``); ``TAX`` is not added again to the total.

Each item's ``vat_rate`` is the rate its ``*_tax`` amounts were computed with, and the order's
``tax_treatment`` says why (see :class:`TaxTreatment`); with ``INTRA_COMMUNITY`` the rate is 0
and the amounts are the VAT-exclusive prices the business buyer pays.

The lifecycle changes (payment, packages, FBA shipment, cancellation, delivery) are methods of
:class:`Order`, so the order generator, ``confirmShipment`` and the admin events move an order
the same way; whether a move is allowed is decided by the caller.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

ZERO = Decimal(0)
CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """``amount`` rounded half up to the cent, as Amazon rounds every amount it reports."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# Amazon's carrier codes for shipment confirmations. Amazon publishes no current list; these are
# the values of the 2015 amzn-base.xsd ``CarrierCode`` enumeration, the Spanish carriers seen in
# client code and the extra values of Amazon's Singapore help page (reference: spapi.md §6.4).
# Any other carrier is confirmed as ``Other`` with a ``carrierName``.
CARRIER_CODES: frozenset[str] = frozenset(
    {
        "USPS", "UPS", "UPSMI", "FedEx", "DHL", "Fastway", "GLS", "GO!",
        "Hermes Logistik Gruppe", "Royal Mail", "Parcelforce", "City Link", "TNT", "Target",
        "SagawaExpress", "NipponExpress", "YamatoTransport", "DHL Global Mail",
        "UPS Mail Innovations", "FedEx SmartPost", "OSM", "OnTrac", "Streamlite", "Newgistics",
        "Canada Post", "Blue Package", "Chronopost", "Deutsche Post", "DPD", "La Poste",
        "Parcelnet", "Poste Italiane", "SDA", "Smartmail", "FEDEX_JP", "JP_EXPRESS", "NITTSU",
        "SAGAWA", "YAMATO", "BlueDart", "AFL/Fedex", "Aramex", "India Post", "Professional",
        "DTDC", "Overnite Express", "First Flight", "Delhivery", "Lasership", "Yodel",
        "Correos", "MRW", "Seur", "Endopack", "Chrono Express", "Nacex",
        "Ninjavan", "Qxpress", "Singapore Post", "4PX", "Yanwen", "China Post",
        "DHL eCommerce", "SF Express",
    }
)  # fmt: skip
OTHER_CARRIER = "Other"


class FulfillmentStatus(StrEnum):
    PENDING = "PENDING"
    UNSHIPPED = "UNSHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class TaxTreatment(StrEnum):
    """Which VAT applies to an order, decided when it is placed."""

    DOMESTIC = "DOMESTIC"
    """Shipped within one country: that country's VAT."""
    OSS = "OSS"
    """B2C shipped to another EU country: the destination's VAT, declared through the OSS."""
    INTRA_COMMUNITY = "INTRA_COMMUNITY"
    """B2B to a VAT ID of another EU country than the dispatch country: 0 %."""
    UK_MARKETPLACE = "UK_MARKETPLACE"
    """Delivered to Great Britain: UK VAT, collected by Amazon as the marketplace."""


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
    delivered_at: datetime | None = None

    @property
    def carrier(self) -> str:
        """The carrier as the buyer knows it: the name given with ``Other``, else the code."""
        if self.carrier_code == OTHER_CARRIER and self.carrier_name:
            return self.carrier_name
        return self.carrier_code


class FbaShipment(BaseModel):
    """How Amazon shipped an FBA order."""

    shipment_id: str
    shipped_at: datetime
    fulfillment_center: str
    carrier: str
    tracking_number: str
    delivered_at: datetime | None = None


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
    tax_treatment: TaxTreatment = TaxTreatment.DOMESTIC

    @property
    def grand_total(self) -> Decimal:
        return sum((item.total for item in self.items), ZERO)

    @property
    def total_tax(self) -> Decimal:
        return sum((item.total_tax for item in self.items), ZERO)

    @property
    def is_business(self) -> bool:
        return "AMAZON_BUSINESS" in self.programs

    @property
    def is_prime(self) -> bool:
        return "PRIME" in self.programs

    def item(self, order_item_id: str) -> OrderItem | None:
        return next((item for item in self.items if item.order_item_id == order_item_id), None)

    def package(self, package_reference_id: str) -> Package | None:
        return next(
            (p for p in self.packages if p.package_reference_id == package_reference_id), None
        )

    # --- lifecycle -----------------------------------------------------------------------

    def pay(self, at: datetime) -> None:
        """Payment authorised: a pending order becomes ready to ship."""
        self.status = FulfillmentStatus.UNSHIPPED
        self.last_updated_time = at

    def add_package(self, package: Package) -> None:
        """The seller confirmed ``package``: its units are shipped, the status follows."""
        for package_item in package.items:
            item = self.item(package_item.order_item_id)
            if item is None:
                raise KeyError(f"{self.order_id} has no item {package_item.order_item_id}")
            item.quantity_shipped += package_item.quantity
        self.packages.append(package)
        self.status = (
            FulfillmentStatus.SHIPPED
            if all(item.quantity_unshipped == 0 for item in self.items)
            else FulfillmentStatus.PARTIALLY_SHIPPED
        )
        self.last_updated_time = package.created_at

    def remove_package(self, package_reference_id: str, at: datetime) -> None:
        """A package is withdrawn (its label voided): its units are unshipped again."""
        package = self.package(package_reference_id)
        if package is None:
            raise KeyError(f"{self.order_id} has no package {package_reference_id}")
        for package_item in package.items:
            item = self.item(package_item.order_item_id)
            if item is not None:
                item.quantity_shipped -= package_item.quantity
        self.packages.remove(package)
        if self.status is not FulfillmentStatus.CANCELLED:
            shipped = any(item.quantity_shipped for item in self.items)
            self.status = (
                FulfillmentStatus.PARTIALLY_SHIPPED if shipped else FulfillmentStatus.UNSHIPPED
            )
        self.last_updated_time = at

    def ship_by_amazon(self, shipment: FbaShipment) -> None:
        """Amazon shipped every unit of an FBA order from its fulfilment centre."""
        for item in self.items:
            item.quantity_shipped = item.quantity
        self.fba_shipment = shipment
        self.status = FulfillmentStatus.SHIPPED
        self.last_updated_time = shipment.shipped_at

    def request_cancellation(self, reason: str, at: datetime) -> None:
        """The buyer asked to cancel the units not yet shipped."""
        for item in self.items:
            if item.quantity_unshipped:
                item.cancel_requested = True
                item.cancel_reason = reason
        self.last_updated_time = at

    def cancel(self, by: Literal["BUYER", "SELLER", "AMAZON"], reason: str, at: datetime) -> None:
        self.status = FulfillmentStatus.CANCELLED
        self.cancelled_by = by
        self.cancel_reason = reason
        self.last_updated_time = at

    def deliver(self, at: datetime) -> None:
        """Every package (or the FBA shipment) reached the buyer."""
        for package in self.packages:
            package.delivered_at = package.delivered_at or at
        if self.fba_shipment is not None:
            self.fba_shipment.delivered_at = self.fba_shipment.delivered_at or at
        self.last_updated_time = at


class SearchQuery(BaseModel):
    """The filters of a ``searchOrders`` request, as a pagination token must repeat them."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    last_updated_after: datetime | None = None
    last_updated_before: datetime | None = None
    fulfillment_statuses: list[str] = Field(default_factory=list)
    marketplace_ids: list[str] = Field(default_factory=list)
    fulfilled_by: list[str] = Field(default_factory=list)


class SearchCursor(BaseModel):
    """What a ``searchOrders`` pagination token stands for: the query and where it stopped."""

    seller_id: str
    query: SearchQuery
    upper_bound: datetime
    last_time: datetime
    last_order_id: str
    expires_at: datetime


class OrdersState(BaseModel):
    orders: dict[str, Order] = Field(default_factory=dict)
    generated_batches: dict[str, int] = Field(default_factory=dict)
    """Per seller, how many batches of orders were generated (each draws its own stream)."""
    search_cursors: dict[str, SearchCursor] = Field(default_factory=dict)
