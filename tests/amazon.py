"""A workspace connected to a live sandbox seller, and what the sandbox says it should hold.

The expectations are computed from the sandbox's own order records — status, fulfilment
channel, amounts — never from sellerbridge's mapping, so a mapping error cannot hide itself.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.orders.importer import (
    INCLUDED_DATA,
    PAGE_SIZE,
    ImportReport,
    OrderImporter,
    Outcome,
)
from sellerbridge.channels.amazon.spapi import Credentials, RetryPolicy, SpApiClient
from sellerbridge.channels.amazon.spapi.models.orders import Order
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonChannel,
    AmazonOrderBinding,
    ImportMode,
    SalesOrder,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo.amazon import article_number, connect_sandbox_seller, stock_catalogue
from sellerbridge.sandbox.catalog import catalogue
from sellerbridge.sandbox.order_records import Order as SandboxOrder
from sellerbridge.secrets import secret_box
from tests.sandbox.harness import LiveSandbox

FAST = RetryPolicy(attempts=8, base=0.01, cap=0.2, throttled=30)
"""Retries like the defaults, minus most of the waiting."""
SHORT_TIMEOUT = 1.0
"""Seconds before a request counts as timed out (the sandbox's "hang" fault)."""

FBM_IMPORTED = {"UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED"}
FBA_IMPORTED = {"SHIPPED"}

Key = tuple[str, str, str]
"""(marketplace id, MERCHANT or AMAZON, Amazon's status)."""


def settings_for(tmp_path: Any, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "database_url": database_url,
        "secret_key": Fernet.generate_key().decode(),
        "amazon_window_delay_seconds": 0.5,
        "home_country": "DE",
    }
    return Settings(**(values | overrides))


@dataclass
class Shop:
    """A workspace selling the sandbox seller's catalogue, connected to the sandbox."""

    live: LiveSandbox
    engine: Engine
    settings: Settings
    account_id: int
    since: datetime
    """Where backfills start: before the oldest generated order."""

    @property
    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine)

    def client(self, **options: Any) -> SpApiClient:
        options.setdefault("timeout", SHORT_TIMEOUT)
        options.setdefault("retry", FAST)
        with self.uow as uow:
            account = uow.session.get_one(AmazonAccount, self.account_id)
            return accounts.client_for(account, secret_box(self.settings), engine=self.engine,
                                       settings=self.settings, **options)  # fmt: skip

    @contextmanager
    def importer(
        self, page_size: int = PAGE_SIZE, **client_options: Any
    ) -> Iterator[OrderImporter]:
        with self.client(**client_options) as client:
            yield OrderImporter(self.engine, self.account_id, client, self.settings,
                                actor="test", clock=utcnow, page_size=page_size)  # fmt: skip

    def backfill(self, **client_options: Any) -> ImportReport:
        """Import every order the sandbox has (a backfill from before the oldest one)."""
        with self.importer(**client_options) as importer:
            return importer.run(since=self.since)

    def sync(self, **client_options: Any) -> ImportReport:
        """The regular import, once every change in the sandbox is old enough to be read."""
        newest = max((o.last_updated_time for o in self.sandbox_orders()), default=utcnow())
        # A window ends ``amazon_window_delay_seconds`` ago, rounded down to the second.
        ready = newest + timedelta(seconds=self.settings.amazon_window_delay_seconds + 1.1)
        time.sleep(max(0.0, (ready - utcnow()).total_seconds()))
        with self.importer(**client_options) as importer:
            return importer.run()

    def place(self, **spec: Any) -> str:
        """Place an order in the sandbox (``OrderSpec`` fields); returns its id."""
        order_id: str = self.live.admin("POST", "/orders", json=spec)["order_id"]
        return order_id

    def event(self, order_id: str, event: str, **details: Any) -> None:
        self.live.admin("POST", f"/orders/{order_id}/events", json={"event": event, **details})

    def payload(self, order_id: str) -> dict[str, Any]:
        """The order as ``getOrder`` returns it, as JSON to change and apply."""
        with self.client() as client:
            order = client.get_order(order_id, INCLUDED_DATA)
        payload: dict[str, Any] = order.model_dump(by_alias=True, mode="json")
        return payload

    def apply(self, payload: dict[str, Any]) -> Outcome:
        """Apply an order payload as if Amazon had returned it."""
        with self.importer() as importer:
            return importer.apply(Order.model_validate(payload), importer.rules())

    def erp(self, amazon_order_id: str) -> ErpOrder:
        with self.uow as uow:
            binding = uow.session.scalars(
                select(AmazonOrderBinding).where(
                    AmazonOrderBinding.amazon_order_id == amazon_order_id
                )
            ).one()
            order = binding.order
            return ErpOrder(
                number=order.number,
                state=order.state.value,
                holds={hold.code: hold.message for hold in order.open_holds},
                reserved=sum(r.reserved for line in order.lines for r in line.reservations),
                lines=[(line.article_number, line.article_id is not None) for line in order.lines],
            )

    def environment(self) -> dict[str, str]:
        """The variables that point a ``sellerbridge`` process at this workspace."""
        settings = self.settings
        assert settings.secret_key is not None
        return os.environ | {
            "SELLERBRIDGE_DATA_DIR": str(settings.data_dir),
            "SELLERBRIDGE_DATABASE_URL": settings.effective_database_url,
            "SELLERBRIDGE_SECRET_KEY": settings.secret_key.get_secret_value(),
            "SELLERBRIDGE_AMAZON_WINDOW_DELAY_SECONDS": str(settings.amazon_window_delay_seconds),
        }

    def sandbox_orders(self) -> list[SandboxOrder]:
        seller = self.live.seller.seller_id
        orders = self.live.sandbox.state.orders.orders.values()
        return [order for order in orders if order.seller_id == seller]


@dataclass(frozen=True)
class ErpOrder:
    """What an operator sees of an imported order."""

    number: str
    state: str
    holds: dict[str, str]
    """Open holds: code → the reason shown."""
    reserved: int
    lines: list[tuple[str, bool]]
    """(article number or SKU, whether an article is known) per line."""


def open_shop(
    live: LiveSandbox,
    engine: Engine,
    settings: Settings,
    *,
    since: datetime,
    on_hand: int = 1000,
    mode: ImportMode = ImportMode.AUTOMATIC,
    without: Collection[str] = (),
    start_date: datetime | None = None,
) -> Shop:
    """Stock the seller's catalogue in ``engine``'s workspace and connect the seller.

    The account's start date is now (unless given): orders before it come in through a
    backfill from ``since``, as a merchant brings in their history when switching. Articles for
    the SKUs ``without`` are left out (and their FBA SKUs unbound).
    """
    uow = UnitOfWork(engine)
    seller = live.seller
    products = [
        product
        for product in catalogue(live.sandbox.config.seed, seller.seller_id)
        if article_number(product) not in without
    ]
    stock_catalogue(uow, products, on_hand=on_hand, actor="test")
    account = connect_sandbox_seller(
        uow,
        secret_box(settings),
        base_url=live.base_url,
        seller_id=seller.seller_id,
        credentials=Credentials(live.app.client_id, live.app.client_secret, seller.refresh_token),
        products=products,
        engine=engine,
        settings=settings,
        start_date=start_date or utcnow(),
        mode=mode,
        actor="test",
    )
    return Shop(live, engine, settings, account.id, since)


def eligible(shop: Shop) -> Counter[Key]:
    """What the sandbox says an import must bring in: FBM orders released for shipping or
    shipped, FBA orders shipped, placed since the backfill start."""
    return Counter(
        (order.marketplace_id, order.fulfilled_by, order.status.value)
        for order in shop.sandbox_orders()
        if order.created_time >= shop.since
        and order.status.value
        in (FBM_IMPORTED if order.fulfilled_by == "MERCHANT" else FBA_IMPORTED)
    )


def imported(shop: Shop) -> Counter[Key]:
    with shop.uow as uow:
        rows = uow.session.execute(
            select(
                AmazonOrderBinding.marketplace_id,
                AmazonOrderBinding.fulfillment,
                AmazonOrderBinding.amazon_status,
            )
        )
        return Counter(
            (marketplace, "MERCHANT" if fulfillment.value == "FBM" else "AMAZON", status)
            for marketplace, fulfillment, status in rows
        )


# What an ERP order is, given Amazon's status: open ones may be held (a cancellation request,
# a partial shipment elsewhere); shipped ones are history or shipped by Amazon.
ERP_STATES = {
    ("MERCHANT", "UNSHIPPED"): {"open", "on_hold"},
    ("MERCHANT", "PARTIALLY_SHIPPED"): {"on_hold"},
    ("MERCHANT", "SHIPPED"): {"shipped"},
    ("AMAZON", "SHIPPED"): {"shipped"},
}


def assert_matches_sandbox(shop: Shop) -> None:
    """Every eligible sandbox order is in the ERP exactly once, with Amazon's amounts."""
    assert imported(shop) == eligible(shop)
    by_id = {order.order_id: order for order in shop.sandbox_orders()}
    with shop.uow as uow:
        session = uow.session
        orders = session.scalar(select(func.count()).select_from(SalesOrder))
        assert orders == sum(eligible(shop).values()), "an ERP order without its Amazon binding"
        mappings = {
            (mapping.marketplace_id, mapping.fulfillment): mapping.channel_id
            for mapping in session.scalars(select(AmazonChannel))
        }
        for binding in session.scalars(select(AmazonOrderBinding)):
            amazon, erp = by_id[binding.amazon_order_id], binding.order
            where = f"{amazon.order_id} ({erp.number})"
            assert erp.channel_id == mappings[(binding.marketplace_id, binding.fulfillment)]
            assert erp.state.value in ERP_STATES[(amazon.fulfilled_by, amazon.status.value)], where
            assert (erp.currency, erp.total_gross, erp.total_tax) == (
                amazon.currency,
                amazon.grand_total,
                amazon.total_tax,
            ), where
            assert erp.total_net + erp.total_tax == erp.total_gross, where
            for line in erp.lines:
                assert line.net + line.tax == line.gross, where
            for charge in erp.charges:
                assert charge.net + charge.tax == charge.gross, where
            assert sum((line.gross for line in erp.lines), Decimal(0)) + sum(
                (charge.gross for charge in erp.charges), Decimal(0)
            ) == erp.total_gross, where  # fmt: skip
            assert len(erp.lines) == len(amazon.items), where
