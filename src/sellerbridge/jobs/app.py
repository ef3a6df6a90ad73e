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
from sellerbridge.services.alerts import raise_alert, resolve_alerts

log = structlog.get_logger("sellerbridge.jobs")

IMPORT_EVERY_MINUTES = 5
AUTHORISATION_ALERT = "amazon_authorisation"


@dataclass(frozen=True)
class Jobs:
    """The Huey instance and the tasks registered on it."""

    huey: Huey
    import_orders: Any
    """``import_orders(account_id)``: enqueue the order import of one account."""
    schedule_imports: Any
    """The periodic task that enqueues ``import_orders`` for every automatic account."""


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
    return Jobs(huey, import_task, schedule_task)


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

    A refused authorisation raises an alert the operator sees; other API failures are logged
    and the next run tries again. Another run of the same import is left to finish.
    """
    uow = UnitOfWork(engine)
    with uow:
        account = uow.session.get_one(AmazonAccount, account_id)
        name = account.name
        client = accounts.client_for(account, secret_box(settings), engine=engine,
                                     settings=settings)  # fmt: skip
    with client:
        try:
            report = OrderImporter(engine, account_id, client, settings, clock=utcnow).run()
        except LockTaken:
            return "already running"
        except AuthError as error:
            with uow:
                raise_alert(uow.session, kind=AUTHORISATION_ALERT, severity=Severity.ERROR,
                            subject=name, message=str(error), at=utcnow())  # fmt: skip
                uow.commit()
            return f"refused: {error}"
        except SpApiError as error:
            log.warning("order import failed", account=name, error=str(error))
            return f"failed: {error}"
    with uow:  # the authorisation works (again)
        resolve_alerts(uow.session, kind=AUTHORISATION_ALERT, subject=name, at=utcnow())
        uow.commit()
    return f"{report.seen} orders read"
