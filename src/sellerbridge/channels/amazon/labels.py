"""Shipping labels: a carrier-neutral interface, and buying labels through Amazon Buy Shipping.

:class:`LabelProvider` is what the shipping use case asks for a label; :class:`AmazonLabelProvider`
answers it with the Merchant Fulfillment API, and DHL or DPD business-account adapters can
implement the same protocol later.

Buying through Amazon takes two calls. ``getEligibleShipmentServices`` rates the parcel with
every carrier the seller may use; the provider keeps the services that ship by the order's
ship-by date and deliver by its deliver-by date (a late delivery counts against the seller's
account health), picks one by the configured rule, and buys its offer with
``createShipment``. Buying spends money and, with Buy Shipping, marks the order's units
shipped at Amazon, so a purchase whose outcome is unknown is never repeated: it raises
:class:`LabelOutcomeUnknown` and a person checks the order first.

Buy a label outside a database transaction, then record it (``Shipment.label``,
``label_format``, ``label_reference``) in the use case's unit of work: a paid call to Amazon
should not hold a transaction open, and on SQLite the client's call recorder needs the
database lock the unit of work would hold. The order and its lines (with their articles) must
be loaded before.

Nothing here logs or raises the buyer's address: Amazon's answer carries it, the models do not
read it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal, Protocol

import structlog

from sellerbridge.channels.amazon.spapi import AmbiguousError, AuthError, SpApiClient
from sellerbridge.channels.amazon.spapi.models.merchant_fulfillment import (
    Address,
    CreateShipmentRequest,
    DeliveryExperience,
    GetEligibleShipmentServicesRequest,
    GetEligibleShipmentServicesResult,
    Item,
    LabelFileError,
    LabelFormat,
    PackageDimensions,
    Shipment,
    ShipmentRequestDetails,
    ShippingService,
    ShippingServiceOptions,
    Weight,
)
from sellerbridge.config import SellerSettings, Settings
from sellerbridge.core.errors import DomainError
from sellerbridge.db.models import SalesOrder, SalesOrderLine
from sellerbridge.services import stock

log = structlog.get_logger("sellerbridge.labels")

LabelRule = Literal["cheapest", "fastest"]

_FORMATS_BY_FILE_TYPE = {"application/pdf": "PDF", "image/png": "PNG", "application/zpl": "ZPL"}


# --- what a label is, and what it is for --------------------------------------------------


@dataclass(frozen=True)
class Label:
    """A bought shipping label."""

    content: bytes
    """The file to print."""
    format: str
    """PDF, PNG, ZPL203 or ZPL300 (ZPL when the resolution is not known)."""
    tracking_number: str
    carrier: str
    """The carrier's name, e.g. ``DHL``."""
    service: str
    """The carrier's service, e.g. ``DHL Paket``."""
    reference: str
    """The label's id at whoever sold it (Amazon's ShipmentId): needed to reprint or void it."""
    rate: Decimal
    currency: str


@dataclass(frozen=True)
class Dimensions:
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal


@dataclass(frozen=True)
class ParcelLine:
    line: SalesOrderLine
    quantity: int


@dataclass(frozen=True)
class Parcel:
    """What goes into one package. Without a weighed ``weight_g`` the weight is summed from the
    articles; without ``dimensions`` the configured default parcel size is used."""

    lines: tuple[ParcelLine, ...]
    weight_g: int | None = None
    dimensions: Dimensions | None = None

    @classmethod
    def ready_of(cls, order: SalesOrder) -> Parcel:
        """Every unit of ``order`` still to ship whose stock is reserved, in one parcel (all
        the open units, unless the order ships in parts)."""
        return cls(
            tuple(
                ParcelLine(line, units)
                for line in order.lines
                if (units := stock.ready_units(line)) > 0
            )
        )


class LabelProvider(Protocol):
    """Buys a label for a parcel of an order (Amazon Buy Shipping, or a carrier directly)."""

    def buy_label(self, order: SalesOrder, package: Parcel, rule: LabelRule) -> Label: ...


@dataclass(frozen=True)
class ShipFrom:
    """The warehouse parcels leave from, as carriers print it (Amazon requires e-mail and
    phone)."""

    name: str
    street: str
    postal_code: str
    city: str
    country: str
    email: str
    phone: str
    street2: str | None = None

    @classmethod
    def from_seller(cls, seller: SellerSettings, home_country: str) -> ShipFrom:
        """The merchant's address from the ``[seller]`` settings."""
        values = {
            "company": seller.company,
            "street": seller.street,
            "postal_code": seller.postal_code,
            "city": seller.city,
            "email": seller.email,
            "phone": seller.phone,
        }
        missing = [key for key, value in values.items() if not value]
        if missing:
            raise LabelError(
                f"The ship-from address for labels is incomplete: {', '.join(missing)} missing",
                hint="Set them in the [seller] table of the configuration "
                "(SELLERBRIDGE_SELLER__<NAME>).",
            )
        return cls(
            name=seller.company or "",
            street=seller.street or "",
            postal_code=seller.postal_code or "",
            city=seller.city or "",
            country=seller.country or home_country,
            email=seller.email or "",
            phone=seller.phone or "",
        )

    def address(self) -> Address:
        return Address(
            name=self.name[:30],
            address_line1=self.street,
            address_line2=self.street2,
            city=self.city[:30],
            postal_code=self.postal_code,
            country_code=self.country.upper(),
            email=self.email,
            phone=self.phone,
        )


# --- errors --------------------------------------------------------------------------------


class LabelError(DomainError):
    """No label could be bought; the message says why and what to do. Nothing was bought."""


class NoCarrierAvailable(LabelError):
    """Amazon offers no service at all for the parcel (carriers unavailable, terms not
    accepted, or every service rejected the parcel)."""


class NoServiceMeetsDeadline(LabelError):
    """Services are offered, but none ships by the ship-by date and delivers by the
    deliver-by date."""


class LabelOutcomeUnknown(LabelError):
    """A purchase may or may not have gone through: do not buy again before checking."""


# --- choosing a service ----------------------------------------------------------------------


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _misses(
    service: ShippingService, ship_by: datetime | None, deliver_by: datetime | None
) -> str | None:
    """Why ``service`` does not meet the order's dates, if it does not."""
    if ship_by is not None and service.ship_date > ship_by:
        return f"ships {_when(service.ship_date)}, after the ship-by date"
    latest = service.latest_estimated_delivery_date
    if deliver_by is not None and (latest is None or latest > deliver_by):
        return f"may arrive as late as {_when(latest)}, after the deliver-by date"
    if service.requires_additional_seller_inputs:
        return "needs additional seller inputs, which sellerbridge does not send"
    return None


def choose_service(
    services: Sequence[ShippingService],
    rule: LabelRule,
    *,
    ship_by: datetime | None,
    deliver_by: datetime | None,
    order_number: str,
) -> ShippingService:
    """The service ``rule`` picks among those meeting the dates: ``cheapest`` by rate (then
    the earlier delivery), ``fastest`` by latest delivery date (then the lower rate).

    Rates are compared as amounts: Amazon quotes every service of an order in one currency.
    """
    fitting = [service for service in services if _misses(service, ship_by, deliver_by) is None]
    if not fitting:
        reasons = "; ".join(
            f"{service.shipping_service_name}: {_misses(service, ship_by, deliver_by)}"
            for service in services
        )
        raise NoServiceMeetsDeadline(
            f"No Amazon Buy Shipping service for order {order_number} ships by "
            f"{_when(ship_by)} and arrives by {_when(deliver_by)} ({reasons})",
            hint="Buy a label for a service of your choice in Seller Central (Manage Orders → "
            "the order → Buy Shipping), or ship with your own carrier contract and enter the "
            "tracking number.",
        )

    def latest(service: ShippingService) -> datetime:
        return service.latest_estimated_delivery_date or datetime.max.replace(tzinfo=UTC)

    if rule == "cheapest":
        return min(fitting, key=lambda service: (service.rate.amount, latest(service)))
    return min(fitting, key=lambda service: (latest(service), service.rate.amount))


def _dates_missed(result: GetEligibleShipmentServicesResult, order: SalesOrder) -> bool:
    """Whether services were refused for the order's dates — so that asking without the
    arrive-by date may offer some (those refused for weight or size stay refused)."""
    if result.shipping_service_list:  # offered, but none meets the dates (choose_service)
        return True
    codes = {service.rejection_reason_code for service in result.rejected_shipping_service_list}
    return bool(codes & DATE_REJECTIONS) and order.deliver_by is not None


DATE_REJECTIONS = frozenset({"CANNOT_MEET_MUST_ARRIVE_BY_DATE"})
"""Amazon's rejection of a service that cannot deliver by the ``MustArriveByDate`` asked."""


def _nothing_offered(order_number: str, result: GetEligibleShipmentServicesResult) -> LabelError:
    reasons: list[str] = []
    hints: list[str] = []
    terms = [c.carrier_name for c in result.terms_and_conditions_not_accepted_carrier_list]
    if terms:
        reasons.append(f"the terms and conditions of {', '.join(terms)} are not accepted")
        hints.append(
            f"Accept the carrier terms of {', '.join(terms)} in Seller Central (Settings → "
            "Shipping Settings → Buy Shipping; or buy one label with that carrier on an "
            "order's Buy Shipping page, which asks for them)."
        )
    unavailable = [c.carrier_name for c in result.temporarily_unavailable_carrier_list]
    if unavailable:
        reasons.append(f"{', '.join(unavailable)} temporarily unavailable")
        hints.append("Try again later, or buy the label in Seller Central.")
    rejected = result.rejected_shipping_service_list
    if rejected:
        reasons.append(
            "rejected: "
            + ", ".join(
                f"{service.shipping_service_name} ({service.rejection_reason_code})"
                for service in rejected
            )
        )
        hints.append("Check the parcel's weight and size, or split it into smaller parcels.")
    if not reasons:
        reasons.append("Amazon named no carrier for this parcel's route")
        hints.append(
            "Check that Buy Shipping is available for the ship-from and destination "
            "countries, or ship with your own carrier contract."
        )
    return NoCarrierAvailable(
        f"Amazon Buy Shipping offers no service for order {order_number}: {'; '.join(reasons)}",
        hint=" ".join(hints),
    )


# --- Amazon Buy Shipping ---------------------------------------------------------------------


class AmazonLabelProvider:
    """Buys labels for Amazon FBM orders through Buy Shipping (Merchant Fulfillment API v0)."""

    def __init__(
        self,
        client: SpApiClient,
        ship_from: ShipFrom,
        settings: Settings,
        *,
        delivery_experience: DeliveryExperience = "DeliveryConfirmationWithoutSignature",
        carrier_will_pick_up: bool = False,
        label_format: LabelFormat | None = None,
    ) -> None:
        self._client = client
        self._ship_from = ship_from
        self._settings = settings
        self._options = ShippingServiceOptions(
            delivery_experience=delivery_experience,
            carrier_will_pick_up=carrier_will_pick_up,
            label_format=label_format,
        )

    def shipment_details(self, order: SalesOrder, package: Parcel) -> ShipmentRequestDetails:
        """What Amazon is asked to rate and buy for ``package`` of ``order``."""
        if not order.external_reference:
            raise LabelError(
                f"Order {order.number} has no Amazon order id",
                hint="Amazon Buy Shipping is for Amazon orders only; use another carrier.",
            )
        items: list[Item] = []
        for entry in package.lines:
            if not entry.line.external_reference:
                raise LabelError(
                    f"Line {entry.line.position} of order {order.number} has no Amazon order "
                    "item id",
                    hint="Only lines imported from Amazon can be shipped with Buy Shipping.",
                )
            if entry.quantity > 0:
                items.append(
                    Item(order_item_id=entry.line.external_reference, quantity=entry.quantity)
                )
        if not items:
            raise LabelError(f"The parcel for order {order.number} holds no units")
        size = package.dimensions or Dimensions(
            self._settings.label_parcel_length_cm,
            self._settings.label_parcel_width_cm,
            self._settings.label_parcel_height_cm,
        )
        return ShipmentRequestDetails(
            amazon_order_id=order.external_reference,
            item_list=items,
            ship_from_address=self._ship_from.address(),
            package_dimensions=PackageDimensions(
                length=size.length_cm, width=size.width_cm, height=size.height_cm
            ),
            weight=Weight(value=Decimal(self.weight_g(package))),
            must_arrive_by_date=order.deliver_by,
            shipping_service_options=self._options,
        )

    def weight_g(self, package: Parcel) -> int:
        """The weighed weight, else the articles' weights times their quantities (units of an
        article without a weight count ``label_default_article_weight_g``)."""
        if package.weight_g is not None:
            return max(1, package.weight_g)
        default = self._settings.label_default_article_weight_g
        total = 0
        for entry in package.lines:
            article = entry.line.article
            unit = article.weight_g if article is not None and article.weight_g else default
            total += unit * entry.quantity
        return max(1, total)

    def buy_label(self, order: SalesOrder, package: Parcel, rule: LabelRule) -> Label:
        """Rate ``package``, choose a service by ``rule`` and buy its label.

        Raises :class:`LabelError` (nothing bought) when nothing fits, and
        :class:`LabelOutcomeUnknown` when a purchase may have gone through; errors of the
        SP-API client (:mod:`.spapi.errors`) pass through as they are.
        """
        details = self.shipment_details(order, package)
        result = self._eligible(details)
        try:
            if not result.shipping_service_list:
                raise _nothing_offered(order.number, result)
            service = choose_service(
                result.shipping_service_list,
                rule,
                ship_by=order.ship_by,
                deliver_by=order.deliver_by,
                order_number=order.number,
            )
        except LabelError:
            if not _dates_missed(result, order):
                raise
            # The order can no longer make its dates. Late is better than never: it goes with
            # the fastest service there is (its late alert tells the operator).
            details = details.model_copy(update={"must_arrive_by_date": None})
            result = self._eligible(details)
            if not result.shipping_service_list:
                raise _nothing_offered(order.number, result) from None
            service = choose_service(result.shipping_service_list, "fastest", ship_by=None,
                                     deliver_by=None, order_number=order.number)  # fmt: skip
            log.warning("labels.late", order=order.number, service_id=service.shipping_service_id)
        shipment = self._create(order, details, service)
        try:
            content = shipment.label.file_contents.data()
        except LabelFileError as error:
            raise LabelError(
                f"The label for order {order.number} was bought (Amazon shipment "
                f"{shipment.shipment_id}, {service.shipping_service_name}), but {error}",
                hint="Reprint it in Seller Central (Manage Orders → the order → Reprint label); "
                "do not buy another one.",
            ) from error
        log.info(
            "labels.bought",
            order=order.number,
            amazon_order_id=shipment.amazon_order_id,
            shipment_id=shipment.shipment_id,
            service_id=service.shipping_service_id,
            rule=rule,
        )
        bought = shipment.shipping_service
        file_type = shipment.label.file_contents.file_type
        return Label(
            content=content,
            format=shipment.label.label_format or _FORMATS_BY_FILE_TYPE.get(file_type, file_type),
            # Empty only for a NoTracking service, which sellerbridge never asks for.
            tracking_number=shipment.tracking_id or "",
            carrier=bought.carrier_name,
            service=bought.shipping_service_name,
            reference=shipment.shipment_id,
            rate=bought.rate.amount,
            currency=bought.rate.currency_code,
        )

    def _eligible(self, details: ShipmentRequestDetails) -> GetEligibleShipmentServicesResult:
        return self._client.get_eligible_shipment_services(
            GetEligibleShipmentServicesRequest(shipment_request_details=details)
        )

    def _create(
        self, order: SalesOrder, details: ShipmentRequestDetails, service: ShippingService
    ) -> Shipment:
        request = CreateShipmentRequest(
            shipment_request_details=details,
            shipping_service_id=service.shipping_service_id,
            shipping_service_offer_id=service.shipping_service_offer_id,
        )
        try:
            return self._client.create_shipment(request)
        except AmbiguousError as error:
            raise LabelOutcomeUnknown(
                f"Buying a {service.shipping_service_name} label for order {order.number} may "
                f"or may not have succeeded ({error})",
                hint="Do not buy another label yet: look at the order in Seller Central (Manage "
                "Orders). If a label is there, reprint it and enter its tracking number; if "
                "not, buy the label again.",
            ) from error
        except AuthError as error:
            if "TermsAndConditionsNotAccepted" not in error.codes:
                raise
            raise NoCarrierAvailable(
                f"Amazon refused the {service.shipping_service_name} label for order "
                f"{order.number}: the terms and conditions of {service.carrier_name} are not "
                "accepted",
                hint=f"Accept {service.carrier_name}'s carrier terms in Seller Central "
                "(Settings → Shipping Settings → Buy Shipping), then try again.",
            ) from error
