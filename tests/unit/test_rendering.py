"""Invoices, correction invoices and delivery notes as the buyer and the tax office get them.

Real PDFs from the real templates, read back with pypdf: PDF/A-3b, the Factur-X XML embedded
and valid, the legal fields on the page, in German, English and French.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import facturx
import pytest
from lxml import etree
from PIL import Image
from pypdf import PageObject, PdfReader

from sellerbridge.core.documents import LANGUAGES, DocumentContent, DocumentKind
from sellerbridge.core.errors import InvalidInput
from sellerbridge.documents import (
    FILENAME,
    InvalidEInvoice,
    check_xml,
    facturx_xml,
    render,
    render_many,
)
from sellerbridge.documents.formatting import NARROW_NBSP, NBSP, Formatter
from sellerbridge.documents.labels import LABELS, TITLES
from sellerbridge.documents.samples import (
    coffee_invoice,
    correction_invoice,
    delivery_note,
    intra_eu_invoice,
)

CII = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
KINDS = ("invoice", "intra_eu", "correction", "delivery_note")
CASES = [(kind, language) for kind in KINDS for language in ("de", "en", "fr")]


def content_of(kind: str, language: str) -> DocumentContent:
    invoice = coffee_invoice(language=language)  # two rates and shipping
    if kind == "invoice":
        return invoice
    if kind == "intra_eu":
        return intra_eu_invoice(language=language)
    if kind == "correction":
        return correction_invoice(invoice)  # one of the two espresso bags back
    return delivery_note(invoice)


@cache
def rendered(kind: str, language: str) -> bytes:
    return render(content_of(kind, language))


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def embedded_xml(pdf: bytes) -> bytes:
    (xml,) = PdfReader(BytesIO(pdf)).attachments[FILENAME]
    return xml


def resources(page: PageObject, kind: str) -> Any:
    return page["/Resources"].get_object()[kind].get_object()  # type: ignore[index]


def cii_text(xml: bytes, path: str) -> str:
    element = ElementTree.fromstring(xml).find(path, CII)
    assert element is not None, path
    return element.text or ""


@pytest.mark.parametrize(("kind", "language"), CASES)
def test_every_document_is_pdfa_3b(kind: str, language: str) -> None:
    reader = PdfReader(BytesIO(rendered(kind, language)))
    xmp = reader.xmp_metadata
    assert xmp is not None
    assert xmp.pdfaid_part == "3"
    assert xmp.pdfaid_conformance == "B"
    assert "/OutputIntents" in reader.root_object
    for page in reader.pages:  # PDF/A: every font is embedded
        for font in resources(page, "/Font").values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor.get_object()


@pytest.mark.parametrize(("kind", "language"), CASES)
def test_invoices_embed_factur_x_and_delivery_notes_do_not(kind: str, language: str) -> None:
    pdf = rendered(kind, language)
    reader = PdfReader(BytesIO(pdf))
    catalog: Any = reader.root_object
    metadata = ElementTree.fromstring(reader.xmp_metadata.stream.get_data())  # type: ignore[union-attr]
    descriptions = metadata.findall(f"{{{RDF}}}RDF/{{{RDF}}}Description")
    assert len(metadata.findall(f"{{{RDF}}}RDF")) == 1  # readers look at the first one only
    levels = [found.text for d in descriptions for found in d.iter(f"{{{FX}}}ConformanceLevel")]
    if kind == "delivery_note":
        assert FILENAME not in reader.attachments
        assert "/AF" not in catalog
        assert levels == []
        return
    # WeasyPrint 70 lists the one file specification twice in /AF; it is the same object.
    (filespec,) = {reference.idnum: reference.get_object() for reference in catalog["/AF"]}.values()
    assert filespec["/F"] == FILENAME
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/text/xml"
    assert levels == ["EN 16931"]
    xml = embedded_xml(pdf)
    check_xml(xml)
    assert facturx.get_flavor(etree.fromstring(xml)) == "factur-x"


@pytest.mark.parametrize(("kind", "language"), [case for case in CASES if case[0] != KINDS[3]])
def test_the_embedded_xml_says_what_the_page_says(kind: str, language: str) -> None:
    content = content_of(kind, language)
    xml = embedded_xml(rendered(kind, language))
    sign = -1 if content.kind is DocumentKind.CORRECTION else 1  # a credit note is positive
    summation = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/" + (
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
    )
    assert cii_text(xml, "rsm:ExchangedDocument/ram:ID") == content.number
    assert cii_text(xml, "rsm:ExchangedDocument/ram:TypeCode") == ("381" if sign < 0 else "380")
    for element, amount in (
        ("ram:TaxBasisTotalAmount", content.total_net),
        ("ram:TaxTotalAmount", content.total_tax),
        ("ram:GrandTotalAmount", content.total_gross),
        ("ram:DuePayableAmount", content.total_gross - content.prepaid),
    ):
        assert Decimal(cii_text(xml, summation + element)) == amount * sign, element
    lines = ElementTree.fromstring(xml).findall(
        "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem", CII
    )
    assert len(lines) == len(content.lines)
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"


def test_a_german_invoice_shows_what_14_ustg_asks_for() -> None:
    content = content_of("invoice", "de")
    text = text_of(rendered("invoice", "de"))
    money = Formatter("de")
    expected = [
        "Rechnung RE-2026-000123",
        "Röstwerk Böhm GmbH",
        "Kastanienallee 12",
        "Lukas Schröder",
        "Eppendorfer Weg 201",
        "USt-IdNr. DE123456789",
        "Steuernummer 37/123/45678",
        "Datum 27.11.2026",
        "Leistungsdatum 26.11.2026",
        "Espresso Bohnen „Kreuzberg“, 1 kg",
        f"Nettobetrag 7{NBSP}%",
        f"USt. 19{NBSP}%",
        f"Summe netto {money.money(content.total_net, 'EUR')}",
        f"Summe USt. {money.money(content.total_tax, 'EUR')}",
        f"Gesamtbetrag {money.money(content.total_gross, 'EUR')}",
        "Versand DHL Paket",
        "Bezahlt über Amazon",
    ]
    for entry in content.breakdown:
        expected.append(money.money(entry.net, "EUR"))
        expected.append(money.money(entry.tax, "EUR"))
    for wanted in expected:
        assert wanted in text, wanted
    assert "IBAN" not in text  # no bank details unless the content has them


@pytest.mark.parametrize("language", ["de", "en", "fr"])
def test_an_intra_eu_invoice_shows_both_vat_ids_and_the_exemption(language: str) -> None:
    content = content_of("intra_eu", language)
    text = text_of(rendered("intra_eu", language))
    assert content.bank is not None
    for shown in (
        content.buyer.vat_id,
        content.seller.vat_id,
        content.breakdown[0].exemption_reason,
        f"IBAN {content.bank.iban}",
    ):
        assert shown
        assert shown in text
    assert Formatter(language).money(content.total_gross, "EUR") in text
    xml = embedded_xml(rendered("intra_eu", language))
    tax = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
    assert cii_text(xml, tax + "ram:ApplicableTradeTax/ram:CategoryCode") == "K"
    assert cii_text(xml, tax + "ram:ApplicableTradeTax/ram:ExemptionReasonCode") == "VATEX-EU-IC"
    assert "IBANID" in xml.decode()


@pytest.mark.parametrize("language", ["de", "en", "fr"])
def test_a_correction_names_the_original_and_takes_back_one_item(language: str) -> None:
    original = coffee_invoice(language=language)
    content = content_of("correction", language)
    text = text_of(rendered("correction", language))
    formatter = Formatter(language)
    assert f"{TITLES[language][DocumentKind.CORRECTION]} {content.number}" in text
    assert original.number in text
    assert formatter.date(original.issued_on) in text
    assert content.reason in text  # type: ignore[operator]
    assert formatter.money(content.total_gross, "EUR").startswith(("-", "-€"))
    assert formatter.money(content.total_gross, "EUR") in text
    assert len(content.lines) == 1 < len(original.lines) - 1  # 1 of 2 articles, no shipping
    xml = embedded_xml(rendered("correction", language))
    reference = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement/"
    assert cii_text(xml, reference + "ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == (
        original.number
    )


@pytest.mark.parametrize("language", ["de", "en", "fr"])
def test_a_delivery_note_shows_goods_but_no_prices(language: str) -> None:
    content = content_of("delivery_note", language)
    text = text_of(rendered("delivery_note", language))
    assert f"{TITLES[language][DocumentKind.DELIVERY_NOTE]} {content.number}" in text
    for line in content.lines:
        assert line.description in text
    assert "€" not in text
    assert LABELS[language]["unit_price"] not in text
    assert LABELS[language]["total_gross"] not in text


def test_a_template_override_and_a_logo_change_the_output(tmp_path: Path) -> None:
    (tmp_path / "document.html").write_text(
        '{% extends "builtin/document.html" %}'
        "{% block footer %}<footer>Mit Röstgrüßen aus Berlin</footer>{% endblock %}",
        encoding="utf-8",
    )
    Image.new("RGB", (120, 40), "#6b4226").save(tmp_path / "logo.png")
    content = content_of("invoice", "de")
    pdf = render(content, template_dir=tmp_path)
    text = text_of(pdf)
    assert "Mit Röstgrüßen aus Berlin" in text
    assert "Steuernummer" not in text  # the built-in footer is replaced
    assert "Gesamtbetrag" in text  # the rest of the built-in layout stays
    page = PdfReader(BytesIO(pdf)).pages[0]
    images = [
        xobject.get_object()
        for xobject in resources(page, "/XObject").values()
        if xobject.get_object()["/Subtype"] == "/Image"
    ]
    assert [(image["/Width"], image["/Height"]) for image in images] == [(120, 40)]
    check_xml(embedded_xml(pdf))
    assert "Steuernummer" in text_of(rendered("invoice", "de"))  # others keep the built-in


def test_a_stylesheet_override_replaces_the_built_in_one(tmp_path: Path) -> None:
    (tmp_path / "document.css").write_text("@page { size: A5 landscape; }", encoding="utf-8")
    page = PdfReader(BytesIO(render(content_of("invoice", "de"), template_dir=tmp_path))).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (595, 420)  # A5 landscape in points


def test_render_many_returns_the_documents_in_order() -> None:
    contents = [coffee_invoice(number=f"RE-2026-9{index:05d}", articles=index + 1)
                for index in range(4)]  # fmt: skip
    progress: list[tuple[int, int]] = []
    pdfs = render_many(contents, workers=2, on_progress=lambda *done: progress.append(done))
    assert [cii_text(embedded_xml(pdf), "rsm:ExchangedDocument/ram:ID") for pdf in pdfs] == [
        content.number for content in contents
    ]
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_inconsistent_totals_are_refused_before_anything_is_issued() -> None:
    content = coffee_invoice()
    wrong = replace(content, total_gross=content.total_gross + Decimal("0.01"))
    with pytest.raises(InvalidEInvoice, match="is not"):
        render(wrong)
    with pytest.raises(InvalidEInvoice, match="lines add up"):
        facturx_xml(replace(content, total_net=content.total_net - Decimal(1)))


def test_a_correction_without_its_original_is_refused() -> None:
    correction = correction_invoice(coffee_invoice())
    with pytest.raises(InvalidEInvoice, match="does not name the invoice it corrects"):
        facturx_xml(replace(correction, original=None))


def test_a_delivery_note_has_no_e_invoice() -> None:
    with pytest.raises(InvalidEInvoice, match="delivery note"):
        facturx_xml(delivery_note(coffee_invoice()))


def test_xml_that_breaks_the_schema_is_refused() -> None:
    xml = facturx_xml(coffee_invoice()).replace(b"<ram:TypeCode>380", b"<ram:Kind>380", 1)
    xml = xml.replace(b"</ram:TypeCode>", b"</ram:Kind>", 1)
    with pytest.raises(InvalidEInvoice, match="EN 16931 schema"):
        check_xml(xml)


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a document language"):
        render(replace(coffee_invoice(), language="pt"))
    with pytest.raises(InvalidInput, match="not a document language"):
        facturx_xml(replace(coffee_invoice(), language="pt"))


def test_every_language_has_every_label_and_title() -> None:
    assert set(LABELS) == set(TITLES) == set(LANGUAGES)
    for language in LANGUAGES:
        assert LABELS[language].keys() == LABELS["de"].keys(), language
        assert set(TITLES[language]) == set(DocumentKind), language


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("de", "1234.5", "EUR", f"1.234,50{NBSP}€"),
        ("de", "-24.90", "EUR", f"-24,90{NBSP}€"),
        ("en", "1234.50", "GBP", "£1,234.50"),
        ("en", "-24.90", "EUR", "-€24.90"),
        ("fr", "1234.56", "EUR", f"1{NARROW_NBSP}234,56{NBSP}€"),
        ("nl", "1234.56", "EUR", f"€{NBSP}1.234,56"),
        ("pl", "99.00", "PLN", f"99,00{NBSP}zł"),
        ("sv", "1234567.80", "SEK", f"1{NBSP}234{NBSP}567,80{NBSP}kr"),
        ("de", "16.8067", "EUR", f"16,8067{NBSP}€"),  # a net unit price keeps its decimals
        ("de", "-0.00", "EUR", f"0,00{NBSP}€"),
    ],
)
def test_amounts_are_written_as_readers_of_the_language_expect(
    language: str, amount: str, currency: str, expected: str
) -> None:
    assert Formatter(language).money(Decimal(amount), currency) == expected


def test_rates_and_dates_follow_the_language() -> None:
    day = coffee_invoice().issued_on
    assert (Formatter("de").rate(Decimal(19)), Formatter("de").date(day)) == (
        f"19{NBSP}%",
        "27.11.2026",
    )
    assert (Formatter("en").rate(Decimal("5.5")), Formatter("en").date(day)) == (
        "5.5%",
        "27/11/2026",
    )
    assert Formatter("sv").date(day) == "2026-11-27"
