"""One stock sync of an account, as the worker and ``sellerbridge stock push`` run it.

Under the account's stock lock (two runs never send the same offers or read the same feed):
the FBA inventory import when it is due (``fba_inventory_minutes``), then the exporter's run —
feed results, the full reconcile when due, the push of what changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine, Exists, exists, select

from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.channels.amazon.stock.exporter import Change, PushReport, StockExporter
from sellerbridge.channels.amazon.stock.fba_inventory import import_fba_inventory
from sellerbridge.channels.amazon.stock.offers import due_condition
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.locks import exclusive
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonOffer,
    AmazonStockSubmission,
    ImportMode,
    SubmissionStatus,
)
from sellerbridge.db.uow import UnitOfWork

LOCK = "stock"
FEED_POLL_SECONDS = 2.0


def sync_stock(
    engine: Engine,
    account_id: int,
    client: SpApiClient,
    settings: Settings,
    *,
    full: bool = False,
    wait_seconds: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> PushReport:
    """One sync; with ``wait_seconds``, then read the feeds' results until Amazon has
    processed them (or the time is up). Raises ``LockTaken`` while another sync runs."""
    with exclusive(engine, f"{LOCK}:{account_id}"):
        if _fba_inventory_due(engine, account_id, settings):
            import_fba_inventory(engine, account_id, client, settings, at=utcnow())
        exporter = StockExporter(engine, account_id, client, settings, sleep=sleep)
        report = exporter.run(full=full)
        waited = 0.0
        while report.feeds and waited < wait_seconds and _feeds_out(engine, account_id):
            sleep(FEED_POLL_SECONDS)
            waited += FEED_POLL_SECONDS
            report.waiting_feeds = 0
            exporter.finish_feeds(report)
        if waited:  # results read after the run: their refusals alerted too
            exporter.alert(report)
        return report


def plan_stock(
    engine: Engine, account_id: int, client: SpApiClient, settings: Settings, *, full: bool
) -> list[Change]:
    """What a sync would send now (``stock push --dry-run``): it reads what a sync reads, so it
    holds the same lock, and sends nothing."""
    with exclusive(engine, f"{LOCK}:{account_id}"):
        return StockExporter(engine, account_id, client, settings).plan(full=full)


def _fba_inventory_due(engine: Engine, account_id: int, settings: Settings) -> bool:
    with UnitOfWork(engine) as uow:
        last = uow.session.get_one(AmazonAccount, account_id).fba_inventory_at
    return last is None or utcnow() - last >= timedelta(minutes=settings.fba_inventory_minutes)


def _feeds_out(engine: Engine, account_id: int) -> bool:
    with UnitOfWork(engine) as uow:
        return bool(uow.session.scalar(select(_submitted(account_id))))


def stock_sync_accounts(engine: Engine) -> list[int]:
    """The accounts whose stock the periodic task keeps in sync (never a demo account)."""
    with UnitOfWork(engine) as uow:
        return list(
            uow.session.scalars(
                select(AmazonAccount.id)
                .where(
                    AmazonAccount.active.is_(True),
                    AmazonAccount.stock_sync.is_(True),
                    AmazonAccount.import_mode != ImportMode.DEMO,
                )
                .order_by(AmazonAccount.id)
            )
        )


def accounts_with_stock_due(engine: Engine) -> list[int]:
    """Of those, the ones with something to do now: an offer whose stock changed, a new SKU
    binding's offers to check, or a feed whose result is to be read (indexed looks)."""
    due = []
    with UnitOfWork(engine) as uow:
        for account_id in stock_sync_accounts(engine):
            changed = exists().where(due_condition(account_id, full=False))
            unchecked = exists().where(
                AmazonOffer.account_id == account_id, AmazonOffer.listed.is_(None)
            )
            if uow.session.scalar(select(changed | unchecked | _submitted(account_id))):
                due.append(account_id)
    return due


def _submitted(account_id: int) -> Exists:
    return exists().where(
        AmazonStockSubmission.account_id == account_id,
        AmazonStockSubmission.status == SubmissionStatus.SUBMITTED,
    )
