"""Offers (a SKU on a marketplace) and the quantity each should show on Amazon.

The quantity of an FBM offer comes from the stock of its article in the warehouse that ships the
marketplace's FBM orders (its sales channel's warehouse): on-hand minus the reservations of every
channel, through the SKU binding's rule (:mod:`sellerbridge.core.offers`). A bundle offers what
its components allow; an article without tracked stock offers ``stock_untracked_quantity``.

Offers are created for every SKU binding on every marketplace the account sells FBM on, and for
every listing Amazon's listings report shows (:mod:`.reconcile`), which also says which SKUs
Amazon fulfils. A quantity goes only to an offer Amazon's report lists: sent to a marketplace
where the SKU has no offer, Amazon would create an incomplete one (a new binding's offers wait
for the reconcile that their being unchecked starts).

Queries work on the account's offers as a whole (subqueries, no long ``IN`` lists), so a push
for 100,000 SKUs reads a handful of result sets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, exists, insert, or_, select
from sqlalchemy.orm import Session

from sellerbridge.config import Settings
from sellerbridge.core.offers import OfferRule, bundle_available, quantity_to_offer
from sellerbridge.db.bulk import execute_batched
from sellerbridge.db.models import (
    AmazonChannel,
    AmazonFbaInventory,
    AmazonMarketplace,
    AmazonOffer,
    AmazonSkuBinding,
    Article,
    BundleComponent,
    Fulfillment,
    SalesChannel,
    StockLevelRecord,
)


@dataclass(frozen=True, slots=True)
class Wanted:
    """What an FBM offer should show on Amazon."""

    quantity: int
    handling_days: int | None


@dataclass(frozen=True, slots=True)
class OfferRow:
    """An offer as the exporter reads it."""

    id: int
    marketplace_id: str
    seller_sku: str
    article_id: int
    stock_version: int
    sent_quantity: int | None


def fbm_warehouses(session: Session, account_id: int) -> dict[str, int]:
    """The warehouse that ships each marketplace's FBM orders, by marketplace id."""
    return dict(
        session.execute(
            select(AmazonChannel.marketplace_id, SalesChannel.warehouse_id)
            .join(SalesChannel, SalesChannel.id == AmazonChannel.channel_id)
            .where(
                AmazonChannel.account_id == account_id,
                AmazonChannel.fulfillment == Fulfillment.FBM,
            )
        ).all()
    )


def articles_of_skus(session: Session, account_id: int, skus: set[str]) -> dict[str, int]:
    """The article of each SKU the ERP knows: by the account's binding, else the article
    numbered like the SKU (as the order import finds them)."""
    articles = {
        sku: article_id
        for sku, article_id in session.execute(
            select(AmazonSkuBinding.seller_sku, AmazonSkuBinding.article_id).where(
                AmazonSkuBinding.account_id == account_id
            )
        )
        if sku in skus
    }
    unbound = skus - set(articles)
    if unbound:
        articles |= {
            number: article_id
            for number, article_id in session.execute(select(Article.number, Article.id))
            if number in unbound
        }
    return articles


def add_missing_offers(session: Session, account_id: int) -> int:
    """Give each SKU binding without any offer (a new one: the listings report makes the offers
    of listed SKUs) an offer on each of the account's FBM marketplaces, not yet checked against
    Amazon's listings — which the next push does.

    A SKU Amazon fulfils somewhere (an FBA offer, or FBA inventory) gets FBA offers, so that no
    quantity is ever sent for it. Returns how many offers were created.
    """
    marketplaces = list(
        session.scalars(
            select(AmazonMarketplace.marketplace_id).where(
                AmazonMarketplace.account_id == account_id,
                AmazonMarketplace.participating.is_(True),
                AmazonMarketplace.marketplace_id.in_(
                    select(AmazonChannel.marketplace_id).where(
                        AmazonChannel.account_id == account_id,
                        AmazonChannel.fulfillment == Fulfillment.FBM,
                    )
                ),
            )
        )
    )
    fba_skus = set(
        session.scalars(
            select(AmazonOffer.seller_sku).where(
                AmazonOffer.account_id == account_id, AmazonOffer.fulfillment == Fulfillment.FBA
            )
        )
    ) | set(
        session.scalars(
            select(AmazonFbaInventory.seller_sku).where(AmazonFbaInventory.account_id == account_id)
        )
    )
    existing = set(
        session.scalars(
            select(AmazonOffer.seller_sku).where(AmazonOffer.account_id == account_id).distinct()
        )
    )
    new = [
        {
            "account_id": account_id,
            "marketplace_id": marketplace,
            "seller_sku": sku,
            "article_id": article_id,
            "fulfillment": Fulfillment.FBA if sku in fba_skus else Fulfillment.FBM,
        }
        for sku, article_id in session.execute(
            select(AmazonSkuBinding.seller_sku, AmazonSkuBinding.article_id).where(
                AmazonSkuBinding.account_id == account_id
            )
        )
        if sku not in existing
        for marketplace in marketplaces
    ]
    return execute_batched(session, insert(AmazonOffer), new)


def due_condition(account_id: int, *, full: bool) -> ColumnElement[bool]:
    """The FBM offers a push looks at: all of them (``full``), or those whose stock changed
    since they were last checked (one the listings report has just read was never checked).
    Only offers Amazon lists, and none waiting for a feed's result."""
    base = and_(
        AmazonOffer.account_id == account_id,
        AmazonOffer.fulfillment == Fulfillment.FBM,
        AmazonOffer.listed.is_(True),
        AmazonOffer.submission_id.is_(None),
    )
    if full:
        return base
    return and_(base, AmazonOffer.stock_version > AmazonOffer.checked_version)


def due_offers(session: Session, account_id: int, *, full: bool) -> list[OfferRow]:
    return [
        OfferRow(*row)
        for row in session.execute(
            select(
                AmazonOffer.id,
                AmazonOffer.marketplace_id,
                AmazonOffer.seller_sku,
                AmazonOffer.article_id,
                AmazonOffer.stock_version,
                AmazonOffer.sent_quantity,
            )
            .where(due_condition(account_id, full=full))
            .order_by(AmazonOffer.seller_sku, AmazonOffer.marketplace_id)
        )
    ]


def has_unchecked_offers(session: Session, account_id: int) -> bool:
    """Whether an offer was never checked against Amazon's listings (a new SKU binding)."""
    return bool(
        session.scalar(
            select(
                exists().where(AmazonOffer.account_id == account_id, AmazonOffer.listed.is_(None))
            )
        )
    )


def wanted_quantities(
    session: Session,
    account_id: int,
    offers: Iterable[OfferRow],
    settings: Settings,
    *,
    among: ColumnElement[bool] | None = None,
) -> dict[int, Wanted]:
    """The quantity each of ``offers`` should show, by offer id. ``among`` (a condition on the
    account's offers that holds for all of ``offers``) narrows what is read; by default the
    stock of every article the account offers is."""
    offers = list(offers)
    warehouses = fbm_warehouses(session, account_id)
    due_articles = select(AmazonOffer.article_id).where(
        AmazonOffer.account_id == account_id, *(() if among is None else (among,))
    )
    components: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for bundle_id, component_id, quantity in session.execute(
        select(BundleComponent.bundle_id, BundleComponent.component_id, BundleComponent.quantity)
        .join(Article, Article.id == BundleComponent.component_id)
        .where(BundleComponent.bundle_id.in_(due_articles), Article.stock_tracked.is_(True))
    ):
        components[bundle_id].append((component_id, quantity))
    articles = {
        article_id: (tracked, backorder)
        for article_id, tracked, backorder in session.execute(
            select(Article.id, Article.stock_tracked, Article.allow_backorder).where(
                Article.id.in_(due_articles)
            )
        )
    }
    free = _free_stock(
        session,
        select(BundleComponent.component_id).where(BundleComponent.bundle_id.in_(due_articles)),
        due_articles,
        set(warehouses.values()),
    )
    rules = _rules(session, account_id)
    wanted: dict[int, Wanted] = {}
    for offer in offers:
        warehouse = warehouses.get(offer.marketplace_id)
        tracked, backorder = articles[offer.article_id]
        parts = components.get(offer.article_id)
        stock = free.get(warehouse, {}) if warehouse is not None else {}
        if parts:
            available = bundle_available(parts, stock)
        elif tracked:
            available = stock.get(offer.article_id, 0)
        else:
            available = settings.stock_untracked_quantity
        rule, handling_days = rules.get(offer.seller_sku, (OfferRule(), None))
        wanted[offer.id] = Wanted(
            quantity_to_offer(available, rule, backorder=backorder), handling_days
        )
    return wanted


def _free_stock(
    session: Session,
    components: Select[int],
    articles: Select[int],
    warehouses: set[int],
) -> dict[int, dict[int, int]]:
    """On-hand minus reserved, by warehouse and article, for the articles and components."""
    free: dict[int, dict[int, int]] = defaultdict(dict)
    for warehouse_id, article_id, on_hand, reserved in session.execute(
        select(
            StockLevelRecord.warehouse_id,
            StockLevelRecord.article_id,
            StockLevelRecord.on_hand,
            StockLevelRecord.reserved,
        ).where(
            StockLevelRecord.warehouse_id.in_(warehouses),
            or_(
                StockLevelRecord.article_id.in_(articles),
                StockLevelRecord.article_id.in_(components),
            ),
        )
    ):
        free[warehouse_id][article_id] = max(on_hand - reserved, 0)
    return free


def _rules(session: Session, account_id: int) -> dict[str, tuple[OfferRule, int | None]]:
    """The stock rule and handling time of each bound SKU of the account (SKUs with the same
    rule share one: a large catalogue mostly has the default)."""
    shared: dict[
        tuple[int, Decimal, int, int, int | None, int | None], tuple[OfferRule, int | None]
    ] = {}
    rules = {}
    for sku, buffer, percent, zero_below, minimum, maximum, handling_days in session.execute(
        select(
            AmazonSkuBinding.seller_sku,
            AmazonSkuBinding.stock_buffer,
            AmazonSkuBinding.stock_buffer_percent,
            AmazonSkuBinding.stock_zero_below,
            AmazonSkuBinding.stock_minimum,
            AmazonSkuBinding.stock_maximum,
            AmazonSkuBinding.handling_days,
        ).where(AmazonSkuBinding.account_id == account_id)
    ):
        key = (buffer, percent, zero_below, minimum, maximum, handling_days)
        if key not in shared:
            rule = OfferRule(buffer=buffer, buffer_percent=Decimal(percent),
                             zero_below=zero_below, minimum=minimum, maximum=maximum)  # fmt: skip
            shared[key] = (rule, handling_days)
        rules[sku] = shared[key]
    return rules
