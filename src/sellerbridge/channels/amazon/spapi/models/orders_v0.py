"""Orders API v0: the ``confirmShipment`` request sellerbridge sends, and the
``getOrderBuyerInfo`` answer it reads.

A request model, unlike the response models, is strict (``extra="forbid"``): a typo in
a field name must fail here, not be dropped silently and arrive at Amazon as a missing field.
Serialised with :meth:`ConfirmShipmentRequest.body` (Amazon's names, ``None`` left out).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

OTHER_CARRIER = "Other"
"""The carrier code for a carrier Amazon does not list; ``carrierName`` names it."""


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConfirmShipmentOrderItem(_Request):
    order_item_id: str = Field(serialization_alias="orderItemId", min_length=1)
    quantity: int = Field(ge=1)


class PackageDetail(_Request):
    """One package: what Amazon shows the buyer (carrier, tracking) and what is in it."""

    package_reference_id: str = Field(
        serialization_alias="packageReferenceId", pattern=r"^[1-9][0-9]*$"
    )
    """The seller's number of the package, unique within the order (the ERP's shipment id)."""
    carrier_code: str = Field(serialization_alias="carrierCode", min_length=1)
    carrier_name: str | None = Field(default=None, serialization_alias="carrierName")
    """Required when ``carrier_code`` is ``Other``."""
    shipping_method: str | None = Field(default=None, serialization_alias="shippingMethod")
    tracking_number: str = Field(serialization_alias="trackingNumber", min_length=1)
    ship_date: datetime = Field(serialization_alias="shipDate")
    order_items: list[ConfirmShipmentOrderItem] = Field(
        serialization_alias="orderItems", min_length=1
    )

    @field_validator("carrier_name")
    @classmethod
    def _stripped(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _complete(self) -> PackageDetail:
        if self.carrier_code == OTHER_CARRIER and not self.carrier_name:
            raise ValueError("carrierName is required when carrierCode is Other")
        if self.ship_date.tzinfo is None:
            raise ValueError("shipDate must carry a time zone")
        return self


class ConfirmShipmentRequest(_Request):
    marketplace_id: str = Field(serialization_alias="marketplaceId", min_length=1)
    package_detail: PackageDetail = Field(serialization_alias="packageDetail")

    def body(self) -> dict[str, Any]:
        """The JSON body as Amazon reads it."""
        body: dict[str, Any] = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        return body


class OrderBuyerInfo(BaseModel):
    """``getOrderBuyerInfo``'s payload, as far as sellerbridge reads it: the buyer's anonymised
    relay address (Buyer-Seller Messaging forwards mail to it)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    amazon_order_id: str = Field(alias="AmazonOrderId")
    buyer_email: str | None = Field(default=None, alias="BuyerEmail")


class GetOrderBuyerInfoResponse(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    payload: OrderBuyerInfo | None = None
