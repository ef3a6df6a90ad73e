"""Merchant Fulfillment API v0: Amazon Buy Shipping for merchant-fulfilled orders.

A seller asks ``getEligibleShipmentServices`` which carriers can take a package of an order,
buys a label for one offer with ``createShipment``, reads it again with ``getShipment`` and
voids it with ``cancelShipment``. The last three return the buyer's address and need a
Restricted Data Token (the framework checks it). What is modelled, and where it comes from:

- **Services.** Per ship-from country, the carriers Amazon's European Buy Shipping offers: from
  Germany DHL Paket (and DHL Paket Prio, for Prime orders only), Deutsche Post Warenpost,
  Hermes Päckchen and Paket, DPD Classic, GLS and UPS Standard; from Great Britain Royal Mail
  Tracked 24/48 and International Tracked, DPD Next Day and UPS; Colissimo and Chronopost from
  France, Poste Italiane from Italy, SEUR and Correos from Spain; DPD Classic, GLS and UPS
  from every EU country. Rates, weight and size limits and transit times are plausible list
  prices, not Amazon's negotiated rates (unverified). The rate is in the order's currency,
  from the billable weight (UPS bills the volumetric weight, length × width × height / 5000,
  when it is higher) and from whether the parcel stays in the country; carrier pick-up and
  signatures cost extra. A service that cannot take the package — too heavy, too big, a
  Packstation address for a carrier other than DHL and Deutsche Post, a delivery experience
  or pick-up it lacks, a ``MustArriveByDate`` it cannot meet — is listed in
  ``RejectedShippingServiceList``; its reason codes follow the style of the model's example
  (``CARRIER_CANNOT_SHIP_TO_POBOX``) but are the sandbox's own.
  No European carrier is offered with ``NoTracking``. Carriers the admin API marks as
  temporarily unavailable, or as not having their terms accepted, appear in those two lists.
- **Offers expire.** A ``ShippingServiceOfferId`` is good for ten minutes and for the shipment
  details it was made for (order, items, weight, package, ship-from address, options). That
  lifetime is borrowed from the Shipping API v2, where rates expire ten minutes after rating;
  for this API it is unverified. Like token lifetimes it is not shortened by the time scale.
  Without an offer id, ``createShipment`` buys the newest current offer of that service for the
  same details; buying needs an earlier eligibility answer either way.
- **Error codes** are those of the MWS Merchant Fulfillment API, the predecessor whose codes
  this API took over: ``ResourceNotFound`` and ``ItemsNotInOrder`` (404) for an unknown order
  or item, ``ShipmentAlreadyExists`` (400, naming the label's ShipmentId) for items a label
  was already bought for, ``ShippingServiceOfferNotAvailable`` and
  ``InvalidShippingServiceOfferId`` (400), ``ShippingServiceNotAvailable`` (404),
  ``LabelFormatNotSupported`` (400), ``TermsAndConditionsNotAccepted`` (403), ``InvalidState``
  (404, e.g. cancelling a label twice), ``LabelCancelWindowExpired`` (400) and
  ``RegionNotSupported`` (404, an order of a marketplace outside Europe). Orders that are
  fulfilled by Amazon, pending or cancelled get 400 ``InvalidInput``. A ship-from country code
  longer than two letters gets the validation message of the model's own 400 example, and a
  shipment id that is not a UUID that of its ``getShipment`` example.
- **Buying a label confirms the shipment.** Amazon's guide to ``confirmShipment`` says there is
  no need to confirm a shipment whose label was bought through Buy Shipping, so the purchase
  adds a package (carrier code, tracking id, an Amazon shipment id) to the order and marks its
  units shipped, as ``confirmShipment`` would. Buying a second label for the same units is
  therefore refused with ``ShipmentAlreadyExists``, as MWS documents.
- **Labels** are real files: a one-page 10 × 15 cm PDF (carrier, service, tracking id,
  addresses, weight and an Interleaved 2 of 5 barcode of the tracking id's digits), a PNG of
  the frame and the same barcode, or ZPL (203 or 300 dpi) with a Code 128 barcode the printer
  draws. ``FileContents.Contents`` is the Base64 of the gzipped file and ``Checksum`` the
  Base64 MD5 of the gzipped bytes. Tracking ids have the carrier's format (DHL's 20 digits,
  UPS ``1Z…``, Royal Mail's S10 with check digit, …).
- **Cancelling** is allowed for 24 hours after the purchase (carriers' windows vary; the figure
  is the sandbox's choice). It moves the label to ``RefundPending`` and takes its package off
  the order again, so the units can get a new label (the plausible reading: a voided label
  ships nothing; unverified). An hour later at Amazon's pace — shortened by the time scale;
  the delay is the sandbox's choice — the refund is ``RefundApplied``. Refunds are never
  rejected: no carrier scans are simulated. A cancelled label's ``FileContents`` are empty, as
  the model says; unlike Amazon's own example the file type stays, because the model does not
  allow an empty one.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import re
import struct
import unicodedata
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field
from starlette.requests import Request

from sellerbridge.sandbox import spec
from sellerbridge.sandbox.catalog import EXCHANGE_RATES
from sellerbridge.sandbox.errors import ApiError, invalid_input, not_found
from sellerbridge.sandbox.framework import Api, Call, Reply, iso, parse_time
from sellerbridge.sandbox.generator import new_shipment_id
from sellerbridge.sandbox.marketplaces import BY_ID, EU_COUNTRIES
from sellerbridge.sandbox.order_records import (
    CENT,
    ZERO,
    FulfillmentStatus,
    Order,
    Package,
    PackageItem,
)

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox

api = Api()

OFFER_LIFETIME = timedelta(minutes=10)
CANCEL_WINDOW = timedelta(hours=24)
REFUND_SECONDS = 3600.0
LABEL_WIDTH_CM, LABEL_LENGTH_CM = 10, 15

GRAMS_PER_OUNCE = Decimal("28.349523125")
CM_PER_INCH = Decimal("2.54")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

EUROPE = EU_COUNTRIES | {"GB", "CH", "NO"}

ShipmentStatus = Literal["Purchased", "RefundPending", "RefundRejected", "RefundApplied"]

# --- carriers and their services -----------------------------------------------------------

TrackingFormat = Callable[[random.Random], str]


def _numeric(prefix: str, length: int) -> TrackingFormat:
    """Tracking ids of ``length`` characters: ``prefix`` and digits (DHL, DPD, Hermes, GLS)."""

    def make(random_: random.Random) -> str:
        return prefix + "".join(random_.choice("0123456789") for _ in range(length - len(prefix)))

    return make


def _s10(service: str, country: str) -> TrackingFormat:
    """The UPU S10 format of postal operators: two letters, 8 digits, a check digit, country."""

    def make(random_: random.Random) -> str:
        digits = [random_.randrange(10) for _ in range(8)]
        check = 11 - sum(d * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True)) % 11
        check = {10: 0, 11: 5}.get(check, check)
        return f"{service}{''.join(map(str, digits))}{check}{country}"

    return make


def _ups(random_: random.Random) -> str:
    """``1Z``, the six-character shipper number, the service code (11: Standard), 8 digits."""
    shipper = "".join(random_.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(6))
    return f"1Z{shipper}11" + "".join(random_.choice("0123456789") for _ in range(8))


@dataclass(frozen=True)
class Tariff:
    """A list price in EUR: ``base`` for the first kilogram, ``per_kg`` for each further one."""

    base: Decimal
    per_kg: Decimal
    min_days: int
    max_days: int


def _tariff(base: str, per_kg: str, min_days: int, max_days: int) -> Tariff:
    return Tariff(Decimal(base), Decimal(per_kg), min_days, max_days)


@dataclass(frozen=True)
class Service:
    service_id: str
    name: str
    carrier: str  # CarrierName, as Amazon shows it
    carrier_code: str  # the code of the order's package (order_records.CARRIER_CODES)
    origins: frozenset[str]
    domestic: Tariff | None
    international: Tariff | None  # to the rest of Europe
    max_grams: int
    max_sides_cm: tuple[int, int, int]  # longest, middle, shortest
    tracking: TrackingFormat
    signature: Decimal | None = None  # surcharge for DeliveryConfirmationWithSignature
    adult_signature: Decimal | None = None
    pickup: Decimal | None = None  # charge for CarrierWillPickUp; None: drop-off only
    pickup_points: bool = False  # delivers to Packstation and other parcel lockers
    prime_only: bool = False
    volumetric_divisor: int | None = None
    label_formats: tuple[str, ...] = ("PDF", "PNG", "ZPL203")
    default_format: str = "PDF"

    def tariff(self, origin: str, destination: str) -> Tariff | None:
        if origin not in self.origins:
            return None
        if destination == origin:
            return self.domestic
        return self.international if destination in EUROPE else None


D = Decimal
DE = frozenset({"DE"})
SERVICES: tuple[Service, ...] = (
    Service(
        "DHL_DE_PAKET", "DHL Paket", "DHL", "DHL", DE,
        _tariff("4.79", "0.35", 1, 2), _tariff("13.49", "0.60", 3, 6),
        31_500, (120, 60, 60), _numeric("00340434", 20),
        signature=D("0.00"), adult_signature=D("4.00"), pickup=D("3.50"), pickup_points=True,
    ),
    Service(
        "DHL_DE_PAKET_PRIO", "DHL Paket Prio", "DHL", "DHL", DE,
        _tariff("7.49", "0.35", 1, 1), None,
        31_500, (120, 60, 60), _numeric("00340434", 20),
        signature=D("0.00"), adult_signature=D("4.00"), pickup=D("3.50"), pickup_points=True,
        prime_only=True,
    ),
    Service(
        "DP_DE_WARENPOST", "Deutsche Post Warenpost", "Deutsche Post", "Deutsche Post", DE,
        _tariff("2.69", "0.00", 1, 3), None,
        1_000, (35, 25, 5), _s10("LX", "DE"), pickup_points=True,
    ),
    Service(
        "HERMES_DE_PAECKCHEN", "Hermes Päckchen", "Hermes", "Hermes Logistik Gruppe", DE,
        _tariff("3.79", "0.00", 2, 3), None,
        25_000, (37, 30, 10), _numeric("H", 20), signature=D("1.20"),
    ),
    Service(
        "HERMES_DE_PAKET", "Hermes Paket", "Hermes", "Hermes Logistik Gruppe", DE,
        _tariff("4.49", "0.25", 1, 3), None,
        25_000, (120, 60, 60), _numeric("H", 20), signature=D("1.20"),
    ),
    Service(
        "DPD_CLASSIC", "DPD Classic", "DPD", "DPD", EU_COUNTRIES,
        _tariff("4.59", "0.30", 1, 2), _tariff("11.99", "0.55", 2, 5),
        31_500, (175, 100, 100), _numeric("0", 14), signature=D("1.50"), pickup=D("3.00"),
    ),
    Service(
        "GLS_BUSINESSPARCEL", "GLS BusinessParcel", "GLS", "GLS", EU_COUNTRIES,
        _tariff("4.39", "0.28", 1, 2), _tariff("10.90", "0.50", 2, 5),
        40_000, (200, 80, 60), _numeric("", 11), signature=D("1.40"), pickup=D("3.00"),
    ),
    Service(
        "UPS_STANDARD", "UPS Standard", "UPS", "UPS", EUROPE,
        _tariff("6.90", "0.45", 1, 2), _tariff("14.90", "0.95", 2, 4),
        70_000, (274, 150, 150), _ups,
        signature=D("2.90"), adult_signature=D("5.50"), pickup=D("2.50"),
        volumetric_divisor=5000, label_formats=("PDF", "PNG", "ZPL203", "ZPL300"),
        default_format="PNG",
    ),
    Service(
        "RM_TRACKED_24", "Royal Mail Tracked 24", "Royal Mail", "Royal Mail", frozenset({"GB"}),
        _tariff("4.60", "0.40", 1, 2), None,
        20_000, (61, 46, 46), _s10("TT", "GB"), signature=D("1.75"), pickup=D("0.80"),
        default_format="PNG",
    ),
    Service(
        "RM_TRACKED_48", "Royal Mail Tracked 48", "Royal Mail", "Royal Mail", frozenset({"GB"}),
        _tariff("3.70", "0.35", 2, 3), None,
        20_000, (61, 46, 46), _s10("TT", "GB"), signature=D("1.75"), pickup=D("0.80"),
        default_format="PNG",
    ),
    Service(
        "RM_INTERNATIONAL_TRACKED", "Royal Mail International Tracked", "Royal Mail",
        "Royal Mail", frozenset({"GB"}),
        None, _tariff("12.80", "6.50", 3, 7),
        2_000, (61, 46, 46), _s10("LX", "GB"), signature=D("0.00"), default_format="PNG",
    ),
    Service(
        "DPD_UK_NEXT_DAY", "DPD Next Day", "DPD", "DPD", frozenset({"GB"}),
        _tariff("7.49", "0.25", 1, 1), None,
        30_000, (100, 70, 60), _numeric("15", 14), signature=D("0.00"), pickup=D("0.00"),
    ),
    Service(
        "COLISSIMO_FR", "Colissimo", "Colissimo", "La Poste", frozenset({"FR"}),
        _tariff("5.99", "0.40", 2, 3), _tariff("14.80", "0.90", 3, 6),
        30_000, (100, 50, 50), _numeric("6A", 13), signature=D("1.30"),
    ),
    Service(
        "CHRONOPOST_13", "Chrono 13", "Chronopost", "Chronopost", frozenset({"FR"}),
        _tariff("9.90", "0.50", 1, 1), None,
        30_000, (150, 100, 100), _s10("XA", "FR"), signature=D("0.00"), pickup=D("4.00"),
    ),
    Service(
        "POSTE_IT_DELIVERY_BUSINESS", "Poste Delivery Business", "Poste Italiane",
        "Poste Italiane", frozenset({"IT"}),
        _tariff("6.50", "0.40", 1, 3), None,
        30_000, (150, 80, 80), _s10("CP", "IT"), signature=D("1.00"),
    ),
    Service(
        "SEUR_24", "SEUR 24", "SEUR", "Seur", frozenset({"ES"}),
        _tariff("6.20", "0.35", 1, 1), None,
        40_000, (175, 100, 100), _numeric("0", 14), signature=D("0.00"), pickup=D("2.50"),
    ),
    Service(
        "CORREOS_PAQ_PREMIUM", "Correos Paq Premium", "Correos", "Correos", frozenset({"ES"}),
        _tariff("5.40", "0.30", 1, 2), None,
        30_000, (120, 60, 60), _s10("PQ", "ES"), signature=D("1.00"),
    ),
)  # fmt: skip
SERVICES_BY_ID = {service.service_id: service for service in SERVICES}
CARRIERS = frozenset(service.carrier for service in SERVICES)


# --- state ---------------------------------------------------------------------------------


class Quote(BaseModel):
    """One service's price and dates for one set of shipment details."""

    service_id: str
    rate: Decimal
    currency: str
    ship_date: datetime
    earliest_delivery: datetime
    latest_delivery: datetime
    options: dict[str, Any]  # the request's ShippingServiceOptions, echoed


class Offer(BaseModel):
    offer_id: str
    seller_id: str
    order_id: str
    request_key: str  # the shipment details the offer was made for
    expires_at: datetime
    quote: Quote


class Label(BaseModel):
    label_format: str  # PDF, PNG, ZPL203, ZPL300
    file_type: str
    contents: str  # Base64 of the gzipped file
    checksum: str  # Base64 MD5 of the gzipped file
    custom_text: str | None = None
    standard_id: str | None = None


class MfnShipment(BaseModel):
    """A label bought with ``createShipment``."""

    shipment_id: str
    seller_id: str
    order_id: str
    seller_order_id: str | None
    items: list[dict[str, Any]]  # the request's ItemList, echoed
    ship_from: dict[str, Any]
    ship_to: dict[str, str]
    package_dimensions: dict[str, Any]
    weight: dict[str, Any]
    insurance: Decimal
    offer_id: str
    quote: Quote
    label: Label
    status: ShipmentStatus = "Purchased"
    tracking_id: str
    package_reference_id: str  # of the package the purchase added to the order
    created_at: datetime
    updated_at: datetime


class CarrierSettings(BaseModel):
    """Carriers a seller cannot use at the moment (set through the admin API)."""

    temporarily_unavailable: list[str] = Field(default_factory=list)
    terms_not_accepted: list[str] = Field(default_factory=list)


class MfnState(BaseModel):
    shipments: dict[str, MfnShipment] = Field(default_factory=dict)
    offers: dict[str, Offer] = Field(default_factory=dict)
    refunds_due: dict[str, datetime] = Field(default_factory=dict)
    """Cancelled labels (by ShipmentId) and when their refund is applied."""
    carriers: dict[str, CarrierSettings] = Field(default_factory=dict)  # by seller id


def setup(sandbox: Sandbox) -> None:
    sandbox.on_advance(_apply_refunds)


def _apply_refunds(sandbox: Sandbox, now: datetime) -> None:
    state = sandbox.state.mfn
    for shipment_id, due in list(state.refunds_due.items()):
        if due <= now:
            shipment = state.shipments[shipment_id]
            shipment.status = "RefundApplied"
            shipment.updated_at = due
            del state.refunds_due[shipment_id]


# --- reading a request ---------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentDetails:
    """A checked ``ShipmentRequestDetails``, in the units the sandbox computes with."""

    order: Order
    items: dict[str, int]  # order item id -> units
    grams: Decimal
    sides_cm: tuple[Decimal, Decimal, Decimal]  # longest first
    origin: str
    ship_from: dict[str, Any]
    options: dict[str, Any]
    declared_value: Decimal | None
    ship_date: datetime
    must_arrive_by: datetime | None
    key: str

    @property
    def destination(self) -> str:
        return self.order.shipping_address.country_code

    @property
    def delivery_experience(self) -> str:
        return str(self.options["DeliveryExperience"])

    @property
    def carrier_will_pick_up(self) -> bool:
        return bool(self.options["CarrierWillPickUp"])


def _order(call: Call, order_id: str) -> Order:
    order = call.sandbox.state.orders.orders.get(order_id)
    if order is None or order.seller_id != call.seller.seller_id:
        raise ApiError(404, "ResourceNotFound", f"The order {order_id} does not exist.")
    if BY_ID[order.marketplace_id].region != "EU":
        raise ApiError(
            404, "RegionNotSupported",
            f"The order {order_id} is from a marketplace this sandbox offers no shipping in.",
        )  # fmt: skip
    if order.fulfilled_by == "AMAZON":
        raise invalid_input(
            f"The order {order_id} is fulfilled by Amazon; Buy Shipping is for orders the "
            "seller fulfils."
        )
    if order.status in (FulfillmentStatus.PENDING, FulfillmentStatus.CANCELLED):
        raise invalid_input(f"The order {order_id} is {order.status.value} and cannot be shipped.")
    return order


def _items(call: Call, order: Order, item_list: list[dict[str, Any]]) -> dict[str, int]:
    if not item_list:
        raise invalid_input("ItemList must name at least one order item.")
    wanted: dict[str, int] = {}
    for entry in item_list:
        if entry["Quantity"] < 1:
            raise invalid_input(f"The quantity of item {entry['OrderItemId']} must be at least 1.")
        wanted[entry["OrderItemId"]] = wanted.get(entry["OrderItemId"], 0) + entry["Quantity"]
    unknown = [item_id for item_id in wanted if order.item(item_id) is None]
    if unknown:
        raise ApiError(
            404, "ItemsNotInOrder",
            f"The items {', '.join(unknown)} are not part of the order {order.order_id}.",
        )  # fmt: skip
    labelled = _labelled_items(call, order)
    for item_id, quantity in wanted.items():
        item = order.item(item_id)
        if item is None or quantity <= item.quantity_unshipped:
            continue
        if item_id in labelled:
            raise ApiError(
                400, "ShipmentAlreadyExists",
                f"Item {item_id} has already shipped with ShipmentId "
                f"{', '.join(labelled[item_id])}. Specify only unshipped items.",
            )  # fmt: skip
        raise invalid_input(
            f"Only {item.quantity_unshipped} of {item.quantity} units of item {item_id} are "
            f"unshipped; {quantity} were given."
        )
    return wanted


def _labelled_items(call: Call, order: Order) -> dict[str, list[str]]:
    """The ShipmentIds of the live labels covering each item of ``order``."""
    labelled: dict[str, list[str]] = {}
    for shipment in call.sandbox.state.mfn.shipments.values():
        if shipment.order_id == order.order_id and shipment.status == "Purchased":
            for entry in shipment.items:
                labelled.setdefault(entry["OrderItemId"], []).append(shipment.shipment_id)
    return labelled


def _grams(weight: dict[str, Any]) -> Decimal:
    value = Decimal(str(weight["Value"]))
    if value <= 0:
        raise invalid_input("The package Weight must be greater than 0.")
    return value * GRAMS_PER_OUNCE if weight["Unit"] == "oz" else value


@dataclass(frozen=True)
class _Box:
    sides: tuple[Decimal, Decimal, Decimal]
    unit: str


def _predefined_boxes() -> dict[str, _Box]:
    """The model's predefined packages with the sizes its documentation table states."""
    boxes: dict[str, _Box] = {}
    table = spec.model("mfn")["definitions"]["PredefinedPackageDimensions"]
    for row in table["x-docgen-enum-table-extension"]:
        numbers, unit = row["description"].rsplit(" ", 1)
        sides = tuple(Decimal(part.strip()) for part in numbers.split("x"))
        boxes[row["value"]] = _Box(
            (sides[0], sides[1], sides[2]), "inches" if unit.startswith("in") else "centimeters"
        )
    return boxes


PREDEFINED_BOXES = _predefined_boxes()


def _sides_cm(dimensions: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    predefined = dimensions.get("PredefinedPackageDimensions")
    if predefined is not None:
        box = PREDEFINED_BOXES[predefined]
        sides, unit = box.sides, box.unit
    else:
        try:
            sides = (
                Decimal(str(dimensions["Length"])),
                Decimal(str(dimensions["Width"])),
                Decimal(str(dimensions["Height"])),
            )
            unit = dimensions["Unit"]
        except KeyError:
            raise invalid_input(
                "PackageDimensions needs Length, Width, Height and Unit, or "
                "PredefinedPackageDimensions."
            ) from None
    if any(side <= 0 for side in sides):
        raise invalid_input("Every package dimension must be greater than 0.")
    factor = CM_PER_INCH if unit == "inches" else Decimal(1)
    longest, middle, shortest = sorted((side * factor for side in sides), reverse=True)
    return longest, middle, shortest


def _details(call: Call, details: dict[str, Any]) -> ShipmentDetails:
    """Check ``ShipmentRequestDetails`` against the order, as Amazon does before rating."""
    ship_from = details["ShipFromAddress"]
    if len(ship_from["CountryCode"]) > 2:
        raise invalid_input(
            f"1 validation error detected: Value '{ship_from['CountryCode']}' at "
            "'shipmentRequestDetails.shipFromAddress.countryCode' failed to satisfy constraint: "
            "Member must have length less than or equal to 2"
        )
    order = _order(call, details["AmazonOrderId"])
    items = _items(call, order, details["ItemList"])
    grams = _grams(details["Weight"])
    sides = _sides_cm(details["PackageDimensions"])
    options = details["ShippingServiceOptions"]
    declared = options.get("DeclaredValue")
    if declared is not None and declared["CurrencyCode"] != order.currency:
        raise invalid_input(
            f"DeclaredValue must be in the order's currency {order.currency}, "
            f"not {declared['CurrencyCode']}."
        )
    requested_ship_date = details.get("ShipDate")
    ship_date = call.now
    if requested_ship_date:
        ship_date = max(parse_time(requested_ship_date, "ShipDate"), call.now)
    must_arrive_by = details.get("MustArriveByDate")
    key = json.dumps(
        {
            "order": order.order_id,
            "items": sorted(items.items()),
            "grams": str(grams.quantize(Decimal(1))),
            "sides": [str(side.quantize(Decimal("0.1"))) for side in sides],
            "from": [ship_from["CountryCode"].upper(), ship_from["PostalCode"]],
            "experience": options["DeliveryExperience"],
            "pickup": options["CarrierWillPickUp"],
            "declared": declared and declared["Amount"],
            "ship_date": requested_ship_date,
        },
        sort_keys=True,
    )
    return ShipmentDetails(
        order=order,
        items=items,
        grams=grams,
        sides_cm=sides,
        origin=ship_from["CountryCode"].upper(),
        ship_from=ship_from,
        options=options,
        declared_value=None if declared is None else Decimal(str(declared["Amount"])),
        ship_date=ship_date,
        must_arrive_by=parse_time(must_arrive_by, "MustArriveByDate") if must_arrive_by else None,
        key=key,
    )


# --- rating ----------------------------------------------------------------------------------


def _money(amount_eur: Decimal, currency: str) -> Decimal:
    return (amount_eur * EXCHANGE_RATES[currency]).quantize(CENT, ROUND_HALF_UP)


def _amount(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"CurrencyCode": currency, "Amount": float(amount)}


def _experience_charge(service: Service, experience: str) -> Decimal | None:
    """What ``experience`` costs with ``service``; ``None`` when the service lacks it."""
    return {
        "DeliveryConfirmationWithoutSignature": ZERO,
        "DeliveryConfirmationWithSignature": service.signature,
        "DeliveryConfirmationWithAdultSignature": service.adult_signature,
    }.get(experience)


def _working_day(day: datetime) -> datetime:
    """``day``, or the Monday after it if it falls on a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _business_days_after(start: datetime, days: int) -> datetime:
    day = _working_day(start)
    for _ in range(days):
        day = _working_day(day + timedelta(days=1))
    return day


def _rejection(
    service: Service, tariff: Tariff, request: ShipmentDetails, latest: datetime
) -> tuple[str, str] | None:
    """Why ``service`` cannot take this package (reason code, message), if it cannot."""
    kg = (request.grams / 1000).quantize(Decimal("0.001"))
    checks = (
        (
            request.order.shipping_address.address_type == "PICKUP_POINT"
            and not service.pickup_points,
            "CARRIER_CANNOT_SHIP_TO_PICKUP_POINT",
            f"{service.carrier} does not deliver to Packstations or other pickup points.",
        ),
        (
            request.grams > service.max_grams,
            "PACKAGE_EXCEEDS_WEIGHT_LIMIT",
            f"{service.name} takes packages up to {Decimal(service.max_grams) / 1000} kg; "
            f"this one weighs {kg} kg.",
        ),
        (
            any(s > limit for s, limit in zip(request.sides_cm, service.max_sides_cm, strict=True)),
            "PACKAGE_EXCEEDS_SIZE_LIMIT",
            f"{service.name} takes packages up to {' x '.join(map(str, service.max_sides_cm))} cm.",
        ),
        (
            _experience_charge(service, request.delivery_experience) is None,
            "DELIVERY_EXPERIENCE_NOT_SUPPORTED",
            f"{service.name} does not offer {request.delivery_experience}.",
        ),
        (
            request.carrier_will_pick_up and service.pickup is None,
            "CARRIER_PICKUP_NOT_AVAILABLE",
            f"{service.carrier} does not collect {service.name} packages.",
        ),
        (
            request.must_arrive_by is not None and latest > request.must_arrive_by,
            "CANNOT_MEET_MUST_ARRIVE_BY_DATE",
            f"{service.name} delivers in up to {tariff.max_days} business days, after the "
            "MustArriveByDate.",
        ),
    )
    return next(((code, message) for failed, code, message in checks if failed), None)


def _billable_kg(service: Service, request: ShipmentDetails) -> Decimal:
    kg = request.grams / 1000
    if service.volumetric_divisor is not None:
        longest, middle, shortest = request.sides_cm
        kg = max(kg, longest * middle * shortest / service.volumetric_divisor)
    return max(Decimal(1), kg.to_integral_value(ROUND_CEILING))


def _quote(service: Service, tariff: Tariff, request: ShipmentDetails) -> Quote:
    rate_eur = tariff.base + tariff.per_kg * (_billable_kg(service, request) - 1)
    rate_eur += _experience_charge(service, request.delivery_experience) or ZERO
    if request.carrier_will_pick_up:
        rate_eur += service.pickup or ZERO
    ship_date = _working_day(request.ship_date)
    earliest = _business_days_after(ship_date, tariff.min_days)
    latest = _business_days_after(ship_date, tariff.max_days)
    return Quote(
        service_id=service.service_id,
        rate=_money(rate_eur, request.order.currency),
        currency=request.order.currency,
        ship_date=ship_date,
        earliest_delivery=datetime.combine(earliest.date(), time(7), UTC),
        latest_delivery=datetime.combine(latest.date(), time(20), UTC),
        options=request.options,
    )


def _service_body(quote: Quote, offer_id: str) -> dict[str, Any]:
    """A ``ShippingService`` as the model describes it."""
    service = SERVICES_BY_ID[quote.service_id]
    currency = quote.currency
    rate = _amount(quote.rate, currency)
    experiences = [
        {
            "DeliveryExperienceOption": experience,
            "Charge": _amount(_money(charge, currency), currency),
        }
        for experience in (
            "DeliveryConfirmationWithoutSignature",
            "DeliveryConfirmationWithSignature",
            "DeliveryConfirmationWithAdultSignature",
        )
        if (charge := _experience_charge(service, experience)) is not None
    ]
    pickups = [{"CarrierWillPickUpOption": "ShipperWillDropOff", "Charge": _amount(ZERO, currency)}]
    if service.pickup is not None:
        pickups.append(
            {
                "CarrierWillPickUpOption": "CarrierWillPickUp",
                "Charge": _amount(_money(service.pickup, currency), currency),
            }
        )
    return {
        "ShippingServiceName": service.name,
        "CarrierName": service.carrier,
        "ShippingServiceId": service.service_id,
        "ShippingServiceOfferId": offer_id,
        "ShipDate": iso(quote.ship_date),
        "EarliestEstimatedDeliveryDate": iso(quote.earliest_delivery),
        "LatestEstimatedDeliveryDate": iso(quote.latest_delivery),
        "Rate": rate,
        "RateWithAdjustments": rate,
        "ShippingServiceOptions": quote.options,
        "AvailableShippingServiceOptions": {
            "AvailableCarrierWillPickUpOptions": pickups,
            "AvailableDeliveryExperienceOptions": experiences,
        },
        "AvailableLabelFormats": [*service.label_formats, "ShippingServiceDefault"],
        "AvailableFormatOptionsForLabel": [
            {"LabelFormat": label_format}
            for label_format in (*service.label_formats, "ShippingServiceDefault")
        ],
        "RequiresAdditionalSellerInputs": False,
        "Benefits": {"IncludedBenefits": ["CLAIMS_PROTECTED"], "ExcludedBenefits": []},
    }


def _filtered_out(service: Service, offering: dict[str, Any]) -> bool:
    """Whether ``ShippingOfferingFilter`` leaves ``service`` out of the answer."""
    experience = offering.get("DeliveryExperience", "NoPreference")
    if experience != "NoPreference" and _experience_charge(service, experience) is None:
        return True
    return offering.get("CarrierWillPickUp") == "CarrierWillPickUp" and service.pickup is None


@api.operation("mfn.getEligibleShipmentServices")
def get_eligible_shipment_services(call: Call) -> Reply:
    request = _details(call, call.body["ShipmentRequestDetails"])
    offering = call.body.get("ShippingOfferingFilter", {})
    state = call.sandbox.state.mfn
    for offer_id in [o.offer_id for o in state.offers.values() if o.expires_at <= call.now]:
        del state.offers[offer_id]
    settings = state.carriers.get(call.seller.seller_id, CarrierSettings())
    offered: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    unavailable: dict[str, None] = {}  # carrier names in order, once each
    terms: dict[str, None] = {}
    for service in SERVICES:
        tariff = service.tariff(request.origin, request.destination)
        if tariff is None or (service.prime_only and not request.order.is_prime):
            continue
        if _filtered_out(service, offering):
            continue
        if service.carrier in settings.terms_not_accepted:
            terms[service.carrier] = None
            continue
        if service.carrier in settings.temporarily_unavailable:
            unavailable[service.carrier] = None
            continue
        quote = _quote(service, tariff, request)
        reason = _rejection(service, tariff, request, quote.latest_delivery)
        if reason is not None:
            rejected.append(
                {
                    "CarrierName": service.carrier,
                    "ShippingServiceName": service.name,
                    "ShippingServiceId": service.service_id,
                    "RejectionReasonCode": reason[0],
                    "RejectionReasonMessage": reason[1],
                }
            )
            continue
        offer = Offer(
            offer_id=base64.b64encode(call.sandbox.random.randbytes(96)).decode("ascii"),
            seller_id=call.seller.seller_id,
            order_id=request.order.order_id,
            request_key=request.key,
            expires_at=call.now + OFFER_LIFETIME,
            quote=quote,
        )
        state.offers[offer.offer_id] = offer
        offered.append(_service_body(quote, offer.offer_id))
    offered.sort(key=lambda service: service["Rate"]["Amount"])
    payload = {
        "ShippingServiceList": offered,
        "RejectedShippingServiceList": rejected,
        "TemporarilyUnavailableCarrierList": [{"CarrierName": name} for name in unavailable],
        "TermsAndConditionsNotAcceptedCarrierList": [{"CarrierName": name} for name in terms],
    }
    return Reply(body={"payload": payload})


# --- buying a label ------------------------------------------------------------------------


def _offer(call: Call, request: ShipmentDetails, service: Service, offer_id: str | None) -> Offer:
    state = call.sandbox.state.mfn
    offer: Offer | None
    if offer_id is not None:
        offer = state.offers.get(offer_id)
        if offer is None or offer.seller_id != call.seller.seller_id:
            raise ApiError(
                400, "InvalidShippingServiceOfferId",
                "The ShippingServiceOfferId is not one getEligibleShipmentServices returned.",
            )  # fmt: skip
        if offer.quote.service_id != service.service_id or offer.order_id != request.order.order_id:
            raise ApiError(
                400, "InvalidShippingServiceOfferId",
                f"The ShippingServiceOfferId is an offer of {offer.quote.service_id} for order "
                f"{offer.order_id}.",
            )  # fmt: skip
    else:
        offer = max(
            (
                o for o in state.offers.values()
                if o.seller_id == call.seller.seller_id and o.order_id == request.order.order_id
                and o.quote.service_id == service.service_id and o.request_key == request.key
            ),
            key=lambda o: o.expires_at,
            default=None,
        )  # fmt: skip
        if offer is None:
            raise ApiError(
                400, "ShippingServiceOfferNotAvailable",
                f"There is no offer of {service.service_id} for these shipment details: call "
                "getEligibleShipmentServices first.",
            )  # fmt: skip
    if offer.expires_at <= call.now:
        raise ApiError(
            400, "ShippingServiceOfferNotAvailable",
            "The shipping service offer has expired. Call getEligibleShipmentServices again.",
        )  # fmt: skip
    if offer.request_key != request.key:
        raise ApiError(
            400, "ShippingServiceOfferNotAvailable",
            "The ShipmentRequestDetails differ from those the offer was made for. Call "
            "getEligibleShipmentServices again.",
        )  # fmt: skip
    return offer


def _check_carrier(call: Call, service: Service) -> None:
    settings = call.sandbox.state.mfn.carriers.get(call.seller.seller_id, CarrierSettings())
    if service.carrier in settings.terms_not_accepted:
        raise ApiError(
            403, "TermsAndConditionsNotAccepted",
            f"The seller has not accepted the terms and conditions of {service.carrier}.",
        )  # fmt: skip
    if service.carrier in settings.temporarily_unavailable:
        raise ApiError(
            400, "ShippingServiceOfferNotAvailable",
            f"{service.carrier} is temporarily unavailable.",
        )  # fmt: skip


def _label_format(service: Service, options: dict[str, Any]) -> str:
    requested = options.get("LabelFormat", "ShippingServiceDefault")
    label_format = service.default_format if requested == "ShippingServiceDefault" else requested
    if label_format not in service.label_formats:
        raise ApiError(
            400, "LabelFormatNotSupported",
            f"{service.name} labels come as {', '.join(service.label_formats)}, not {requested}.",
        )  # fmt: skip
    return str(label_format)


def _ship_to(order: Order) -> dict[str, str]:
    """The order's address in the model's ``Address``, cut to its maximum lengths."""
    address = order.shipping_address
    body = {
        "Name": address.name[:30],
        "AddressLine1": address.line1[:180],
        "City": address.city[:30],
        "PostalCode": address.postal_code[:30],
        "CountryCode": address.country_code,
        "Email": order.buyer_email,
        "Phone": (address.phone or "")[:30],
    }
    optional = {
        "AddressLine2": (address.line2, 60),
        "AddressLine3": (address.line3, 60),
        "DistrictOrCounty": (address.district, 60),
        "StateOrProvinceCode": (address.state_or_region, 30),
    }
    body.update({name: value[:limit] for name, (value, limit) in optional.items() if value})
    return body


def _insurance(request: ShipmentDetails) -> Decimal:
    """The declared value, else the sale price of the units in the package."""
    if request.declared_value is not None:
        return request.declared_value
    total = ZERO
    for item_id, quantity in request.items.items():
        item = request.order.item(item_id)
        if item is not None:
            total += item.unit_price * quantity
    return total


def _next_package_reference(order: Order) -> str:
    numbers = [
        int(p.package_reference_id) for p in order.packages if p.package_reference_id.isdigit()
    ]
    return str(max(numbers, default=0) + 1)


@api.operation("mfn.createShipment", restricted=True)
def create_shipment(call: Call) -> Reply:
    service = SERVICES_BY_ID.get(call.body["ShippingServiceId"])
    if service is None:
        raise ApiError(
            404, "ShippingServiceNotAvailable",
            f"The shipping service {call.body['ShippingServiceId']} does not exist.",
        )  # fmt: skip
    details = call.body["ShipmentRequestDetails"]
    request = _details(call, details)
    offer = _offer(call, request, service, call.body.get("ShippingServiceOfferId"))
    _check_carrier(call, service)
    label_format = _label_format(service, request.options)
    random_ = call.sandbox.random
    shipment_id = str(uuid.UUID(int=random_.getrandbits(128), version=4))
    tracking_id = service.tracking(random_)
    order = request.order
    label = _label(
        label_format, service, tracking_id, request, details.get("LabelCustomization", {})
    )
    package_reference_id = _next_package_reference(order)
    order.add_package(
        Package(
            package_reference_id=package_reference_id,
            shipment_id=new_shipment_id(random_),
            carrier_code=service.carrier_code,
            carrier_name=service.carrier,
            shipping_method=service.name,
            tracking_number=tracking_id,
            ship_date=offer.quote.ship_date,
            created_at=call.now,
            items=[PackageItem(order_item_id=i, quantity=q) for i, q in request.items.items()],
        )
    )
    shipment = MfnShipment(
        shipment_id=shipment_id,
        seller_id=call.seller.seller_id,
        order_id=order.order_id,
        seller_order_id=details.get("SellerOrderId") or order.seller_order_id,
        items=details["ItemList"],
        ship_from=details["ShipFromAddress"],
        ship_to=_ship_to(order),
        package_dimensions=details["PackageDimensions"],
        weight=details["Weight"],
        insurance=_insurance(request),
        offer_id=offer.offer_id,
        quote=offer.quote.model_copy(update={"options": request.options}),
        label=label,
        tracking_id=tracking_id,
        package_reference_id=package_reference_id,
        created_at=call.now,
        updated_at=call.now,
    )
    state = call.sandbox.state.mfn
    state.shipments[shipment_id] = shipment
    del state.offers[offer.offer_id]  # an offer buys one label
    return Reply(body={"payload": _shipment_body(shipment)})


def _shipment_body(shipment: MfnShipment) -> dict[str, Any]:
    """A ``Shipment``; a cancelled one has an empty label, as the model says."""
    live = shipment.status == "Purchased"
    label: dict[str, Any] = {
        "Dimensions": {"Length": LABEL_LENGTH_CM, "Width": LABEL_WIDTH_CM, "Unit": "centimeters"},
        "FileContents": {
            "Contents": shipment.label.contents if live else "",
            "FileType": shipment.label.file_type,
            "Checksum": shipment.label.checksum if live else "",
        },
        "LabelFormat": shipment.label.label_format,
    }
    if shipment.label.custom_text:
        label["CustomTextForLabel"] = shipment.label.custom_text
    if shipment.label.standard_id:
        label["StandardIdForLabel"] = shipment.label.standard_id
    body: dict[str, Any] = {
        "ShipmentId": shipment.shipment_id,
        "AmazonOrderId": shipment.order_id,
        "ItemList": shipment.items,
        "ShipFromAddress": shipment.ship_from,
        "ShipToAddress": shipment.ship_to,
        "PackageDimensions": shipment.package_dimensions,
        "Weight": shipment.weight,
        "Insurance": _amount(shipment.insurance, shipment.quote.currency),
        "ShippingService": _service_body(shipment.quote, shipment.offer_id),
        "Label": label,
        "Status": shipment.status,
        "TrackingId": shipment.tracking_id,
        "CreatedDate": iso(shipment.created_at),
        "LastUpdatedDate": iso(shipment.updated_at),
    }
    if shipment.seller_order_id:
        body["SellerOrderId"] = shipment.seller_order_id
    return body


def _owned_shipment(call: Call) -> MfnShipment:
    shipment_id = call.path["shipmentId"]
    if not _UUID.fullmatch(shipment_id):
        raise invalid_input(
            f"1 validation error detected: Value '{shipment_id}' at 'shipmentId' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: {_UUID.pattern}"
        )
    shipment = call.sandbox.state.mfn.shipments.get(shipment_id.lower())
    if shipment is None or shipment.seller_id != call.seller.seller_id:
        raise ApiError(404, "ResourceNotFound", f"The shipment {shipment_id} does not exist.")
    return shipment


@api.operation("mfn.getShipment", restricted=True)
def get_shipment(call: Call) -> Reply:
    return Reply(body={"payload": _shipment_body(_owned_shipment(call))})


@api.operation("mfn.cancelShipment", restricted=True)
def cancel_shipment(call: Call) -> Reply:
    shipment = _owned_shipment(call)
    if shipment.status != "Purchased":
        raise ApiError(
            404, "InvalidState",
            f"The shipment {shipment.shipment_id} is {shipment.status} and cannot be cancelled.",
        )  # fmt: skip
    if call.now - shipment.created_at > CANCEL_WINDOW:
        raise ApiError(
            400, "LabelCancelWindowExpired",
            f"Labels can be cancelled for {CANCEL_WINDOW.total_seconds() / 3600:.0f} hours "
            f"after purchase; this one was bought at {iso(shipment.created_at)}.",
        )  # fmt: skip
    state = call.sandbox.state
    state.orders.orders[shipment.order_id].remove_package(shipment.package_reference_id, call.now)
    shipment.status = "RefundPending"
    shipment.updated_at = call.now
    state.mfn.refunds_due[shipment.shipment_id] = call.sandbox.due(call.now, REFUND_SECONDS)
    return Reply(body={"payload": _shipment_body(shipment)})


# --- labels ----------------------------------------------------------------------------------


def _describe(address: dict[str, Any]) -> list[str]:
    city = f"{address.get('PostalCode', '')} {address.get('City', '')}".strip()
    lines = [address.get("Name", ""), address.get("AddressLine1", "")]
    lines += [address[key] for key in ("AddressLine2", "AddressLine3") if address.get(key)]
    return [line for line in (*lines, city, address.get("CountryCode", "")) if line]


def _label(
    label_format: str,
    service: Service,
    tracking_id: str,
    request: ShipmentDetails,
    customization: dict[str, Any],
) -> Label:
    """The label file: carrier, tracking id, both addresses, weight and a barcode."""
    standard_id = customization.get("StandardIdForLabel")
    custom_text = customization.get("CustomTextForLabel") if label_format != "PDF" else None
    lines = [
        f"{service.carrier} - {service.name}",
        f"Tracking: {tracking_id}",
        "",
        "FROM:",
        *_describe(request.ship_from),
        "",
        "TO:",
        *_describe(_ship_to(request.order)),
        "",
        f"Weight: {(request.grams / 1000).quantize(Decimal('0.01'))} kg",
    ]
    if standard_id == "AmazonOrderId":
        lines.append(f"Order: {request.order.order_id}")
    if label_format == "PDF":
        data, file_type = _pdf(lines, tracking_id), "application/pdf"
    elif label_format == "PNG":
        data, file_type = _png(tracking_id), "image/png"
    else:
        dots_per_mm = 12 if label_format == "ZPL300" else 8
        data, file_type = _zpl(lines, tracking_id, custom_text, dots_per_mm), "application/zpl"
    packed = gzip.compress(data, mtime=0)
    return Label(
        label_format=label_format,
        file_type=file_type,
        contents=base64.b64encode(packed).decode("ascii"),
        checksum=base64.b64encode(hashlib.md5(packed, usedforsecurity=False).digest()).decode(
            "ascii"
        ),
        custom_text=custom_text if label_format.startswith("ZPL") else None,
        standard_id=standard_id,
    )


# Interleaved 2 of 5: each digit is five elements, two of them wide.
_ITF = {
    "0": "nnwwn", "1": "wnnnw", "2": "nwnnw", "3": "wwnnn", "4": "nnwnw",
    "5": "wnwnn", "6": "nwwnn", "7": "nnnww", "8": "wnnwn", "9": "nwnwn",
}  # fmt: skip


def _itf_bars(text: str) -> tuple[list[tuple[int, int]], int]:
    """The bars (start, width in modules) of an ITF barcode of ``text``'s digits, and its width."""
    digits = "".join(c for c in text if c.isdigit()) or "0"
    digits = digits if len(digits) % 2 == 0 else "0" + digits
    widths = [1, 1, 1, 1]  # start: narrow bar, space, bar, space
    for first, second in zip(digits[0::2], digits[1::2], strict=True):
        for bar, space in zip(_ITF[first], _ITF[second], strict=True):
            widths += [3 if bar == "w" else 1, 3 if space == "w" else 1]
    widths += [3, 1, 1]  # stop: wide bar, space, narrow bar
    bars: list[tuple[int, int]] = []
    position = 0
    for index, width in enumerate(widths):
        if index % 2 == 0:
            bars.append((position, width))
        position += width
    return bars, position


_UNDECOMPOSABLE = str.maketrans("ŁłĐđĦħıŦŧ", "LlDdHhiTt")


def _winansi(character: str) -> str:
    """``character`` if WinAnsiEncoding has it, else its letter without the accent (or ?)."""
    try:
        character.encode("cp1252")
    except UnicodeEncodeError:
        base = unicodedata.normalize("NFKD", character.translate(_UNDECOMPOSABLE))
        return base.encode("ascii", "ignore").decode() or "?"
    return character


def _pdf_text(text: str) -> str:
    """``text`` as the inside of a PDF string in WinAnsiEncoding."""
    plain = "".join(_winansi(character) for character in text)
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _pdf(lines: list[str], tracking_id: str) -> bytes:
    width, height = 283.46, 425.2  # 10 x 15 cm in points
    ops = ["0.8 w 10 10 263.46 405.2 re S", "BT /F1 10 Tf 13 TL 22 398 Td"]
    ops += [f"({_pdf_text(line)}) Tj T*" for line in lines]
    ops.append("ET")
    bars, modules = _itf_bars(tracking_id)
    module = 240 / modules
    ops += [f"{22 + start * module:.2f} 30 {size * module:.2f} 70 re f" for start, size in bars]
    stream = "\n".join(ops).encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(stream)} >>\nstream\n".encode("ascii") + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    out += b"".join(f"{offset:010d} 00000 n \n".encode("ascii") for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode("ascii")
    out += f"startxref\n{xref}\n%%EOF\n".encode("ascii")
    return bytes(out)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(tracking_id: str) -> bytes:
    """A 400 x 600 grey-scale label image (10 x 15 cm at 100 dpi): frame and barcode."""
    width, height, border = 400, 600, 6
    bars, modules = _itf_bars(tracking_id)
    module = max(1, 360 // modules)
    left = (width - modules * module) // 2
    plain = bytearray(b"\xff" * width)
    plain[:border] = plain[-border:] = b"\x00" * border
    bar_row = bytearray(plain)
    for start, size in bars:
        bar_row[left + start * module : left + (start + size) * module] = b"\x00" * (size * module)
    frame = b"\x00" * width

    def row(y: int) -> bytes:
        if y < border or y >= height - border:
            return frame
        return bytes(bar_row if 420 <= y < 560 else plain)

    raw = b"".join(b"\x00" + row(y) for y in range(height))  # filter type 0 for every row
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey-scale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )


def _zpl_field(text: str) -> str:
    return text.replace("^", " ").replace("~", " ")


def _zpl(lines: list[str], tracking_id: str, custom_text: str | None, dots_per_mm: int) -> bytes:
    def dots(mm: float) -> int:
        return round(mm * dots_per_mm)

    commands = [
        "^XA",
        "^CI28",
        f"^PW{dots(100)}",
        f"^LL{dots(150)}",
        f"^FO{dots(3)},{dots(3)}^GB{dots(94)},{dots(144)},{dots(0.5)}^FS",
    ]
    for index, line in enumerate(lines):
        commands.append(
            f"^FO{dots(6)},{dots(7 + index * 4.5)}^A0N,{dots(3.5)},{dots(3.5)}"
            f"^FD{_zpl_field(line)}^FS"
        )
    if custom_text:
        commands.append(
            f"^FO{dots(6)},{dots(100)}^A0N,{dots(4)},{dots(4)}^FD{_zpl_field(custom_text)}^FS"
        )
    commands.append(
        f"^FO{dots(8)},{dots(110)}^BY{max(2, dots_per_mm // 4)}"
        f"^BCN,{dots(25)},Y,N,N^FD{_zpl_field(tracking_id)}^FS"
    )
    commands.append("^XZ")
    return ("\n".join(commands) + "\n").encode("utf-8")


# --- admin -----------------------------------------------------------------------------------


@api.admin("GET", "/_sandbox/mfn/shipments")
def list_shipments(sandbox: Sandbox, request: Request) -> Any:
    """Every label bought (without the file itself); ``?seller_id=`` limits it to one seller."""
    seller_id = request.query_params.get("seller_id")
    if seller_id is not None and seller_id not in sandbox.state.sellers:
        raise not_found(f"There is no seller {seller_id}.")
    return [
        {
            **shipment.model_dump(mode="json", exclude={"label": {"contents"}}),
            "carrier": SERVICES_BY_ID[shipment.quote.service_id].carrier,
            "service_name": SERVICES_BY_ID[shipment.quote.service_id].name,
        }
        for shipment in sandbox.state.mfn.shipments.values()
        if seller_id is None or shipment.seller_id == seller_id
    ]


@api.admin("PUT", "/_sandbox/mfn/carriers/{seller_id}")
async def set_carriers(sandbox: Sandbox, request: Request) -> Any:
    """Mark carriers as temporarily unavailable, or their terms as not accepted, for a seller:
    ``{"temporarily_unavailable": ["UPS"], "terms_not_accepted": ["GLS"]}``."""
    seller_id = request.path_params["seller_id"]
    if seller_id not in sandbox.state.sellers:
        raise not_found(f"There is no seller {seller_id}.")
    try:
        settings = CarrierSettings.model_validate(await request.json())
    except ValueError as error:
        raise invalid_input("Invalid carrier settings.", str(error)) from None
    unknown = sorted(set(settings.temporarily_unavailable + settings.terms_not_accepted) - CARRIERS)
    if unknown:
        raise invalid_input(
            f"Unknown carriers: {', '.join(unknown)}. Known: {', '.join(sorted(CARRIERS))}."
        )
    sandbox.state.mfn.carriers[seller_id] = settings
    return settings.model_dump()
