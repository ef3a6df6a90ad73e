"""The README's first command: the demo runs end to end in a process of its own.

The demo runs once for the module (about 15 s); the tests then read what it left: its output,
its database, the files it wrote and the sandbox's state (``sandbox-state.json``), which is
what Amazon would show of every order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.orders import OrderState
from sellerbridge.db.models import (
    AmazonOffer,
    AmazonOrderBinding,
    ConfirmationStatus,
    Document,
    Fulfillment,
    OrderEvent,
    SalesOrder,
    Shipment,
    ShipmentConfirmation,
)
from sellerbridge.demo.amazon import REFUNDS
from sellerbridge.sandbox.core import Sandbox

RELEASED = "Open → released."
"""The event of a release to the warehouse (one shipped elsewhere says more after it)."""
LABEL_MAGIC = {"pdf": b"%PDF-", "png": b"\x89PNG\r\n\x1a\n", "zpl": b"^XA"}


def run_demo(workspace: Path, tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "SELLERBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "300",
    }
    environment.pop("SELLERBRIDGE_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "sellerbridge", "demo", "--workspace", str(workspace), *options],
        capture_output=True,
        text=True,
        env=environment,
        timeout=240,
        check=False,
    )


@dataclass(frozen=True)
class Demo:
    workspace: Path
    result: subprocess.CompletedProcess[str]
    engine: Engine

    @property
    def out(self) -> str:
        return self.result.stdout

    @property
    def said(self) -> str:
        """The output with its line breaks and runs of spaces as single spaces."""
        return " ".join(self.out.split())

    def session(self) -> Session:
        return Session(self.engine)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    tmp_path = tmp_path_factory.mktemp("demo")
    workspace = tmp_path / "demo"
    result = run_demo(workspace, tmp_path)
    assert result.returncode == 0, result.stderr
    return Demo(workspace, result, create_engine(f"sqlite:///{workspace / 'sellerbridge.db'}"))


def released_fbm_orders(session: Session) -> list[SalesOrder]:
    """The FBM orders the demo released to the warehouse (not those imported as shipped)."""
    return list(
        session.scalars(
            select(SalesOrder)
            .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
            .where(
                AmazonOrderBinding.fulfillment == Fulfillment.FBM,
                select(OrderEvent.id)
                .where(
                    OrderEvent.order_id == SalesOrder.id, OrderEvent.message == "Open → released."
                )
                .exists(),
            )
        )
    )


def test_the_demo_tells_the_shop_s_day_step_by_step(demo: Demo) -> None:
    out = demo.said
    assert "SO-000002 waits for 1 × MUE-0010" in out
    assert "SO-000002 got what it waited for and was released" in out
    assert "connected it as Amazon account 'demo'" in out
    imported = re.search(r"Imported (\d+) Amazon orders", out)
    assert imported is not None
    assert int(imported.group(1)) > 150
    assert re.search(r"Holds: \d+ × unknown SKU", out)
    assert re.search(r"Mapped SKU SB-0001 to article KAF-1000 .* released the [1-9]\d* order", out)
    assert re.search(r"Dispatched the released orders: [1-9]\d* shipped with an Amazon Buy", out)
    assert "Summary: manual orders 1 cancelled, 1 on hold, 2 released; Amazon orders" in out


def test_the_summary_counts_every_imported_order_once(demo: Demo) -> None:
    with demo.session() as session:
        imported = session.scalar(select(func.count(AmazonOrderBinding.id)))
        by_state = dict(
            session.execute(
                select(SalesOrder.state, func.count(SalesOrder.id))
                .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
                .group_by(SalesOrder.state)
            ).all()
        )
    counted = re.search(r"Amazon orders ([^;(]*) \((\d+) of (\d+) imported\)", demo.said)
    assert counted is not None
    assert int(counted.group(2)) == int(counted.group(3)) == imported
    stated = {state: int(n) for n, state in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)", counted[1])}
    assert stated == {state.label: n for state, n in by_state.items()}
    # The table's bottom line says the same.
    total = re.search(r"│ Total\s+│\s+│([\d│ ]+)│", demo.out)
    assert total is not None
    cells = [int(cell) for cell in total.group(1).split("│")]
    assert cells[-1] == imported
    assert sum(cells[:-1]) == imported


def test_every_released_fbm_order_is_shipped_and_verified_at_amazon(demo: Demo) -> None:
    amazon = Sandbox.load_state(demo.workspace / "sandbox-state.json")
    assert amazon is not None
    shipped = 0
    with demo.session() as session:
        for order in released_fbm_orders(session):
            assert order.state is OrderState.SHIPPED, order.number
            binding = session.scalars(
                select(AmazonOrderBinding).where(AmazonOrderBinding.order_id == order.id)
            ).one()
            packages = amazon.orders.orders[binding.amazon_order_id].packages
            for shipment in session.scalars(select(Shipment).where(Shipment.order_id == order.id)):
                confirmation = session.scalars(
                    select(ShipmentConfirmation).where(
                        ShipmentConfirmation.shipment_id == shipment.id
                    )
                ).one()
                assert confirmation.status is ConfirmationStatus.VERIFIED
                # What Amazon shows the buyer: our carrier and tracking number.
                assert any(
                    package.tracking_number == shipment.tracking_number
                    and shipment.carrier in (package.carrier_code, package.carrier_name)
                    for package in packages
                ), order.number
                shipped += 1
    assert shipped > 0
    line = re.search(r"Confirmations verified\s+│\s+(\d+)", demo.out)
    assert line is not None
    assert int(line.group(1)) == shipped


def test_every_shipped_fba_order_has_an_invoice(demo: Demo) -> None:
    with demo.session() as session:
        fba = list(
            session.scalars(
                select(SalesOrder)
                .join(AmazonOrderBinding, AmazonOrderBinding.order_id == SalesOrder.id)
                .where(AmazonOrderBinding.fulfillment == Fulfillment.FBA)
            )
        )
        invoiced = set(
            session.scalars(select(Document.order_id).where(Document.kind == DocumentKind.INVOICE))
        )
    assert fba
    assert all(order.state is OrderState.SHIPPED for order in fba)
    assert [order.number for order in fba if order.id not in invoiced] == []


def test_every_document_and_label_is_a_real_file_in_the_workspace(demo: Demo) -> None:
    with demo.session() as session:
        documents = set(session.scalars(select(Document.number)))
        labels = {
            f"{number}-{shipment}": fmt
            for number, shipment, fmt in session.execute(
                select(SalesOrder.number, Shipment.id, Shipment.label_format)
                .join(SalesOrder, SalesOrder.id == Shipment.order_id)
                .where(Shipment.label.is_not(None))
            )
        }
    pdfs = {path.stem: path for path in (demo.workspace / "documents").iterdir()}
    assert set(pdfs) == documents
    assert all(path.read_bytes().startswith(b"%PDF-") for path in pdfs.values())
    files = {path.stem: path for path in (demo.workspace / "labels").iterdir()}
    assert labels
    assert set(files) == set(labels)
    for name, path in files.items():
        assert path.suffix.lstrip(".") == (labels[name] or "").lower()[:3]
        assert path.read_bytes().startswith(LABEL_MAGIC[path.suffix.lstrip(".")])
    assert f"Wrote {len(documents)} documents" in demo.said
    assert f"and {len(labels)} labels" in demo.said


def test_a_second_run_starts_from_scratch(tmp_path: Path) -> None:
    workspace = tmp_path / "demo"
    first = run_demo(workspace, tmp_path, "--orders", "40")
    assert first.returncode == 0, first.stderr
    again = run_demo(workspace, tmp_path, "--orders", "20")
    assert again.returncode == 0, again.stderr
    wrote = re.search(r"Wrote (\d+) documents", again.stdout)
    assert wrote is not None
    assert len(list((workspace / "documents").iterdir())) == int(wrote.group(1))


def test_the_demo_never_deletes_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "invoices.pdf").write_text("keep me")
    result = run_demo(precious, tmp_path)
    assert result.returncode == 1
    assert "is not a sellerbridge demo workspace" in result.stderr
    assert (precious / "invoices.pdf").read_text() == "keep me"


def test_the_demo_sends_the_stock_and_amazon_shows_it(demo: Demo) -> None:
    sent = re.search(r"Sent the stock to Amazon: .* new FBM quantities for (\d+) SKU\(s\) .*: "
                     r"(\d+) offer\(s\) accepted, (\d+) refused", demo.said)  # fmt: skip
    assert sent is not None
    assert int(sent.group(1)) > 0
    assert int(sent.group(2)) > 0
    assert sent.group(3) == "0"
    amazon = Sandbox.load_state(demo.workspace / "sandbox-state.json")
    assert amazon is not None
    (listings,) = amazon.listings.listings.values()
    with demo.session() as session:
        offers = session.scalars(
            select(AmazonOffer).where(
                AmazonOffer.fulfillment == Fulfillment.FBM, AmazonOffer.listed.is_(True)
            )
        ).all()
    assert offers
    for offer in offers:  # what Amazon shows is what sellerbridge last had acknowledged
        shown = listings[offer.seller_sku].quantities.get(offer.marketplace_id)
        assert (offer.seller_sku, shown) == (offer.seller_sku, offer.sent_quantity)


def test_every_shipped_amazon_orders_invoice_is_uploaded_once_and_accepted(demo: Demo) -> None:
    amazon = Sandbox.load_state(demo.workspace / "sandbox-state.json")
    assert amazon is not None
    accepted = Counter(u.invoice_number for u in amazon.reports.invoices
                       if u.status == "ACCEPTED" and u.document_type == "Invoice")  # fmt: skip
    with demo.session() as session:
        invoices = set(
            session.scalars(
                select(Document.number)
                .join(AmazonOrderBinding, AmazonOrderBinding.order_id == Document.order_id)
                .join(SalesOrder, SalesOrder.id == Document.order_id)
                .where(Document.kind == DocumentKind.INVOICE,
                       SalesOrder.state == OrderState.SHIPPED)
            )
        )  # fmt: skip
    assert invoices
    assert accepted == Counter(dict.fromkeys(invoices, 1))
    assert re.search(rf"invoice uploads {len(invoices)} accepted;", demo.said)


def test_amazons_refunds_are_corrected_and_their_credit_notes_accepted_once(demo: Demo) -> None:
    amazon = Sandbox.load_state(demo.workspace / "sandbox-state.json")
    assert amazon is not None
    credited = Counter(u.invoice_number for u in amazon.reports.invoices
                       if u.status == "ACCEPTED" and u.document_type == "CreditNote")  # fmt: skip
    with demo.session() as session:
        corrections = set(
            session.scalars(select(Document.number).where(Document.kind == DocumentKind.CORRECTION))
        )
    assert len(corrections) == REFUNDS
    assert credited == Counter(dict.fromkeys(corrections, 1))
    assert f"credit notes {REFUNDS} accepted;" in demo.said
