"""A workspace selling a sandbox seller's catalogue, connected to it; the demo's Amazon day.

The sandbox generates each seller's products from its seed (:mod:`sellerbridge.sandbox.catalog`).
For its orders to import cleanly the ERP needs the same articles — numbered like the
merchant SKUs, so the import finds them without a binding — and a binding for every ``-FBA``
SKU, which sells the same article from Amazon's warehouses. The demo, the tests and the
benchmarks set a workspace up this way.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from sellerbridge.channels.amazon import accounts
from sellerbridge.channels.amazon.orders.importer import ImportReport, OrderImporter, Outcome
from sellerbridge.channels.amazon.skus import map_sku
from sellerbridge.channels.amazon.spapi import Credentials
from sellerbridge.config import Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.orders import (
    HOLD_ADDRESS_INCOMPLETE,
    HOLD_CANCEL_REQUEST,
    HOLD_PARTLY_SHIPPED,
    HOLD_SHIPPED_ELSEWHERE,
    HOLD_TOTALS_MISMATCH,
    HOLD_UNKNOWN_ARTICLE,
)
from sellerbridge.db.models import AmazonAccount, AmazonOrderBinding, ImportMode
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.sandbox import SandboxConfig
from sellerbridge.sandbox.catalog import Product, catalogue
from sellerbridge.sandbox.server import serve_in_background
from sellerbridge.secrets import SecretBox, secret_box
from sellerbridge.services import stock
from sellerbridge.services.articles import import_articles, read_csv
from sellerbridge.services.lookup import order_by_number
from sellerbridge.services.orders import release_order
from sellerbridge.services.setup import MAIN_WAREHOUSE

FBA_SUFFIX = "-FBA"


def article_number(product: Product) -> str:
    """The article a product's SKU sells (``SB-0003-FBA`` sells ``SB-0003``)."""
    return product.sku.removesuffix(FBA_SUFFIX)


def stock_catalogue(
    uow: UnitOfWork, products: Sequence[Product], *, on_hand: int, actor: str
) -> None:
    """Create an article per product and put ``on_hand`` of each in the main warehouse."""
    merchant = [p for p in products if not p.sku.endswith(FBA_SUFFIX)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["article_number", "name", "gtin", "tax_class", "stock_tracked"])
    for product in merchant:
        tax_class = "reduced" if product.reduced_vat else "standard"
        writer.writerow([product.sku, product.title, product.gtin, tax_class, "yes"])
    import_articles(uow, *read_csv(buffer.getvalue()))
    if on_hand:
        for product in merchant:
            stock.receive(
                uow,
                article_number=product.sku,
                quantity=on_hand,
                warehouse_code=MAIN_WAREHOUSE,
                actor=actor,
                reason="opening stock",
            )


def connect_sandbox_seller(
    uow: UnitOfWork,
    box: SecretBox,
    *,
    base_url: str,
    seller_id: str,
    credentials: Credentials,
    products: Sequence[Product],
    engine: Engine,
    settings: Settings,
    start_date: datetime,
    name: str = "main",
    mode: ImportMode = ImportMode.AUTOMATIC,
    actor: str,
) -> AmazonAccount:
    """Connect the seller through the sandbox at ``base_url`` and bind its ``-FBA`` SKUs."""
    connection = accounts.Connection(
        name=name,
        region="EU",
        seller_id=seller_id,
        credentials=credentials,
        api_endpoint=base_url,
        import_mode=mode,
        start_date=start_date,
    )
    participations = accounts.discover(connection, engine=engine, settings=settings)
    account = accounts.connect(uow, box, connection, participations, now=utcnow())
    for product in products:
        if product.sku.endswith(FBA_SUFFIX):
            map_sku(uow, sku=product.sku, article_number=article_number(product),
                    account=name, actor=actor)  # fmt: skip
    return account


# --- the demo's Amazon day ---------------------------------------------------------------------

DEMO_ORDERS = 200
OWN_NUMBERS = {"SB-0001": "KAF-1000"}
"""SKUs the demo shop sells under its own article numbers: mapped by hand, after the import."""
HOLD_LABELS = {
    HOLD_UNKNOWN_ARTICLE: "unknown SKU",
    HOLD_CANCEL_REQUEST: "cancellation requested",
    HOLD_PARTLY_SHIPPED: "partly shipped elsewhere",
    HOLD_TOTALS_MISMATCH: "totals do not add up",
    HOLD_ADDRESS_INCOMPLETE: "incomplete address",
    HOLD_SHIPPED_ELSEWHERE: "shipped elsewhere",
}


def amazon_day(uow: UnitOfWork, engine: Engine, settings: Settings, *, actor: str) -> list[str]:
    """Connect the built-in sandbox's seller, import its orders, clear the holds of a SKU."""
    steps: list[str] = []
    config = SandboxConfig(
        seed=7, orders=DEMO_ORDERS, time_scale=600, anchor=utcnow() - timedelta(minutes=5)
    )
    with serve_in_background(config) as running:
        application = running.sandbox.application
        seller = next(iter(running.sandbox.state.sellers.values()))
        products = [
            product
            for product in catalogue(config.seed, seller.seller_id)
            if article_number(product) not in OWN_NUMBERS
        ]
        stock_catalogue(uow, products, on_hand=30, actor=actor)
        account = connect_sandbox_seller(
            uow,
            secret_box(settings),
            base_url=running.base_url,
            seller_id=seller.seller_id,
            credentials=Credentials(
                application.client_id, application.client_secret, seller.refresh_token
            ),
            products=products,
            engine=engine,
            settings=settings,
            start_date=utcnow(),
            name="demo",
            actor=actor,
        )
        steps.append(
            f"Started the built-in SP-API sandbox ({seller.name}, {DEMO_ORDERS} orders on "
            f"{len(account.marketplaces)} marketplaces) and connected it as Amazon account "
            f"'demo'; the shop sells its SKUs under the same article numbers, except SB-0001, "
            "which it calls KAF-1000."
        )
        with accounts.client_for(account, secret_box(settings), engine=engine,
                                 settings=settings) as client:  # fmt: skip
            importer = OrderImporter(engine, account.id, client, settings, actor=actor,
                                     clock=utcnow)  # fmt: skip
            report = importer.run(since=utcnow() - timedelta(days=31))
    steps.append(_imported(uow, report))
    for sku, number in OWN_NUMBERS.items():
        mapping = map_sku(uow, sku=sku, article_number=number, account="demo", actor=actor)
        released = []
        for order in mapping.ready_to_release:
            if _only_unknown_article(uow, order):  # others wait for the operator
                release_order(uow, order, actor=actor)
                released.append(order)
        steps.append(
            f"Mapped SKU {sku} to article {number} ({mapping.lines_fixed} waiting lines) and "
            f"released the {len(released)} order(s) that only waited for that."
        )
    return steps


def _imported(uow: UnitOfWork, report: ImportReport) -> str:
    with uow:
        session = uow.session
        kinds = Counter(
            (binding.fulfillment.value, binding.order.state.label)
            for binding in session.scalars(select(AmazonOrderBinding))
        )
        holds = Counter(
            hold.code
            for binding in session.scalars(select(AmazonOrderBinding))
            for hold in binding.order.open_holds
        )
    not_due = report.orders[Outcome.WAITING] + report.orders[Outcome.SKIPPED]
    parts = ", ".join(f"{count} {kind} {state}" for (kind, state), count in sorted(kinds.items()))
    held = ", ".join(f"{count} × {HOLD_LABELS.get(code, code)}" for code, count in holds.items())
    return (
        f"Imported {report.orders[Outcome.CREATED]} Amazon orders in {report.pages} page(s) "
        f"({not_due} pending or cancelled ones are not due): {parts}. Holds: {held or 'none'}."
    )


def _only_unknown_article(uow: UnitOfWork, number: str) -> bool:
    with uow:
        order = order_by_number(uow.session, number)
        return all(hold.code == HOLD_UNKNOWN_ARTICLE for hold in order.open_holds)
