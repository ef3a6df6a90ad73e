"""One invoicing run in a process of its own, for tests that kill it.

``python -m tests.upload_worker`` runs :func:`run_invoicing` (refunds' corrections, then the
uploads) for the only connected account of the workspace the ``SELLERBRIDGE_*`` variables name,
like ``sellerbridge amazon upload``, with the tests' short retries and timeouts.
"""

from __future__ import annotations

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.invoices.cycle import run_invoicing
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
        run_invoicing(engine, account_id, client, settings, force=True)
    engine.dispose()


if __name__ == "__main__":
    main()
