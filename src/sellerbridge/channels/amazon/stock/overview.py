"""What ``sellerbridge stock amazon`` and ``stock fba`` show."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from sellerbridge.channels.amazon.stock.offers import OfferRow, wanted_quantities
from sellerbridge.config import Settings
from sellerbridge.db.models import (
    AmazonFbaInventory,
    AmazonMarketplace,
    AmazonOffer,
    Article,
    Fulfillment,
    OfferResult,
)


@dataclass(frozen=True)
class OfferView:
    sku: str
    marketplace: str
    channel: str
    wanted: int | None
    """None for FBA offers (Amazon counts their stock) and those not listed there."""
    last_sent: int | None
    amazon: int | None
    result: str


@dataclass(frozen=True)
class FbaRow:
    seller_sku: str
    article: str
    fulfillable: int
    inbound: int
    reserved: int
    unfulfillable: int
    researching: int


def marketplace_codes(session: Session, account_id: int) -> dict[str, str]:
    """The country code of each of the account's marketplaces, by marketplace id."""
    return dict(
        session.execute(
            select(AmazonMarketplace.marketplace_id, AmazonMarketplace.country_code).where(
                AmazonMarketplace.account_id == account_id
            )
        ).all()
    )


def offer_overview(
    session: Session, account_id: int, settings: Settings, *, sku: str | None, failed: bool
) -> list[OfferView]:
    query = select(AmazonOffer).where(AmazonOffer.account_id == account_id)
    if sku is not None:
        query = query.where(AmazonOffer.seller_sku == sku)
    if failed:
        query = query.where(AmazonOffer.result == OfferResult.FAILED)
    offers = list(
        session.scalars(query.order_by(AmazonOffer.seller_sku, AmazonOffer.marketplace_id))
    )
    fbm = [
        OfferRow(
            o.id, o.marketplace_id, o.seller_sku, o.article_id, o.stock_version, o.sent_quantity
        )
        for o in offers
        if o.fulfillment is Fulfillment.FBM and o.listed is not False
    ]
    wanted = wanted_quantities(session, account_id, fbm, settings)
    codes = marketplace_codes(session, account_id)
    return [
        OfferView(
            sku=offer.seller_sku,
            marketplace=codes.get(offer.marketplace_id, offer.marketplace_id),
            channel=offer.fulfillment.value,
            wanted=wanted[offer.id].quantity if offer.id in wanted else None,
            last_sent=offer.sent_quantity,
            amazon=offer.amazon_quantity,
            result=_result(offer),
        )
        for offer in offers
    ]


def _result(offer: AmazonOffer) -> str:
    if offer.fulfillment is Fulfillment.FBA:
        return "FBA: Amazon counts the stock"
    if offer.listed is False:
        return "not listed here"
    if offer.result is OfferResult.FAILED:
        return f"refused: {offer.error}"
    if offer.result is OfferResult.PENDING:
        return f"sent {offer.pending_quantity}, waiting for Amazon"
    return offer.result.value if offer.result else ""


def fba_inventory(session: Session, account_id: int) -> list[FbaRow]:
    return [
        FbaRow(
            row.seller_sku,
            number or "",
            row.fulfillable,
            row.inbound,
            row.reserved,
            row.unfulfillable,
            row.researching,
        )
        for row, number in session.execute(
            select(AmazonFbaInventory, Article.number)
            .outerjoin(Article, Article.id == AmazonFbaInventory.article_id)
            .where(AmazonFbaInventory.account_id == account_id)
            .order_by(AmazonFbaInventory.seller_sku)
        )
    ]
