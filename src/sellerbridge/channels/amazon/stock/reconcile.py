"""The full reconcile: read Amazon's listings and take its quantities as the acknowledged ones.

Per FBM marketplace of the account one ``GET_MERCHANT_LISTINGS_ALL_DATA`` report (Amazon's "All
Listings Report": every listing with its SKU, quantity and fulfilment channel) is requested,
awaited and read. Each listing of a SKU the ERP knows (by binding, or an article numbered like
the SKU) becomes or updates an offer: Amazon-fulfilled listings are FBA offers (never sent a
quantity), the others take Amazon's quantity as the last acknowledged one and are compared
again at the next push, which sends only the differences. An offer Amazon does not list on a
marketplace is marked so and left alone there. Listings of SKUs the ERP does not know are
counted, not stored.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Engine, insert, select, update

from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.channels.amazon.stock.offers import articles_of_skus, fbm_warehouses
from sellerbridge.core.errors import DomainError
from sellerbridge.db.bulk import execute_batched
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonMarketplace,
    AmazonOffer,
    Fulfillment,
)
from sellerbridge.db.uow import UnitOfWork

log = structlog.get_logger(__name__)

LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
MERCHANT_CHANNEL = "DEFAULT"
REPORT_POLL_SECONDS = 10.0
"""How often a listings report's state is asked for (Amazon takes minutes to make one)."""
REPORT_TIMEOUT_SECONDS = 1800.0


@dataclass(frozen=True, slots=True)
class Listing:
    """One row of the listings report, as far as stock is concerned."""

    sku: str
    quantity: int | None
    amazon_fulfilled: bool


@dataclass
class ReconcileReport:
    listings: int = 0
    """Listings read, over all marketplaces."""
    offers: int = 0
    """Offers of SKUs the ERP knows, created or updated."""
    unknown_skus: set[str] = field(default_factory=set)
    """Listed SKUs the ERP has no article for."""


def reconcile(
    engine: Engine,
    account_id: int,
    client: SpApiClient,
    *,
    at: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> ReconcileReport:
    """Read Amazon's listings of every FBM marketplace of the account into its offers."""
    uow = UnitOfWork(engine)
    with uow:
        participating = set(
            uow.session.scalars(
                select(AmazonMarketplace.marketplace_id).where(
                    AmazonMarketplace.account_id == account_id,
                    AmazonMarketplace.participating.is_(True),
                )
            )
        )
        marketplaces = sorted(
            m for m in fbm_warehouses(uow.session, account_id) if m in participating
        )
    report = ReconcileReport()
    for marketplace_id, listings in read_listings(client, marketplaces, sleep=sleep):
        report.listings += len(listings)
        with uow:
            _apply(uow, account_id, marketplace_id, listings, report)
            uow.commit()
    with uow:
        uow.session.get_one(AmazonAccount, account_id).offers_reconciled_at = at
        uow.commit()
    if report.unknown_skus:
        log.info("listed SKUs without an article", account=account_id,
                 count=len(report.unknown_skus))  # fmt: skip
    return report


def read_listings(
    client: SpApiClient,
    marketplace_ids: Sequence[str],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[str, list[Listing]]]:
    """Request the listings report of each marketplace (Amazon takes one marketplace per
    report) at once, and yield each marketplace's listings as its report is done."""
    waiting = {client.create_report(LISTINGS_REPORT, [m]): m for m in marketplace_ids}
    waited = 0.0
    while waiting:
        for report_id, marketplace_id in list(waiting.items()):
            report = client.get_report(report_id)
            status = str(report.processing_status)
            if status == "CANCELLED":  # Amazon cancels a report without data: nothing listed
                del waiting[report_id]
                yield marketplace_id, []
            elif status == "FATAL":
                raise DomainError(
                    f"Amazon could not produce the listings report {report_id}.",
                    hint="The next full reconcile asks again.",
                )
            elif status == "DONE" and report.report_document_id:
                del waiting[report_id]
                location = client.get_report_document(report.report_document_id)
                yield marketplace_id, parse_listings(client.download_document(location))
        if not waiting:
            return
        if waited >= REPORT_TIMEOUT_SECONDS:
            raise DomainError(
                f"{len(waiting)} listings report(s) not ready after {waited:.0f} s.",
                hint="The next full reconcile asks again.",
            )
        sleep(REPORT_POLL_SECONDS)
        waited += REPORT_POLL_SECONDS


def parse_listings(content: bytes) -> list[Listing]:
    """The rows of a listings report (tab-separated, a header row naming the columns; rows
    may lack trailing empty fields). Read line by line: a 100,000-SKU report is not copied."""
    try:
        return _parse(content, "utf-8-sig")
    except UnicodeDecodeError:  # older European reports come in Windows-1252
        return _parse(content, "cp1252")


def _parse(content: bytes, encoding: str) -> list[Listing]:
    text = io.TextIOWrapper(io.BytesIO(content), encoding=encoding, newline="")
    rows = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = {name.strip(): index for index, name in enumerate(next(rows, []))}
    missing = {"seller-sku", "quantity", "fulfillment-channel"} - set(columns)
    if missing:
        raise DomainError(f"The listings report has no column {', '.join(sorted(missing))}.")
    at_sku, at_quantity, at_channel = (
        columns[name] for name in ("seller-sku", "quantity", "fulfillment-channel")
    )
    listings = []
    for row in rows:
        sku, quantity, channel = (
            row[at].strip() if at < len(row) else "" for at in (at_sku, at_quantity, at_channel)
        )
        if sku:
            amazon = (channel or MERCHANT_CHANNEL).upper() != MERCHANT_CHANNEL
            listings.append(Listing(sku, int(quantity) if quantity.isdigit() else None, amazon))
    return listings


def _apply(
    uow: UnitOfWork,
    account_id: int,
    marketplace_id: str,
    listings: list[Listing],
    report: ReconcileReport,
) -> None:
    session = uow.session
    skus = {listing.sku for listing in listings}
    articles = articles_of_skus(session, account_id, skus)
    existing = {
        sku: (offer_id, submission is not None)
        for sku, offer_id, submission in session.execute(
            select(AmazonOffer.seller_sku, AmazonOffer.id, AmazonOffer.submission_id).where(
                AmazonOffer.account_id == account_id, AmazonOffer.marketplace_id == marketplace_id
            )
        )
    }
    report.unknown_skus |= skus - set(articles)
    known = [listing for listing in listings if listing.sku in articles]

    def seen(listing: Listing) -> dict[str, Any]:
        quantity = None if listing.amazon_fulfilled else listing.quantity
        fulfillment = Fulfillment.FBA if listing.amazon_fulfilled else Fulfillment.FBM
        return {"listed": True, "amazon_quantity": quantity, "article_id": articles[listing.sku],
                "fulfillment": fulfillment}  # fmt: skip

    def baseline(listing: Listing) -> dict[str, Any]:
        # Amazon's quantity is the acknowledged one now; compared again at the next push.
        quantity = None if listing.amazon_fulfilled else listing.quantity
        return {"sent_quantity": quantity, "checked_version": -1, "error": None, "result": None}

    # Rows are made as they are written (generators): 100,000 of them at once would not fit
    # the memory budget.
    offers = execute_batched(session, update(AmazonOffer), (
        {"id": existing[listing.sku][0], **seen(listing), **baseline(listing)}
        for listing in known
        if listing.sku in existing and not existing[listing.sku][1]
    ))  # fmt: skip
    offers += execute_batched(session, update(AmazonOffer), (  # a feed of it is out: its
        {"id": existing[listing.sku][0], **seen(listing)}  # result decides the rest
        for listing in known
        if listing.sku in existing and existing[listing.sku][1]
    ))  # fmt: skip
    offers += execute_batched(session, insert(AmazonOffer), (
        {"account_id": account_id, "marketplace_id": marketplace_id, "seller_sku": listing.sku,
         **seen(listing), **baseline(listing)}
        for listing in known
        if listing.sku not in existing
    ))  # fmt: skip
    execute_batched(session, update(AmazonOffer), (
        {"id": offer_id, "listed": False}
        for sku, (offer_id, _) in existing.items()
        if sku not in skus
    ))  # fmt: skip
    report.offers += offers
