"""The demo: a workspace with a small German coffee shop, run end to end.

It is what the README's first command runs, and it grows with the product: every capability
that lands shows up here, so a newcomer sees the whole system work in one command.
"""

from __future__ import annotations

import shutil
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

from sellerbridge.config import CONFIG_FILE_NAME, SellerSettings, Settings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.errors import DomainError
from sellerbridge.core.parties import Address, PickupPointType
from sellerbridge.db.engine import make_engine
from sellerbridge.db.migrate import upgrade
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.demo.amazon import DEMO_ORDERS, SANDBOX_STATE, amazon_day
from sellerbridge.demo.fulfilment import DOCUMENTS_FOLDER, LABELS_FOLDER, write_files
from sellerbridge.demo.progress import QUIET, Reporter
from sellerbridge.demo.summary import DemoSummary, count
from sellerbridge.secrets import create_key_file
from sellerbridge.services import orders, queries, stock
from sellerbridge.services.articles import import_articles, read_csv
from sellerbridge.services.documents import DocumentSettings
from sellerbridge.services.setup import MAIN_WAREHOUSE, initialise

MARKER = ".sellerbridge-demo"
ACTOR = "demo"

SELLER_TOML = """\
# The demo coffee shop, as printed on its invoices and delivery notes.
[seller]
company = "Kaffeehaus Sonnenschein GmbH"
street = "Marktstraße 5"
postal_code = "70173"
city = "Stuttgart"
country = "DE"
tax_number = "99/815/08150"
vat_ids = { DE = "DE136695976" }
email = "rechnung@kaffeehaus-sonnenschein.example"
# Amazon Buy Shipping prints both on the label's sender address.
phone = "+49 711 2468100"
"""

_D = Decimal


@dataclass(frozen=True)
class DemoWorkspace:
    path: Path
    database_url: str


def prepare_workspace(path: Path) -> DemoWorkspace:
    """Create an empty demo workspace at ``path``, replacing an earlier demo there.

    A directory that was not made by the demo is never touched.
    """
    if path.exists():
        if not (path / MARKER).exists():
            raise DomainError(
                f"{path} exists and is not a sellerbridge demo workspace.",
                hint="Choose another directory with --workspace.",
            )
        shutil.rmtree(path)
    path.mkdir(parents=True)
    (path / MARKER).write_text("made by `sellerbridge demo`; deleted by the next run\n")
    (path / CONFIG_FILE_NAME).write_text(SELLER_TOML, encoding="utf-8")
    return DemoWorkspace(path, f"sqlite:///{path / 'sellerbridge.db'}")


def demo_seller() -> SellerSettings:
    return SellerSettings.model_validate(tomllib.loads(SELLER_TOML)["seller"])


def demo_settings(workspace: DemoWorkspace, home_country: str) -> Settings:
    """The installation's settings with the workspace's own data directory, database, key and
    merchant: the demo never reads or writes the operator's (the environment would win over
    arguments given to ``Settings``)."""
    return Settings().model_copy(
        update={
            "data_dir": workspace.path,
            "database_url": workspace.database_url,
            "secret_key": None,
            "secret_key_file": None,
            "home_country": home_country,
            "seller": demo_seller(),
        }
    )


def _customer(address: Address, vat_id: str | None = None) -> orders.NewCustomer:
    return orders.NewCustomer(address=address, vat_id=vat_id)


def _line(article: str, quantity: int, price: str) -> orders.OrderLineInput:
    return orders.OrderLineInput(article_number=article, quantity=quantity, unit_price=_D(price))


def _orders(now: datetime) -> list[orders.ManualOrderInput]:
    return [
        orders.ManualOrderInput(
            customer=_customer(
                Address(
                    name="Jürgen Weiß",
                    street1="Königstraße 12",
                    postal_code="70173",
                    city="Stuttgart",
                    country="DE",
                    email="j.weiss@example.de",
                )
            ),
            lines=[_line("KAF-1000", 2, "24.90"), _line("FIL-0100", 1, "3.49")],
            shipping=_D("4.90"),
            ship_by=now + timedelta(days=1),
        ),
        orders.ManualOrderInput(
            customer=_customer(
                Address(
                    name="Zoë Müller-Lüdenscheidt",
                    street1="Packstation 118",
                    postal_code="80331",
                    city="München",
                    country="DE",
                    pickup_point_type=PickupPointType.PACKSTATION,
                    pickup_point_id="118",
                    pickup_customer_number="123456789",
                )
            ),
            lines=[_line("SET-BARISTA", 2, "89.00")],
            ship_by=now + timedelta(days=2),
        ),
        # A business customer in Austria with a valid VAT ID: an intra-EU supply, 0 % VAT.
        orders.ManualOrderInput(
            customer=_customer(
                Address(
                    name="Lena Hofer",
                    company="Café Brühwerk GmbH",
                    street1="Mariahilfer Straße 45",
                    postal_code="1060",
                    city="Wien",
                    country="AT",
                ),
                vat_id="ATU13585627",
            ),
            lines=[_line("KAF-1000", 10, "19.50"), _line("TAS-0002", 6, "12.00")],
            prices_include_tax=False,
            external_reference="PO-4471",
        ),
        orders.ManualOrderInput(
            customer=_customer(
                Address(
                    name="Amélie Lefèvre",
                    street1="12 rue de la Paix",
                    postal_code="75002",
                    city="Paris",
                    country="FR",
                )
            ),
            lines=[_line("TEE-0100", 3, "8.90"), _line("GUT-0025", 1, "25.00")],
        ),
    ]


def run(
    workspace: DemoWorkspace,
    *,
    home_country: str = "DE",
    reporter: Reporter = QUIET,
    amazon_orders: int = DEMO_ORDERS,
) -> DemoSummary:
    """Fill the workspace with the coffee shop's day, telling ``reporter`` what happens, and
    count what it left: orders, documents and labels (also written as files), confirmations."""
    engine = make_engine(workspace.database_url)
    try:
        upgrade(engine)
        uow = UnitOfWork(engine)
        initialise(uow, home_country=home_country)
        reporter.note("Set up the database, the main warehouse and the manual sales channel.")

        csv_text = resources.files(__package__).joinpath("articles.csv").read_text("utf-8")
        summary = import_articles(uow, *read_csv(csv_text))
        reporter.note(f"Imported {summary.created} articles, including a bundle and a voucher.")

        for article, quantity in (
            ("KAF-1000", 40),
            ("KAF-0250", 120),
            ("TEE-0100", 60),
            ("MUE-0010", 1),
            ("TAS-0002", 25),
            ("FIL-0100", 10),
        ):
            stock.receive(
                uow,
                article_number=article,
                quantity=quantity,
                warehouse_code=MAIN_WAREHOUSE,
                actor=ACTOR,
                reason="opening stock",
            )
        reporter.note("Received opening stock for six articles.")

        placed = [
            orders.create_manual_order(
                uow, order, actor=ACTOR, seller=demo_seller().tax_profile(home_country)
            )
            for order in _orders(utcnow())
        ]
        with uow:
            waiting = queries.shortages(uow.session)
        reporter.note(
            f"Took {len(placed)} manual orders ({', '.join(placed)}) and reserved their stock"
            + "".join(
                f"; {s.order_number} waits for {s.wanted - s.reserved} × {s.article_number}"
                for s in waiting
            )
            + "."
        )
        orders.hold_order(
            uow, placed[3], reason="Customer asked to change the address", actor=ACTOR
        )
        orders.release_order(uow, placed[0], actor=ACTOR)
        reporter.note(f"Put {placed[3]} on hold and released {placed[0]} to the warehouse.")
        orders.cancel_order(uow, placed[2], reason="Customer ordered twice", actor=ACTOR)
        reporter.note(f"Cancelled {placed[2]}; its stock is free again.")
        stock.receive(
            uow,
            article_number="MUE-0010",
            quantity=5,
            warehouse_code=MAIN_WAREHOUSE,
            actor=ACTOR,
            reason="delivery from supplier",
            reference="LS-2026-118",
        )
        # Releasing succeeds only if the receipt completed the waiting order's reservation.
        orders.release_order(uow, placed[1], actor=ACTOR)
        reporter.note(f"Received 5 grinders: {placed[1]} got what it waited for and was released.")

        settings = demo_settings(workspace, home_country)
        create_key_file(settings)
        problems = amazon_day(
            uow,
            engine,
            settings,
            DocumentSettings(settings.seller, home_country),
            actor=ACTOR,
            reporter=reporter,
            orders=amazon_orders,
        )
        left = count(engine)
        left.problems = problems
        left.document_files, left.label_files = write_files(engine, workspace.path)
        reporter.note(
            f"Wrote {left.document_files} documents to {DOCUMENTS_FOLDER}/ and "
            f"{left.label_files} labels to {LABELS_FOLDER}/ in the workspace, and the "
            f"sandbox's state to {SANDBOX_STATE}."
        )
    finally:
        engine.dispose()
    return left
