"""FBA invoices of Amazon accounts: the buyer's address for the invoice mail.

The Orders API 2026 gives ``buyerEmail`` for FBM orders only. :func:`buyer_emails` gives
:func:`sellerbridge.services.fba.invoice_fba_orders` a lookup that reads it with the Orders API
v0 ``getOrderBuyerInfo`` (a restricted operation: the client gets a Restricted Data Token; the
app needs the Tax Invoicing role). Amazon deprecated v0 (to be migrated by 2027-03-27); when it
goes, the lookup's error is alerted and the invoice reaches the buyer by upload instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import Engine

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.channels.amazon.spapi.errors import RetryableError, SpApiError, ThrottledError
from sellerbridge.config import Settings
from sellerbridge.core.errors import DomainError
from sellerbridge.db.models import AmazonAccount
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.secrets import secret_box
from sellerbridge.services.fba import AddressLater, BuyerEmails


@contextmanager
def buyer_emails(
    engine: Engine, settings: Settings, account_id: int, **client_options: Any
) -> Iterator[BuyerEmails]:
    """The account's buyer-address lookup for the duration of the block. Its SP-API client
    (:func:`~sellerbridge.channels.amazon.accounts.client_for` with ``client_options``) is made
    at the first lookup — most runs need none — and closes with the block."""
    with ExitStack() as stack:
        clients: list[SpApiClient] = []

        def client() -> SpApiClient:
            if not clients:
                with UnitOfWork(engine) as uow:
                    account = uow.session.get_one(AmazonAccount, account_id)
                    made = accounts.client_for(account, secret_box(settings), engine=engine,
                                               settings=settings, **client_options)  # fmt: skip
                clients.append(stack.enter_context(made))
            return clients[0]

        def lookup(amazon_order_id: str) -> str | None:
            try:
                return client().get_order_buyer_email(amazon_order_id)
            except (RetryableError, ThrottledError) as error:
                raise AddressLater(str(error)) from error
            except SpApiError as error:
                raise DomainError(str(error)) from error

        yield lookup
