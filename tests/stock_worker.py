"""One stock sync in a process of its own, for tests that kill it.

``python -m tests.stock_worker`` runs :func:`~sellerbridge.channels.amazon.stock.sync.sync_stock`
for the only connected account of the workspace the ``SELLERBRIDGE_*`` variables name, like
``sellerbridge stock push``, with the tests' short retries and timeouts, waiting for its feeds.
"""

from __future__ import annotations

import time

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.stock.sync import sync_stock
from sellerbridge.config import load_settings
from sellerbridge.db.engine import make_engine
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import secret_box
from tests.confirm_worker import FAST


def main() -> None:
    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    with UnitOfWork(engine) as uow:
        account = accounts.account_by_name(uow.session, None)
        account_id = account.id
        client = accounts.client_for(account, secret_box(settings), engine=engine,
                                     settings=settings, timeout=1.0, retry=FAST)  # fmt: skip
    with client:
        sync_stock(engine, account_id, client, settings, wait_seconds=30,
                   sleep=lambda _: time.sleep(0.1))  # fmt: skip
    engine.dispose()


if __name__ == "__main__":
    main()
