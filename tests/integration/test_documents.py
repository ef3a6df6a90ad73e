"""Issuing documents: numbers, amounts equal to the order's, immutability, corrections."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

import pytest
from facturx import get_xml_from_pdf
from pypdf import PdfReader
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from sellerbridge.config import SellerSettings
from sellerbridge.core.clock import utcnow
from sellerbridge.core.documents import DocumentKind
from sellerbridge.core.errors import DomainError, InvalidInput
from sellerbridge.db.models import Document, DocumentLineRecord
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.documents import check_xml
from sellerbridge.services import documents, orders, stock
from sellerbridge.services.lookup import order_by_number
from tests.helpers import place_order

SELLER = SellerSettings(
    company="Kaffeehaus Sonnenschein GmbH",
    street="Marktstraße 5",
    postal_code="70173",
    city="Stuttgart",
    tax_number="99/815/08150",
    vat_ids={"DE": "DE136695976"},
    email="versand@kaffeehaus.example",
    phone="+49 711 123456",
)
SETTINGS = documents.DocumentSettings(SELLER, "DE")
SELLER_ENV = {  # the same, for a ``sellerbridge`` process
    f"SELLERBRIDGE_SELLER__{name.upper()}": value if isinstance(value, str) else json.dumps(value)
    for name, value in SELLER.model_dump(exclude_none=True).items()
}
CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def released_order(uow: UnitOfWork) -> str:
    """Espresso at 7 % (2 × 24.90) and a grinder at 19 % (1 × 39.90), shipping 4.90."""
    for article, quantity in (("KAF-1000", 5), ("MUE-0010", 2)):
        stock.receive(uow, article_number=article, quantity=quantity, warehouse_code="MAIN",
                      actor="t")  # fmt: skip
    number = place_order(uow, ("KAF-1000", 2, "24.90"), ("MUE-0010", 1, "39.90"),
                         shipping=Decimal("4.90"))  # fmt: skip
    orders.release_order(uow, number, actor="t")
    return number


def issue(uow: UnitOfWork, what: documents.Issuer, order: str) -> tuple[str, DocumentKind]:
    with uow:
        document = what(uow.session, order, settings=SETTINGS, actor="t", at=utcnow())
        uow.commit()
        return document.number, document.kind


def assert_e_invoice(pdf: bytes, number: str, total: Decimal) -> None:
    """The PDF declares PDF/A-3 and carries a Factur-X XML that passes the EN 16931 XSD and
    names the document and its total (positive: a correction is a credit note, type 381)."""
    xmp = PdfReader(BytesIO(pdf)).xmp_metadata
    assert xmp is not None
    assert xmp.pdfaid_part == "3"
    name, xml = get_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml"
    check_xml(xml)
    root = ElementTree.fromstring(xml)
    assert root.findtext("rsm:ExchangedDocument/ram:ID", namespaces=CII) == number
    grand = root.findtext(".//ram:GrandTotalAmount", namespaces=CII)
    assert grand is not None
    assert Decimal(grand) == abs(total)


def correct(uow: UnitOfWork, invoice: str, **how: object) -> Document:
    with uow:
        document = documents.issue_correction(
            uow.session, invoice, reason="returned", settings=SETTINGS, actor="t", at=utcnow(),
            **how,  # type: ignore[arg-type]
        )  # fmt: skip
        uow.commit()
        return document


def test_an_invoice_equals_its_order_and_its_pdf_never_changes(catalogue: UnitOfWork) -> None:
    order_number = released_order(catalogue)
    number, kind = issue(catalogue, documents.issue_invoice, order_number)
    assert (number, kind) == ("RE-000001", DocumentKind.INVOICE)
    with catalogue:
        order = order_by_number(catalogue.session, order_number)
        invoice = documents.document_by_number(catalogue.session, number)
        content = documents.content_of(invoice)
        assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
            order.total_net, order.total_tax, order.total_gross,
        )  # fmt: skip
        assert content.total_gross == order.total_gross == Decimal("94.60")
        # Shipping 4.90 is split by the lines' net values: 19 % takes 4.90 × 33.53 / 80.07 =
        # 2.05, 7 % the remaining 2.85. 19 %: grinder 33.53 + 6.37, shipping 1.72 + 0.33;
        # 7 %: espresso 46.54 + 3.26, shipping 2.66 + 0.19.
        assert [(b.rate, b.net, b.tax) for b in content.breakdown] == [
            (Decimal(19), Decimal("35.25"), Decimal("6.70")),
            (Decimal(7), Decimal("49.20"), Decimal("3.45")),
        ]
        assert content.seller.vat_id == "DE136695976"
        assert invoice.sha256 == hashlib.sha256(invoice.pdf).hexdigest()
        assert_e_invoice(invoice.pdf, number, order.total_gross)
        first = invoice.pdf
        assert first.startswith(b"%PDF-")
    with catalogue:
        assert documents.pdf_of(catalogue.session, number) == first
    with pytest.raises(DomainError, match="has invoice RE-000001 already"):
        issue(catalogue, documents.issue_invoice, order_number)


def test_an_issued_document_cannot_be_changed_or_deleted(catalogue: UnitOfWork) -> None:
    number, _ = issue(catalogue, documents.issue_invoice, released_order(catalogue))
    for statement in (
        update(Document).where(Document.number == number).values(total_gross=Decimal(1)),
        delete(Document).where(Document.number == number),
        update(DocumentLineRecord).values(gross=Decimal(0)),
    ):
        with catalogue, pytest.raises(DBAPIError, match="issued documents cannot be changed"):
            catalogue.session.execute(statement)
    with catalogue:
        assert documents.document_by_number(catalogue.session, number).total_gross == Decimal(
            "94.60"
        )


def test_a_correction_of_one_of_two_items_names_the_invoice_and_is_negative(
    catalogue: UnitOfWork,
) -> None:
    order_number = released_order(catalogue)
    invoice, _ = issue(catalogue, documents.issue_invoice, order_number)
    correction = correct(catalogue, invoice, quantities={1: 1})  # one of the two espressos
    assert correction.number == "RK-000001"
    with catalogue:
        stored = documents.document_by_number(catalogue.session, "RK-000001")
        content = documents.content_of(stored)
        assert content.kind is DocumentKind.CORRECTION
        assert content.original is not None
        assert content.original.number == invoice
        assert content.reason == "returned"
        (line,) = content.lines
        assert (line.quantity, line.net, line.tax, line.gross) == (
            Decimal(-1), Decimal("-23.27"), Decimal("-1.63"), Decimal("-24.90"),
        )  # fmt: skip
        assert content.total_gross == Decimal("-24.90")
        assert_e_invoice(stored.pdf, "RK-000001", Decimal("-24.90"))
        assert [(b.rate, b.net, b.tax) for b in content.breakdown] == [
            (Decimal(7), Decimal("-23.27"), Decimal("-1.63"))
        ]
    # The second espresso can be corrected once more, no further.
    correct(catalogue, invoice, quantities={1: None})
    with pytest.raises(InvalidInput, match="0 unit\\(s\\) left"):
        correct(catalogue, invoice, quantities={1: 1})


def test_a_correction_by_amount_is_split_across_the_rates_and_capped(
    catalogue: UnitOfWork,
) -> None:
    invoice, _ = issue(catalogue, documents.issue_invoice, released_order(catalogue))
    correction = correct(catalogue, invoice, amount=Decimal("10.00"))
    with catalogue:
        stored = documents.document_by_number(catalogue.session, correction.number)
        content = documents.content_of(stored)
        assert content.total_gross == Decimal("-10.00")
        assert {line.tax_rate for line in content.lines} == {Decimal(19), Decimal(7)}
        assert all(line.net + line.tax == line.gross for line in content.lines)
    with pytest.raises(InvalidInput, match=r"84\.60 EUR left to correct"):
        correct(catalogue, invoice, amount=Decimal("84.61"))


def test_a_delivery_note_has_no_prices_and_needs_a_released_order(catalogue: UnitOfWork) -> None:
    stock.receive(catalogue, article_number="KAF-1000", quantity=1, warehouse_code="MAIN",
                  actor="t")  # fmt: skip
    waiting = place_order(catalogue, ("KAF-1000", 2, "24.90"))
    with pytest.raises(DomainError, match="a delivery note goes with a released order"):
        issue(catalogue, documents.issue_delivery_note, waiting)
    number, _ = issue(catalogue, documents.issue_delivery_note, released_order(catalogue))
    assert number == "LS-000001"
    with catalogue:
        content = documents.content_of(documents.document_by_number(catalogue.session, number))
        assert content.kind is DocumentKind.DELIVERY_NOTE
        assert [line.quantity for line in content.lines] == [Decimal(2), Decimal(1)]
        assert content.breakdown == ()


def test_incomplete_merchant_details_are_named(catalogue: UnitOfWork) -> None:
    order_number = released_order(catalogue)
    incomplete = documents.DocumentSettings(SellerSettings(company="Kaffeehaus"), "DE")
    with (
        catalogue,
        pytest.raises(DomainError, match="street, postal_code, city, tax_number or vat_ids"),
    ):
        documents.issue_invoice(catalogue.session, order_number, settings=incomplete, actor="t",
                                at=utcnow())  # fmt: skip


WORKER = """
import sys
from sellerbridge.config import SellerSettings
from sellerbridge.core.clock import utcnow
from sellerbridge.db.engine import make_engine
from sellerbridge.db.uow import UnitOfWork
from sellerbridge.documents import check_xml
from sellerbridge.services import documents

settings = documents.DocumentSettings(SellerSettings.model_validate_json(sys.argv[2]), "DE")
uow = UnitOfWork(make_engine(sys.argv[1]))
for order in sys.argv[3:]:
    with uow:
        documents.issue_invoice(uow.session, order, settings=settings, actor="p", at=utcnow())
        uow.commit()
"""


def test_two_processes_issuing_at_once_get_distinct_numbers(
    catalogue: UnitOfWork, database_url: str, tmp_path: Path
) -> None:
    stock.receive(catalogue, article_number="KAF-1000", quantity=40, warehouse_code="MAIN",
                  actor="t")  # fmt: skip
    numbers = [place_order(catalogue, ("KAF-1000", 1, "24.90")) for _ in range(24)]
    script = tmp_path / "issue.py"
    script.write_text(WORKER)
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), database_url, SELLER.model_dump_json(), *half],
            stderr=subprocess.PIPE,
        )
        for half in (numbers[0::2], numbers[1::2])
    ]
    for process in processes:
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors.decode()
    with catalogue:
        issued = catalogue.session.scalars(
            select(Document.number).where(Document.kind == DocumentKind.INVOICE)
        ).all()
    assert sorted(issued) == [f"RE-{value:06d}" for value in range(1, 25)]
