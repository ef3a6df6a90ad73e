"""Finances API v0: ``listFinancialEvents`` and ``listFinancialEventsByOrderId`` as sellerbridge
reads them.

:class:`ListFinancialEventsResponse` and the models under it are Amazon's answer as it is
nested; :meth:`ListFinancialEventsResponse.page` gives what a caller reads: the shipment and
refund events, each a flat :class:`FinancialEvent` with its items and their charges. Amazon
sends shipments and refunds in the same ``ShipmentEvent`` shape: a shipment's items are its
``ShipmentItemList`` with the ``ItemChargeList``, a refund's its ``ShipmentItemAdjustmentList``
with the ``ItemChargeAdjustmentList`` (negative amounts).

Amounts are read as Amazon sends them. For European marketplaces the sandbox states them as
the Orders API does: ``Principal`` (and ``ShippingCharge``, ``GiftWrap``) VAT-inclusive, ``Tax``
(``ShippingTax``, ``GiftWrapTax``) the VAT they contain; what a refund gave back is then the
negated sum of the non-tax charges and the promotions. That convention is unverified against a
real account (see :mod:`sellerbridge.sandbox.finances`).

Amazon's model makes every field optional. An event without its order id or posted date has
nothing to book, so reading it fails; a charge or promotion without its amount or currency (or
a charge without its type) is left out. Fees and withheld taxes are not read.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Charge(_Model):
    """One charge of an item, e.g. ``Principal`` or ``Tax``; negative in a refund."""

    charge_type: str
    amount: Decimal
    currency: str


class Promotion(_Model):
    """A promotion's part of an item: negative in a shipment (the discount the buyer got),
    positive in a refund (the discount taken back from what is refunded)."""

    promotion_id: str | None
    amount: Decimal
    currency: str


class EventItem(_Model):
    """One item of a shipment or refund event."""

    order_item_id: str | None
    order_adjustment_item_id: str | None
    """Amazon's id of a refunded item; ``None`` for a shipment."""
    seller_sku: str | None
    quantity: int
    """Units shipped, or refunded (0 when Amazon says nothing, e.g. for an amount refund)."""
    charges: tuple[Charge, ...]
    """``ItemChargeList`` of a shipment, ``ItemChargeAdjustmentList`` of a refund."""
    promotions: tuple[Promotion, ...] = ()
    """``PromotionList`` of a shipment, ``PromotionAdjustmentList`` of a refund."""


class FinancialEvent(_Model):
    """A shipment or a refund of an order, as Amazon posted it."""

    amazon_order_id: str
    marketplace_name: str | None
    """Amazon's name of the marketplace, e.g. ``Amazon.de``."""
    posted_date: AwareDatetime
    items: tuple[EventItem, ...]


class FinancialEventsPage(_Model):
    shipments: tuple[FinancialEvent, ...]
    refunds: tuple[FinancialEvent, ...]
    next_token: str | None = None
    """The next page's token; pass it with the same arguments."""


# --- Amazon's answer ---------------------------------------------------------------------------


class Currency(_Model):
    currency_code: str | None = Field(default=None, alias="CurrencyCode")
    currency_amount: Decimal | None = Field(default=None, alias="CurrencyAmount")


class ChargeComponent(_Model):
    charge_type: str | None = Field(default=None, alias="ChargeType")
    charge_amount: Currency | None = Field(default=None, alias="ChargeAmount")

    def charge(self) -> Charge | None:
        money = self.charge_amount
        if (
            self.charge_type is None
            or money is None
            or money.currency_amount is None
            or money.currency_code is None
        ):
            return None
        return Charge(
            charge_type=self.charge_type,
            amount=money.currency_amount,
            currency=money.currency_code,
        )


class AmazonPromotion(_Model):
    promotion_id: str | None = Field(default=None, alias="PromotionId")
    promotion_amount: Currency | None = Field(default=None, alias="PromotionAmount")

    def promotion(self) -> Promotion | None:
        money = self.promotion_amount
        if money is None or money.currency_amount is None or money.currency_code is None:
            return None
        return Promotion(
            promotion_id=self.promotion_id,
            amount=money.currency_amount,
            currency=money.currency_code,
        )


class ShipmentItem(_Model):
    seller_sku: str | None = Field(default=None, alias="SellerSKU")
    order_item_id: str | None = Field(default=None, alias="OrderItemId")
    order_adjustment_item_id: str | None = Field(default=None, alias="OrderAdjustmentItemId")
    quantity_shipped: int | None = Field(default=None, alias="QuantityShipped")
    item_charge_list: tuple[ChargeComponent, ...] = Field(default=(), alias="ItemChargeList")
    item_charge_adjustment_list: tuple[ChargeComponent, ...] = Field(
        default=(), alias="ItemChargeAdjustmentList"
    )
    promotion_list: tuple[AmazonPromotion, ...] = Field(default=(), alias="PromotionList")
    promotion_adjustment_list: tuple[AmazonPromotion, ...] = Field(
        default=(), alias="PromotionAdjustmentList"
    )

    def item(
        self, components: tuple[ChargeComponent, ...], promotions: tuple[AmazonPromotion, ...]
    ) -> EventItem:
        charges = (component.charge() for component in components)
        parts = (promotion.promotion() for promotion in promotions)
        return EventItem(
            order_item_id=self.order_item_id,
            order_adjustment_item_id=self.order_adjustment_item_id,
            seller_sku=self.seller_sku,
            quantity=self.quantity_shipped or 0,
            charges=tuple(charge for charge in charges if charge is not None),
            promotions=tuple(part for part in parts if part is not None),
        )

    def shipped(self) -> EventItem:
        return self.item(self.item_charge_list, self.promotion_list)

    def refunded(self) -> EventItem:
        return self.item(self.item_charge_adjustment_list, self.promotion_adjustment_list)


class ShipmentEvent(_Model):
    amazon_order_id: str = Field(alias="AmazonOrderId")
    marketplace_name: str | None = Field(default=None, alias="MarketplaceName")
    posted_date: AwareDatetime = Field(alias="PostedDate")
    shipment_item_list: tuple[ShipmentItem, ...] = Field(default=(), alias="ShipmentItemList")
    shipment_item_adjustment_list: tuple[ShipmentItem, ...] = Field(
        default=(), alias="ShipmentItemAdjustmentList"
    )

    def _event(self, items: tuple[EventItem, ...]) -> FinancialEvent:
        return FinancialEvent(
            amazon_order_id=self.amazon_order_id,
            marketplace_name=self.marketplace_name,
            posted_date=self.posted_date,
            items=items,
        )

    def shipment(self) -> FinancialEvent:
        return self._event(tuple(item.shipped() for item in self.shipment_item_list))

    def refund(self) -> FinancialEvent:
        return self._event(tuple(item.refunded() for item in self.shipment_item_adjustment_list))


class FinancialEvents(_Model):
    shipment_event_list: tuple[ShipmentEvent, ...] = Field(default=(), alias="ShipmentEventList")
    refund_event_list: tuple[ShipmentEvent, ...] = Field(default=(), alias="RefundEventList")


class ListFinancialEventsPayload(_Model):
    next_token: str | None = Field(default=None, alias="NextToken")
    financial_events: FinancialEvents = Field(
        default_factory=FinancialEvents, alias="FinancialEvents"
    )


class ListFinancialEventsResponse(_Model):
    payload: ListFinancialEventsPayload
    """Optional in Amazon's model, but a successful answer without it has nothing to read."""

    def page(self) -> FinancialEventsPage:
        events = self.payload.financial_events
        return FinancialEventsPage(
            shipments=tuple(event.shipment() for event in events.shipment_event_list),
            refunds=tuple(event.refund() for event in events.refund_event_list),
            next_token=self.payload.next_token or None,  # "when present and not empty"
        )
