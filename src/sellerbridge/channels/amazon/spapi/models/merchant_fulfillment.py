"""Merchant Fulfillment API v0 (Amazon Buy Shipping): the requests sellerbridge sends to rate
and buy a label, and the parts of the answers it reads.

Requests are built by field name and written by alias (``model_dump(by_alias=True,
exclude_none=True, mode="json")``); numbers go out as JSON numbers, as Amazon's model types
them. Answers are read by alias. Answers ignore what is not named
here — in particular ``ShipToAddress``, the buyer's address, is never read into a model, so it
cannot end up in a log or an error message.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

DeliveryExperience = Literal[
    "DeliveryConfirmationWithAdultSignature",
    "DeliveryConfirmationWithSignature",
    "DeliveryConfirmationWithoutSignature",
    "NoTracking",
]
LabelFormat = Literal["PDF", "PNG", "ZPL203", "ZPL300", "ShippingServiceDefault"]

# Amazon's model types these as JSON numbers; pydantic would write a Decimal as a string.
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


# --- requests -----------------------------------------------------------------------------


class Address(_Model):
    """The ship-from address (Amazon requires name, street, city, postal code, country, e-mail
    and phone)."""

    name: str = Field(serialization_alias="Name", max_length=30)
    address_line1: str = Field(serialization_alias="AddressLine1", max_length=180)
    address_line2: str | None = Field(
        default=None, serialization_alias="AddressLine2", max_length=60
    )
    address_line3: str | None = Field(
        default=None, serialization_alias="AddressLine3", max_length=60
    )
    district_or_county: str | None = Field(
        default=None, serialization_alias="DistrictOrCounty", max_length=30
    )
    email: str = Field(serialization_alias="Email", max_length=256)
    city: str = Field(serialization_alias="City", max_length=30)
    state_or_province_code: str | None = Field(
        default=None, serialization_alias="StateOrProvinceCode", max_length=30
    )
    postal_code: str = Field(serialization_alias="PostalCode", max_length=30)
    country_code: str = Field(serialization_alias="CountryCode", min_length=2, max_length=2)
    phone: str = Field(serialization_alias="Phone", max_length=30)


class Item(_Model):
    order_item_id: str = Field(serialization_alias="OrderItemId")
    quantity: int = Field(serialization_alias="Quantity", ge=1)


class PackageDimensions(_Model):
    length: Number = Field(serialization_alias="Length", gt=0)
    width: Number = Field(serialization_alias="Width", gt=0)
    height: Number = Field(serialization_alias="Height", gt=0)
    unit: Literal["inches", "centimeters"] = Field(
        default="centimeters", serialization_alias="Unit"
    )


class Weight(_Model):
    value: Number = Field(serialization_alias="Value", gt=0)
    unit: Literal["oz", "g"] = Field(default="g", serialization_alias="Unit")


class ShippingServiceOptions(_Model):
    delivery_experience: DeliveryExperience = Field(serialization_alias="DeliveryExperience")
    carrier_will_pick_up: bool = Field(serialization_alias="CarrierWillPickUp")
    carrier_will_pick_up_option: (
        Literal["CarrierWillPickUp", "ShipperWillDropOff", "NoPreference"] | None
    ) = Field(default=None, serialization_alias="CarrierWillPickUpOption")
    label_format: LabelFormat | None = Field(default=None, serialization_alias="LabelFormat")


class ShipmentRequestDetails(_Model):
    amazon_order_id: str = Field(serialization_alias="AmazonOrderId")
    seller_order_id: str | None = Field(
        default=None, serialization_alias="SellerOrderId", max_length=64
    )
    item_list: list[Item] = Field(serialization_alias="ItemList", min_length=1)
    ship_from_address: Address = Field(serialization_alias="ShipFromAddress")
    package_dimensions: PackageDimensions = Field(serialization_alias="PackageDimensions")
    weight: Weight = Field(serialization_alias="Weight")
    must_arrive_by_date: datetime | None = Field(
        default=None, serialization_alias="MustArriveByDate"
    )
    ship_date: datetime | None = Field(default=None, serialization_alias="ShipDate")
    shipping_service_options: ShippingServiceOptions = Field(
        serialization_alias="ShippingServiceOptions"
    )


class GetEligibleShipmentServicesRequest(_Model):
    shipment_request_details: ShipmentRequestDetails = Field(
        serialization_alias="ShipmentRequestDetails"
    )


class CreateShipmentRequest(_Model):
    """Buys the label of one offer. Send the same details the offer was made for."""

    shipment_request_details: ShipmentRequestDetails = Field(
        serialization_alias="ShipmentRequestDetails"
    )
    shipping_service_id: str = Field(serialization_alias="ShippingServiceId")
    shipping_service_offer_id: str | None = Field(
        default=None, serialization_alias="ShippingServiceOfferId"
    )


# --- answers ------------------------------------------------------------------------------


class CurrencyAmount(_Model):
    currency_code: str = Field(alias="CurrencyCode")
    amount: Decimal = Field(alias="Amount")


class ShippingService(_Model):
    """One offer: a carrier's service with its price and dates for the package asked about."""

    shipping_service_name: str = Field(alias="ShippingServiceName")
    carrier_name: str = Field(alias="CarrierName")
    shipping_service_id: str = Field(alias="ShippingServiceId")
    shipping_service_offer_id: str = Field(alias="ShippingServiceOfferId")
    ship_date: datetime = Field(alias="ShipDate")
    earliest_estimated_delivery_date: datetime | None = Field(
        default=None, alias="EarliestEstimatedDeliveryDate"
    )
    latest_estimated_delivery_date: datetime | None = Field(
        default=None, alias="LatestEstimatedDeliveryDate"
    )
    rate: CurrencyAmount = Field(alias="Rate")
    requires_additional_seller_inputs: bool = Field(alias="RequiresAdditionalSellerInputs")


class RejectedShippingService(_Model):
    carrier_name: str = Field(alias="CarrierName")
    shipping_service_name: str = Field(alias="ShippingServiceName")
    shipping_service_id: str = Field(alias="ShippingServiceId")
    rejection_reason_code: str = Field(alias="RejectionReasonCode")
    rejection_reason_message: str | None = Field(default=None, alias="RejectionReasonMessage")


class TemporarilyUnavailableCarrier(_Model):
    carrier_name: str = Field(alias="CarrierName")


class TermsAndConditionsNotAcceptedCarrier(_Model):
    carrier_name: str = Field(alias="CarrierName")


class GetEligibleShipmentServicesResult(_Model):
    shipping_service_list: list[ShippingService] = Field(alias="ShippingServiceList")
    rejected_shipping_service_list: list[RejectedShippingService] = Field(
        default_factory=list, alias="RejectedShippingServiceList"
    )
    temporarily_unavailable_carrier_list: list[TemporarilyUnavailableCarrier] = Field(
        default_factory=list, alias="TemporarilyUnavailableCarrierList"
    )
    terms_and_conditions_not_accepted_carrier_list: list[TermsAndConditionsNotAcceptedCarrier] = (
        Field(default_factory=list, alias="TermsAndConditionsNotAcceptedCarrierList")
    )


class GetEligibleShipmentServicesResponse(_Model):
    payload: GetEligibleShipmentServicesResult | None = None


class LabelFileError(ValueError):
    """The label file Amazon sent cannot be read (bad Base64 or gzip, or a wrong checksum)."""


class FileContents(_Model):
    contents: str = Field(alias="Contents")
    """Base64 of the gzipped file."""
    file_type: str = Field(alias="FileType")
    """``application/pdf``, ``image/png`` or ``application/zpl``."""
    checksum: str = Field(alias="Checksum")
    """Base64 of the MD5 of the gzipped bytes."""

    def data(self) -> bytes:
        """The label file itself; :class:`LabelFileError` if it is damaged."""
        try:
            packed = base64.b64decode(self.contents, validate=True)
        except binascii.Error as error:
            raise LabelFileError(f"the label is not valid Base64 ({error})") from error
        if self.checksum:
            digest = base64.b64encode(hashlib.md5(packed, usedforsecurity=False).digest())
            if digest.decode("ascii") != self.checksum:
                raise LabelFileError("the label's MD5 checksum does not match its contents")
        try:
            return gzip.decompress(packed)
        except (OSError, EOFError) as error:
            raise LabelFileError(f"the label is not a valid gzip file ({error})") from error


class Label(_Model):
    file_contents: FileContents = Field(alias="FileContents")
    label_format: str | None = Field(default=None, alias="LabelFormat")


class Shipment(_Model):
    """A bought label. ``ShipToAddress`` (personal data) is deliberately not read."""

    shipment_id: str = Field(alias="ShipmentId")
    amazon_order_id: str = Field(alias="AmazonOrderId")
    shipping_service: ShippingService = Field(alias="ShippingService")
    label: Label = Field(alias="Label")
    status: str = Field(alias="Status")
    tracking_id: str | None = Field(default=None, alias="TrackingId")
    created_date: datetime = Field(alias="CreatedDate")


class ShipmentResponse(_Model):
    """The answer of ``createShipment`` and ``getShipment``."""

    payload: Shipment | None = None
