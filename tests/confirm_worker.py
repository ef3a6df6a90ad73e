"""One shipment confirmation run in a process of its own, for tests that kill it.

``python -m tests.confirm_worker HOURS`` runs the confirmation exporter of the only connected
account of the workspace the ``SELLERBRIDGE_*`` variables name, like ``sellerbridge amazon
confirm``, but with a clock ``HOURS`` ahead (past the pauses and leases that earlier, killed runs
left behind) and the tests' short retries and timeouts.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.shipments.confirm import ConfirmationExporter
from sellerbridge.channels.amazon.spapi import RetryPolicy
from sellerbridge.config import load_settings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.engine import make_engine
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import secret_box

FAST = RetryPolicy(attempts=8, base=0.01, cap=0.2, throttled=30)


def main(hours: str) -> None:
    ahead = timedelta(hours=float(hours))

    def clock() -> datetime:
        return utcnow() + ahead

    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    with UnitOfWork(engine) as uow:
        account = accounts.account_by_name(uow.session, None)
        account_id = account.id
        client = accounts.client_for(account, secret_box(settings), engine=engine,
                                     settings=settings, timeout=1.0, retry=FAST)  # fmt: skip
    with client:
        ConfirmationExporter(engine, account_id, client, settings, clock=clock).run()
    engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
