"""FBA inventory into the ERP: Amazon's figures per SKU, and the FBA warehouse's stock.

``getInventorySummaries`` is read for one marketplace of the account's region (the home
country's if the account sells there: Pan-EU stock is one pool), page after page — its
``nextToken`` expires 30 seconds after it is issued, so nothing else happens between pages.
Each summary is kept (fulfillable, inbound, reserved, unfulfillable, researching units), its
SKU's offers are marked FBA so that no quantity is ever sent for them, and the read-only FBA
warehouse is set to what Amazon holds for the buyer: fulfillable plus reserved units (reserved
ones are sold and not yet shipped; an FBA order booked out when it ships meets them there). A
change is booked as an adjustment, so the stock ledger shows it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.channels.amazon.spapi.models.fba_inventory import InventorySummary
from sellerbridge.channels.amazon.stock.offers import articles_of_skus
from sellerbridge.config import Settings
from sellerbridge.core.errors import NotFound
from sellerbridge.core.stock import MovementKind
from sellerbridge.db.bulk import execute_batched
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonChannel,
    AmazonFbaInventory,
    AmazonMarketplace,
    AmazonOffer,
    Article,
    Fulfillment,
    SalesChannel,
    StockLevelRecord,
    Warehouse,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.services import stock

ACTOR = "job:fba-inventory"
REASON = "FBA inventory as Amazon reports it"


@dataclass(frozen=True)
class FbaInventoryReport:
    marketplace_id: str
    skus: int
    adjusted: int
    """Articles whose FBA warehouse stock changed."""
    unknown_skus: int
    """FBA SKUs the ERP has no article for."""


def import_fba_inventory(
    engine: Engine, account_id: int, client: SpApiClient, settings: Settings, *, at: datetime
) -> FbaInventoryReport:
    uow = UnitOfWork(engine)
    with uow:
        marketplace_id, warehouse_id = _source(uow, account_id, settings.home_country)
    summaries: list[InventorySummary] = []
    token: str | None = None
    while True:
        page = client.get_inventory_summaries(marketplace_id, next_token=token)
        summaries.extend(page.summaries)
        token = page.next_token
        if not token:
            break
    with uow:
        report = _store(uow, account_id, warehouse_id, marketplace_id, summaries, at)
        uow.commit()
    return report


def _source(uow: UnitOfWork, account_id: int, home_country: str) -> tuple[str, int]:
    """The marketplace to read and the FBA warehouse its orders ship from."""
    candidates = list(
        uow.session.execute(
            select(AmazonChannel.marketplace_id, SalesChannel.warehouse_id,
                   AmazonMarketplace.country_code)
            .join(SalesChannel, SalesChannel.id == AmazonChannel.channel_id)
            .join(AmazonMarketplace, (AmazonMarketplace.account_id == AmazonChannel.account_id)
                  & (AmazonMarketplace.marketplace_id == AmazonChannel.marketplace_id))
            .where(AmazonChannel.account_id == account_id,
                   AmazonChannel.fulfillment == Fulfillment.FBA,
                   AmazonMarketplace.participating.is_(True))
            .order_by(AmazonChannel.marketplace_id)
        )
    )  # fmt: skip
    if not candidates:
        raise NotFound(f"Amazon account {account_id} sells on no marketplace with FBA.")
    home = [c for c in candidates if c[2] == home_country]
    marketplace_id, warehouse_id, _ = (home or candidates)[0]
    return marketplace_id, warehouse_id


def _store(
    uow: UnitOfWork,
    account_id: int,
    warehouse_id: int,
    marketplace_id: str,
    summaries: list[InventorySummary],
    at: datetime,
) -> FbaInventoryReport:
    session = uow.session
    articles = articles_of_skus(session, account_id, {s.seller_sku for s in summaries})
    session.execute(delete(AmazonFbaInventory).where(AmazonFbaInventory.account_id == account_id))
    execute_batched(
        session,
        insert(AmazonFbaInventory),
        [
            {
                "account_id": account_id,
                "seller_sku": s.seller_sku,
                "article_id": articles.get(s.seller_sku),
                "fulfillable": s.fulfillable_quantity or 0,
                "inbound": s.inbound or 0,
                "reserved": s.reserved_quantity or 0,
                "unfulfillable": s.unfulfillable_quantity or 0,
                "researching": s.researching or 0,
                "updated_at": at,
            }
            for s in summaries
        ],
    )
    skus = {s.seller_sku for s in summaries}
    # Only offers Amazon's listings report has not described yet: the report knows where a SKU
    # is FBA and where FBM (a SKU may be both, or converted back with 0 units left at Amazon).
    to_fba = [
        {"id": offer_id, "fulfillment": Fulfillment.FBA}
        for offer_id, sku in session.execute(
            select(AmazonOffer.id, AmazonOffer.seller_sku).where(
                AmazonOffer.account_id == account_id,
                AmazonOffer.fulfillment == Fulfillment.FBM,
                AmazonOffer.listed.is_(None),
            )
        )
        if sku in skus
    ]
    if to_fba:
        execute_batched(session, update(AmazonOffer), to_fba)
    adjusted = _set_warehouse(uow, warehouse_id, articles, summaries)
    uow.session.get_one(AmazonAccount, account_id).fba_inventory_at = at
    return FbaInventoryReport(
        marketplace_id, len(summaries), adjusted, sum(1 for s in skus if s not in articles)
    )


def _set_warehouse(
    uow: UnitOfWork,
    warehouse_id: int,
    articles: dict[str, int],
    summaries: list[InventorySummary],
) -> int:
    """Set the FBA warehouse's on-hand per article to Amazon's fulfillable + reserved units."""
    session = uow.session
    held: dict[int, int] = defaultdict(int)
    for summary in summaries:
        article_id = articles.get(summary.seller_sku)
        if article_id is not None:
            held[article_id] += (summary.fulfillable_quantity or 0) + (
                summary.reserved_quantity or 0
            )
    # Articles Amazon no longer holds any of go to 0.
    for article_id in session.scalars(
        select(StockLevelRecord.article_id).where(
            StockLevelRecord.warehouse_id == warehouse_id, StockLevelRecord.on_hand > 0
        )
    ):
        held.setdefault(article_id, 0)
    warehouse = session.get_one(Warehouse, warehouse_id)
    adjusted = 0
    for article_id in sorted(held):
        article = session.get_one(Article, article_id)
        if not article.stock_tracked:
            continue
        level = stock.lock_level(session, article, warehouse)
        if level.on_hand != held[article_id]:
            stock.book_movement(session, article=article, warehouse=warehouse,
                                kind=MovementKind.ADJUSTMENT,
                                quantity=held[article_id] - level.on_hand,
                                actor=ACTOR, reason=REASON)  # fmt: skip
            adjusted += 1
    return adjusted
