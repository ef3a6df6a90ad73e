"""The Huey application: its storage, the per-account tasks, and their schedule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import Engine, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.orders.importer import OrderImporter
from sellerbridge.channels.amazon.spapi import AuthError, SpApiError
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.locks import LockTaken
from sellerbridge.db.models import AmazonAccount, ImportMode, Severity
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import secret_box
from sellerbridge.services import mailing
from sellerbridge.services.alerts import raise_alert, resolve_alerts

log = structlog.get_logger("sellerbridge.jobs")

IMPORT_EVERY_MINUTES = 5
AUTHORISATION_ALERT = "amazon_authorisation"
IMPORT_ALERT = "amazon_import_failed"


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
    return Jobs(huey, import_task, schedule_task, mail_task)


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
    """Run the order import of one account; returns how it went.

    Whatever stops it raises an alert the operator sees — a refused authorisation (with what to
    do), Amazon failing beyond the retries, anything unexpected — and the next run tries again;
    a run that gets through resolves them. Another run of the same import is left to finish.
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
            report = OrderImporter(engine, account_id, client, settings, clock=utcnow).run()
        except LockTaken:
            return "already running"
        except AuthError as error:
            message = f"{error} {accounts.credentials_hint(error) or ''}".strip()
        except SpApiError as error:
            kind, message = IMPORT_ALERT, f"{error}"
        except Exception as error:  # noqa: BLE001 - an alert; its text could hold personal data
            kind, message = IMPORT_ALERT, f"an unexpected error ({type(error).__name__})."
    if message:
        log.warning("order import failed", account=name, error=message)
        _alert(uow, kind, name, message)
        return f"failed: {message}"
    with uow:  # it works (again)
        for kind in (AUTHORISATION_ALERT, IMPORT_ALERT):
            resolve_alerts(uow.session, kind=kind, subject=name, at=utcnow())
        uow.commit()
    return f"{report.seen} orders read"


def _alert(uow: UnitOfWork, kind: str, account: str, message: str) -> None:
    with uow:
        raise_alert(uow.session, kind=kind, severity=Severity.ERROR, subject=account,
                    message=f"The order import of Amazon account {account} stopped: {message}",
                    at=utcnow())  # fmt: skip
        uow.commit()
