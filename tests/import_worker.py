"""One order import in a process of its own, for tests that run several at once.

``python -m tests.import_worker SINCE UNTIL PAGE_SIZE`` backfills the only connected account
of the workspace the ``SELLERBRIDGE_*`` variables name, like ``sellerbridge amazon import
--since SINCE --until UNTIL`` but with pages of ``PAGE_SIZE`` orders, so that a few hundred
orders make enough calls to measure the shared rate limit.
"""

from __future__ import annotations

import sys
from datetime import datetime

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.orders.importer import OrderImporter
from sellerbridge.config import load_settings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.engine import make_engine
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import secret_box


def main(since: str, until: str, page_size: str) -> None:
    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    with UnitOfWork(engine) as uow:
        account = accounts.account_by_name(uow.session, None)
        account_id = account.id
        client = accounts.client_for(account, secret_box(settings), engine=engine,
                                     settings=settings)  # fmt: skip
    with client:
        importer = OrderImporter(engine, account_id, client, settings, clock=utcnow,
                                 page_size=int(page_size))  # fmt: skip
        importer.run(since=datetime.fromisoformat(since), until=datetime.fromisoformat(until))
    engine.dispose()


if __name__ == "__main__":
    main(*sys.argv[1:])
