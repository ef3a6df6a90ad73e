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

import httpx
from sqlalchemy import Engine, insert, select, text

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
from sellerbridge.core.stock import MovementKind
from sellerbridge.core.tax import TaxClass
from sellerbridge.db.bulk import execute_batched
from sellerbridge.db.engine import make_engine
from sellerbridge.db.migrate import upgrade
from sellerbridge.db.models import (
    AmazonAccount,
    AmazonOrderBinding,
    AmazonSkuBinding,
    Article,
    Fulfillment,
    ImportMode,
    InvoiceMode,
    StockLevelRecord,
    StockMovement,
    Warehouse,
)
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo import fulfilment
from sellerbridge.demo.fulfilment import Problem
from sellerbridge.demo.progress import Reporter
from sellerbridge.sandbox import SandboxConfig
from sellerbridge.sandbox.catalog import Product, catalogue
from sellerbridge.sandbox.server import RunningSandbox, serve_in_background
from sellerbridge.secrets import SecretBox, secret_box
from sellerbridge.services import stock
from sellerbridge.services.articles import import_articles, read_csv
from sellerbridge.services.documents import DocumentSettings
from sellerbridge.services.lookup import order_by_number
from sellerbridge.services.orders import release_order
from sellerbridge.services.setup import MAIN_WAREHOUSE, initialise

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


def bulk_catalogue(
    engine: Engine, account_id: int, *, prefix: str, count: int, on_hand: int, actor: str
) -> None:
    """``count`` stock-tracked articles ``{prefix}000001`` ... with ``on_hand`` each in the main
    warehouse (as receipts in the ledger) and bound to the same SKUs of the account: the ERP
    side of the sandbox's bulk listings, written in bulk for large-catalogue benchmarks."""
    now = utcnow()
    numbers = [f"{prefix}{index:06d}" for index in range(1, count + 1)]
    with UnitOfWork(engine) as uow:
        session = uow.session
        execute_batched(
            session,
            insert(Article),
            ({"number": number, "name": f"Article {number}", "tax_class": TaxClass.STANDARD,
              "stock_tracked": True, "allow_backorder": False, "created_at": now,
              "updated_at": now} for number in numbers),
        )  # fmt: skip
        ids = dict(
            session.execute(
                select(Article.number, Article.id).where(Article.number.startswith(prefix))
            ).all()
        )
        warehouse = session.scalars(
            select(Warehouse.id).where(Warehouse.code == MAIN_WAREHOUSE)
        ).one()
        execute_batched(
            session,
            insert(AmazonSkuBinding),
            ({"account_id": account_id, "seller_sku": number, "article_id": ids[number],
              "created_at": now, "updated_at": now} for number in numbers),
        )  # fmt: skip
        if on_hand:
            execute_batched(
                session,
                insert(StockMovement),
                ({"at": now, "article_id": ids[number], "warehouse_id": warehouse,
                  "kind": MovementKind.RECEIPT, "quantity": on_hand, "reason": "opening stock",
                  "actor": actor} for number in numbers),
            )  # fmt: skip
            execute_batched(
                session,
                insert(StockLevelRecord),
                ({"article_id": ids[number], "warehouse_id": warehouse, "on_hand": on_hand,
                  "reserved": 0, "updated_at": now} for number in numbers),
            )  # fmt: skip
        uow.commit()


def empty_database(database_url: str) -> None:
    """Drop every table of the server database ``database_url``: for a benchmark's scratch
    database, which each run starts from nothing. Never point it at a real workspace."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    finally:
        engine.dispose()


def sandbox_workspace(
    settings: Settings, base_url: str, *, mode: ImportMode = ImportMode.AUTOMATIC, actor: str
) -> int:
    """Set up the new database of ``settings`` to sell the catalogue of the first seller of
    the sandbox at ``base_url``, with stock, and connect that seller; returns the account id.
    For benchmarks, which start every run from nothing."""
    engine = make_engine(settings.effective_database_url)
    try:
        upgrade(engine)
        uow = UnitOfWork(engine)
        initialise(uow, home_country=settings.home_country)
        seller = httpx.get(f"{base_url}/_sandbox/sellers").json()[0]
        products = catalogue(1, seller["seller_id"])
        stock_catalogue(uow, products, on_hand=100_000, actor=actor)
        credentials = Credentials(seller["client_id"], seller["client_secret"],
                                  seller["refresh_token"])  # fmt: skip
        account = connect_sandbox_seller(
            uow, secret_box(settings), base_url=base_url, seller_id=seller["seller_id"],
            credentials=credentials, products=products, engine=engine, settings=settings,
            start_date=utcnow(), mode=mode, actor=actor,
        )  # fmt: skip
        return account.id
    finally:
        engine.dispose()


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
ON_HAND = 30
"""Units of each catalogue article in the main warehouse before the first order."""
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


SANDBOX_STATE = "sandbox-state.json"
REFUNDS = 3
"""Orders Amazon refunds a unit of, after their invoices were accepted."""
"""The sandbox's state as the demo leaves it, in the workspace: what Amazon shows of every
order (`sellerbridge sandbox serve --state demo-workspace/sandbox-state.json` serves it again)."""


def amazon_day(
    uow: UnitOfWork,
    engine: Engine,
    settings: Settings,
    document_settings: DocumentSettings,
    *,
    actor: str,
    reporter: Reporter,
    orders: int = DEMO_ORDERS,
) -> list[Problem]:
    """Connect the built-in sandbox's seller, import its orders, clear the holds of a SKU, then
    fulfil what can be: release, dispatch with labels, confirm, invoice FBA. Returns the orders
    it could not process, with the reason."""
    config = SandboxConfig(
        seed=7, orders=orders, time_scale=600, anchor=utcnow() - timedelta(minutes=5)
    )
    with serve_in_background(config) as running:
        application = running.sandbox.application
        seller = next(iter(running.sandbox.state.sellers.values()))
        products = [
            product
            for product in catalogue(config.seed, seller.seller_id)
            if article_number(product) not in OWN_NUMBERS
        ]
        stock_catalogue(uow, products, on_hand=ON_HAND, actor=actor)
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
        # Own invoices, uploaded to Amazon once each order has shipped (FBA: once invoiced).
        uploading = dict.fromkeys(Fulfillment, InvoiceMode.UPLOAD)
        accounts.configure(uow, account.name, invoice_upload_from=utcnow(),
                           invoice_modes=uploading)  # fmt: skip
        reporter.note(
            f"Started the built-in SP-API sandbox ({seller.name}, {config.orders} orders on "
            f"{len(account.marketplaces)} marketplaces) and connected it as Amazon account "
            f"'demo'; the shop sells its SKUs under the same article numbers, except SB-0001, "
            f"which it calls KAF-1000, and has {ON_HAND} of each in stock."
        )
        report = _import(engine, account, settings, actor=actor, reporter=reporter)
        reporter.note(_imported(uow, report))
        for sku, number in OWN_NUMBERS.items():
            mapping = map_sku(uow, sku=sku, article_number=number, account="demo", actor=actor)
            released = []
            for order in mapping.ready_to_release:
                if _only_unknown_article(uow, order):  # others wait for the operator
                    release_order(uow, order, actor=actor)
                    released.append(order)
            reporter.note(
                f"Mapped SKU {sku} to article {number} ({mapping.lines_fixed} waiting lines) and "
                f"released the {len(released)} order(s) that only waited for that."
            )
        return _fulfil(uow, engine, settings, document_settings, account, actor=actor,
                       reporter=reporter, sandbox=running)  # fmt: skip


def _import(
    engine: Engine, account: AmazonAccount, settings: Settings, *, actor: str, reporter: Reporter
) -> ImportReport:
    with (
        accounts.client_for(
            account, secret_box(settings), engine=engine, settings=settings
        ) as client,  # fmt: skip
        reporter.track("Importing Amazon orders", 1.0) as completed,
    ):
        importer = OrderImporter(
            engine,
            account.id,
            client,
            settings,
            actor=actor,
            clock=utcnow,
            on_progress=lambda progress: completed(progress.fraction),
        )
        return importer.run(since=utcnow() - timedelta(days=31))


def _fulfil(
    uow: UnitOfWork,
    engine: Engine,
    settings: Settings,
    document_settings: DocumentSettings,
    account: AmazonAccount,
    *,
    actor: str,
    reporter: Reporter,
    sandbox: RunningSandbox,
) -> list[Problem]:
    problems: list[Problem] = []
    release = fulfilment.release_stocked_fbm_orders(uow, account.id, actor=actor)
    problems += [Problem(order, "release", why) for order, why in release.waiting.items()]
    reporter.note(
        f"Released the {len(release.released)} open FBM orders whose stock is reserved"
        + (f"; {len(release.waiting)} wait for stock." if release.waiting else ".")
    )

    dispatched = fulfilment.dispatch_with_labels(engine, settings, document_settings,
                                                 actor=actor, reporter=reporter)  # fmt: skip
    problems += [Problem(order, "dispatch", why) for order, why in dispatched.failed]
    reporter.note(
        f"Dispatched the released orders: {len(dispatched.shipped)} shipped with an Amazon Buy "
        f"Shipping label (delivery note and invoice issued), {len(dispatched.prepared)} "
        f"manual one(s) prepared to wait for a tracking number, {len(dispatched.failed)} left."
    )

    confirmed = fulfilment.confirm_until_verified(engine, account, settings, reporter=reporter)
    # The alert texts name the order and the package.
    problems += [Problem("", "confirmation", why) for why in confirmed.report.problems]
    reporter.note(
        f"Checked the shipment confirmations at Amazon in {confirmed.rounds} run(s): "
        f"{confirmed.report.verified} verified (Amazon shows our carrier and tracking number), "
        f"{confirmed.report.failed} failed, {confirmed.unfinished} not verified yet."
    )

    fba = fulfilment.invoice_fba(engine, settings, account.id, reporter=reporter)
    for why in fba.problems:  # "AZ-0000042: the reason"
        order, _, reason = why.partition(": ")
        problems.append(Problem(order, "FBA invoice", reason))
    reporter.note(f"Invoiced {fba.invoiced} shipped FBA order(s); {fba.failed} failed.")

    synced = fulfilment.sync_stock_to_amazon(engine, account, settings, reporter=reporter)
    problems += [Problem(sku, "stock", why) for sku, _, why in synced.failed]
    reporter.note(
        f"Sent the stock to Amazon: imported the FBA inventory, read Amazon's listings, and "
        f"sent new FBM quantities for {synced.feed_messages + synced.patched} SKU(s) "
        f"({len(synced.feeds)} feed(s), {synced.patched} one by one): {synced.accepted} "
        f"offer(s) accepted, {len(synced.failed)} refused; {synced.unchanged} were right "
        "already."
    )

    uploaded = fulfilment.invoicing(engine, account, settings, reporter=reporter,
                                    title="Uploading the invoices to Amazon").upload  # fmt: skip
    problems += [Problem(number, "invoice upload", why) for number, why in uploaded.rejected]
    reporter.note(
        f"Uploaded {uploaded.sent} invoice(s) to Amazon (each once its order has shipped): "
        f"{uploaded.accepted} accepted, {len(uploaded.rejected)} rejected"
        + (f", {len(uploaded.unknown)} unknown" if uploaded.unknown else "")
        + "."
    )

    refunded = fulfilment.refund_some_orders(sandbox.base_url, engine, account.id, REFUNDS)
    credited = fulfilment.invoicing(engine, account, settings, reporter=reporter,
                                    title="Correcting the refunded orders' invoices")  # fmt: skip
    problems += [Problem("", "refund", why) for why in credited.problems]
    problems += [Problem(n, "credit note upload", why) for n, why in credited.upload.rejected]
    reporter.note(
        f"Amazon refunded one unit of {len(refunded)} order(s): {len(credited.corrected)} "
        f"correction invoice(s) issued, uploaded as credit notes ({credited.upload.accepted} "
        f"accepted); {credited.returned} returned unit(s) into the RETURNS warehouse to inspect."
    )

    sandbox.sandbox.save(settings.data_dir / SANDBOX_STATE)
    return problems


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
