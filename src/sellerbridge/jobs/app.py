"""The Huey application: its storage, the per-account tasks, and their schedule.

Every task is an idempotent reconciler that holds a lock per (task, account) while it works —
the order import and the confirmation exporter take theirs themselves, the FBA invoicing and
the dispatch of :func:`fulfil_orders` take them here — so a task delivered twice, or one
scheduled while the last run is still going, finds the lock taken and leaves the work to the
run that holds it. A crashed worker gives its locks back (:mod:`sellerbridge.db.locks`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import Result
from huey.exceptions import TaskException
from sqlalchemy import Engine, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.dispatch import label_buyer
from sellerbridge.channels.amazon.fba import buyer_emails
from sellerbridge.channels.amazon.invoices.cycle import run_invoicing
from sellerbridge.channels.amazon.invoices.uploads import UPLOADING
from sellerbridge.channels.amazon.orders.importer import OrderImporter
from sellerbridge.channels.amazon.shipments.confirm import (
    ConfirmationExporter,
    accounts_with_due_confirmations,
)
from sellerbridge.channels.amazon.spapi import AuthError, SpApiClient, SpApiError
from sellerbridge.channels.amazon.stock.sync import (
    accounts_with_stock_due,
    stock_sync_accounts,
    sync_stock,
)
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError
from sellerbridge.db.locks import LockTaken, exclusive
from sellerbridge.db.models import AmazonAccount, ImportMode, Severity
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import secret_box
from sellerbridge.services import mailing
from sellerbridge.services.alerts import raise_alert, resolve_alerts
from sellerbridge.services.dispatch import dispatch
from sellerbridge.services.documents import DocumentSettings
from sellerbridge.services.fba import invoice_fba_orders

log = structlog.get_logger("sellerbridge.jobs")

IMPORT_EVERY_MINUTES = 5
FBA_INVOICES_LOCK = "fba-invoices"
DISPATCH_LOCK = "dispatch"
AUTHORISATION_ALERT = "amazon_authorisation"
IMPORT_ALERT = "amazon_import_failed"
CONFIRM_ALERT = "amazon_confirmations_stopped"
STOCK_ALERT = "amazon_stock_stopped"
UPLOAD_ALERT = "amazon_invoice_upload_stopped"
WATCH_SECONDS = 5.0
"""How often ``sellerbridge run`` looks for shipment confirmations and stock changes that are
due (see :func:`watch_due_work`)."""
REQUEUE_SECONDS = 120.0
"""A run enqueued by the watcher and not finished after this long (its task lost with a
crashed worker) no longer stops the watcher from enqueuing the account again."""


@dataclass(frozen=True)
class Jobs:
    """The Huey instance and the tasks registered on it."""

    huey: Huey
    import_orders: Any
    """``import_orders(account_id)``: enqueue the order import of one account."""
    schedule_imports: Any
    """The periodic task that enqueues ``import_orders`` for every automatic account."""
    send_mails: Any
    """The periodic task that sends the document e-mails that are due (every minute)."""
    confirm_shipments: Any
    """``confirm_shipments(account_id)``: send and verify the shipment confirmations of one
    account."""
    schedule_confirmations: Any
    """The periodic task (every minute) that enqueues ``confirm_shipments`` for every active
    account with a confirmation due to be sent or verified."""
    fulfil: Any
    """The periodic task (every 5 minutes) that invoices the FBA orders of every automatic
    account and, with ``auto_dispatch``, dispatches the released orders."""
    sync_stock: Any
    """``sync_stock(account_id)``: FBA inventory when due, feed results, the full reconcile when
    due, and the push of changed quantities of one account."""
    schedule_stock: Any
    """The periodic task (every minute) that enqueues ``sync_stock`` for every account with
    ``stock_sync``."""
    upload_invoices: Any
    """``upload_invoices(account_id)``: upload the due invoices of one account to Amazon and
    read the results."""
    schedule_uploads: Any
    """The periodic task (every minute) that enqueues ``upload_invoices`` for every account
    that uploads its invoices."""


def build_jobs(settings: Settings, engine: Engine, *, immediate: bool = False) -> Jobs:
    """Huey with sellerbridge's tasks; ``immediate`` runs each task when it is enqueued."""
    huey: Huey = (
        RedisHuey("sellerbridge", url=settings.redis_url, immediate=immediate)
        if settings.redis_url
        else SqliteHuey(
            "sellerbridge", filename=str(settings.data_dir / "jobs.db"), immediate=immediate
        )
    )

    def import_orders(account_id: int) -> str:
        return import_account(engine, settings, account_id)

    import_task = huey.task()(import_orders)

    def schedule_imports() -> list[int]:
        automatic = automatic_accounts(engine)
        for account_id in automatic:
            import_task(account_id)
        return automatic

    schedule_task = huey.periodic_task(crontab(minute=f"*/{IMPORT_EVERY_MINUTES}"))(
        schedule_imports
    )

    def send_mails() -> int:
        if not settings.smtp.host:
            return 0  # e-mail is not set up; queued mails wait for it
        return mailing.send_due_mails(engine, settings)

    mail_task = huey.periodic_task(crontab(minute="*"))(send_mails)

    def confirm_shipments(account_id: int) -> str:
        return confirm_account(engine, settings, account_id)

    confirm_task = huey.task()(confirm_shipments)

    def schedule_confirmations() -> list[int]:
        # Every minute: a late confirmation raises the seller's late-shipment rate. Accounts
        # in any mode: a demo account's run only notes that nothing is sent.
        due = accounts_with_due_confirmations(engine, utcnow())
        for account_id in due:
            confirm_task(account_id)
        return due

    schedule_confirm_task = huey.periodic_task(crontab(minute="*"))(schedule_confirmations)

    def fulfil() -> str:
        return fulfil_orders(engine, settings)

    fulfil_task = huey.periodic_task(crontab(minute=f"*/{IMPORT_EVERY_MINUTES}"))(fulfil)

    def sync_stock_of(account_id: int) -> str:
        return stock_account(engine, settings, account_id)

    stock_task = huey.task()(sync_stock_of)

    def schedule_stock() -> list[int]:
        # Every minute: reconciles and FBA imports fall due by time, not by a change.
        synced = stock_sync_accounts(engine)
        for account_id in synced:
            stock_task(account_id)
        return synced

    schedule_stock_task = huey.periodic_task(crontab(minute="*"))(schedule_stock)

    def upload_invoices(account_id: int) -> str:
        return upload_account(engine, settings, account_id)

    upload_task = huey.task()(upload_invoices)

    def schedule_uploads() -> list[int]:
        uploading = uploading_accounts(engine)
        for account_id in uploading:
            upload_task(account_id)
        return uploading

    schedule_upload_task = huey.periodic_task(crontab(minute="*"))(schedule_uploads)
    return Jobs(huey, import_task, schedule_task, mail_task, confirm_task, schedule_confirm_task,
                fulfil_task, stock_task, schedule_stock_task, upload_task,
                schedule_upload_task)  # fmt: skip


def fulfil_orders(engine: Engine, settings: Settings) -> str:
    """The processes that follow an import: FBA invoices, then the automatic dispatch.

    Each under its lock — the FBA invoices per account, the dispatch (every channel's released
    orders) once — so that two runs never issue the same invoice or buy the same label twice;
    a part whose lock is taken is left to the run that holds it.
    """
    document_settings = DocumentSettings.of(settings)
    invoiced, busy = 0, []
    for account_id in automatic_accounts(engine):
        try:
            with (
                exclusive(engine, f"{FBA_INVOICES_LOCK}:{account_id}"),
                buyer_emails(engine, settings, account_id) as lookup,
            ):
                fba = invoice_fba_orders(engine, document_settings, account_id,
                                         at=utcnow(), buyer_emails=lookup)  # fmt: skip
                invoiced += fba.invoiced
        except LockTaken:
            busy.append(f"FBA invoices of account {account_id}")
    done = f"{invoiced} FBA invoice(s)" + (
        f"; running elsewhere: {', '.join(busy)}" if busy else ""
    )
    if not settings.auto_dispatch:
        return done
    try:
        with exclusive(engine, DISPATCH_LOCK), label_buyer(engine, settings) as buy_label:
            report = dispatch(engine, document_settings, actor="job:dispatch", at=utcnow(),
                              buy_label=buy_label,
                              partial=settings.partial_shipments)  # fmt: skip
    except LockTaken:
        return f"{done}; dispatch running elsewhere"
    for number, why in report.failed:
        log.warning("dispatch left an order", order=number, reason=why)
    return (
        f"{done}; dispatch: {len(report.shipped)} shipped, "
        f"{len(report.prepared)} prepared, {len(report.failed)} left"
    )


def automatic_accounts(engine: Engine) -> list[int]:
    """The accounts whose orders are imported on a schedule."""
    with UnitOfWork(engine) as uow:
        return list(
            uow.session.scalars(
                select(AmazonAccount.id)
                .where(
                    AmazonAccount.active.is_(True),
                    AmazonAccount.import_mode == ImportMode.AUTOMATIC,
                )
                .order_by(AmazonAccount.id)
            )
        )


def import_account(engine: Engine, settings: Settings, account_id: int) -> str:
    """Run the order import of one account; returns how it went."""

    def run(client: SpApiClient) -> str:
        report = OrderImporter(engine, account_id, client, settings, clock=utcnow).run()
        return f"{report.seen} orders read"

    return account_run(engine, settings, account_id, "order import", IMPORT_ALERT, run)


def confirm_account(engine: Engine, settings: Settings, account_id: int) -> str:
    """Send and verify the shipment confirmations of one account; returns how it went. A
    single package's problem is the exporter's alert."""

    def run(client: SpApiClient) -> str:
        report = ConfirmationExporter(engine, account_id, client, settings).run()
        return (
            f"{report.sent} sent, {report.verified} verified, {report.failed} failed, "
            f"{report.postponed} postponed, {report.held} held (demo)"
        )

    return account_run(engine, settings, account_id, "shipment confirmations", CONFIRM_ALERT, run)


def stock_account(engine: Engine, settings: Settings, account_id: int) -> str:
    """Run one stock sync of an account (:func:`~.stock.sync.sync_stock`); returns how it
    went. A SKU Amazon refuses is the exporter's alert."""

    def run(client: SpApiClient) -> str:
        report = sync_stock(engine, account_id, client, settings)
        return (
            f"{report.checked} checked, {report.patched} patched, {len(report.feeds)} feed(s) "
            f"of {report.feed_messages} message(s), {report.accepted} accepted, "
            f"{len(report.failed)} refused, {report.deferred} deferred"
        )

    return account_run(engine, settings, account_id, "stock sync", STOCK_ALERT, run)


def upload_account(engine: Engine, settings: Settings, account_id: int) -> str:
    """One account's invoicing with Amazon (VCS invoices, refunds' corrections, uploads: see
    :mod:`~sellerbridge.channels.amazon.invoices.cycle`); returns how it went. A rejected or
    unknown upload, or a refund that cannot be corrected, is the run's alert."""

    def run(client: SpApiClient) -> str:
        report = run_invoicing(engine, account_id, client, settings)
        upload = report.upload
        return (
            f"{len(report.vcs.issued)} VCS invoice(s), {len(report.refunds.corrected)} "
            f"correction(s); uploads: {upload.queued} queued, {upload.sent} sent, "
            f"{upload.accepted} accepted, {len(upload.rejected)} rejected, "
            f"{len(upload.unknown)} unknown"
        )

    return account_run(engine, settings, account_id, "invoice upload", UPLOAD_ALERT, run)


def uploading_accounts(engine: Engine) -> list[int]:
    """The accounts that upload the invoices of a fulfilment channel (never a demo one)."""
    with UnitOfWork(engine) as uow:
        return list(
            uow.session.scalars(
                select(AmazonAccount.id)
                .where(
                    AmazonAccount.active.is_(True),
                    AmazonAccount.import_mode != ImportMode.DEMO,
                    AmazonAccount.invoice_mode_fbm.in_(UPLOADING)
                    | AmazonAccount.invoice_mode_fba.in_(UPLOADING)
                    # invoices issued before a switch to VCS with Amazon issuing still go
                    | AmazonAccount.invoice_upload_from.is_not(None),
                )
                .order_by(AmazonAccount.id)
            )
        )


def account_run(
    engine: Engine,
    settings: Settings,
    account_id: int,
    what: str,
    alert: str,
    work: Callable[[SpApiClient], str],
) -> str:
    """Run ``work`` with the account's SP-API client; returns how it went.

    Whatever stops it raises an alert the operator sees — a refused authorisation (with what to
    do), Amazon failing beyond the retries, anything unexpected — and the next run tries again;
    a run that gets through resolves them. A run whose lock is taken is left to finish.
    """
    uow = UnitOfWork(engine)
    with uow:
        account = uow.session.get_one(AmazonAccount, account_id)
        name = account.name
        client = accounts.client_for(account, secret_box(settings), engine=engine,
                                     settings=settings)  # fmt: skip
    kind, message = AUTHORISATION_ALERT, ""
    with client:
        try:
            done = work(client)
        except LockTaken:
            return "already running"
        except AuthError as error:
            message = f"{error} {accounts.credentials_hint(error) or ''}".strip()
        except (SpApiError, DomainError) as error:
            kind, message = alert, f"{error}"
        except Exception as error:  # noqa: BLE001 - an alert; its text could hold personal data
            kind, message = alert, f"an unexpected error ({type(error).__name__})."
    if message:
        log.warning(f"{what} stopped", account=name, error=message)
        with uow:
            raise_alert(uow.session, kind=kind, severity=Severity.ERROR, subject=name,
                        message=f"The {what} of Amazon account {name} stopped: {message}",
                        at=utcnow())  # fmt: skip
            uow.commit()
        return f"failed: {message}"
    with uow:  # it works (again)
        for resolved in (AUTHORISATION_ALERT, alert):
            resolve_alerts(uow.session, kind=resolved, subject=name, at=utcnow())
        uow.commit()
    return done


def watch_due_work(
    jobs: Jobs, engine: Engine, stop: threading.Event, *, every: float = WATCH_SECONDS
) -> None:
    """Until ``stop`` is set, every ``every`` seconds enqueue ``confirm_shipments`` for each
    account with a shipment confirmation due and ``sync_stock`` for each account whose stock
    changed (or whose feed result is to be read), unless that account's last such run has not
    finished.

    Why: Huey's periodic tasks run at most once a minute, so a package shipped just after the
    minute's run waited up to a minute before Amazon heard of it (a late confirmation raises
    the seller's late-shipment rate), and a sell-out sat on Amazon as long (an order for stock
    that is gone). ``sellerbridge run`` runs this beside the scheduler, so a shipment or a stock
    change written by any process is sent within seconds (``bench/confirm_latency.py``); it
    costs a few indexed queries per interval. The minute's schedules stay as the safety net.
    """
    enqueued: dict[tuple[str, int], tuple[Result, float]] = {}
    work: tuple[tuple[str, Callable[[], list[int]], Callable[[int], Result]], ...] = (
        ("confirmations", lambda: accounts_with_due_confirmations(engine, utcnow()),
         jobs.confirm_shipments),
        ("stock", lambda: accounts_with_stock_due(engine), jobs.sync_stock),
    )  # fmt: skip
    while not stop.wait(every):
        for name, find_due, task in work:
            try:
                for account_id in find_due():
                    if _still_running(enqueued.get((name, account_id)), name, account_id):
                        continue
                    enqueued[(name, account_id)] = (task(account_id), time.monotonic())
            except Exception:  # the database or the queue away for a moment: the next look
                log.exception("looking for due work failed; trying again", work=name)


def _still_running(last: tuple[Result, float] | None, name: str, account_id: int) -> bool:
    """Whether the last run of ``name`` the watcher enqueued for the account is unfinished."""
    if last is None:
        return False
    result, at = last
    try:
        if result.get() is not None:  # finished (and its stored result read, so not kept)
            return False
    except TaskException as error:
        log.warning("a run failed", work=name, account=account_id, error=f"{error}")
        return False
    return time.monotonic() - at < REQUEUE_SECONDS
