"""The EN 16931 e-invoice inside every invoice PDF: a Factur-X / ZUGFeRD CII XML.

Since 2025 a German business must be able to receive e-invoices, and from 2027/2028 B2B invoices
must be e-invoices (EN 16931; a plain PDF no longer counts). Factur-X (= ZUGFeRD 2.x) is the
hybrid form: the PDF a person reads with the XML a machine reads embedded as ``factur-x.xml``.
Where the two differ, the XML prevails (BMF letter of 15.10.2024, Rn. 31), so the XML is built
from the same :class:`~sellerbridge.core.documents.DocumentContent` as the page and refused if
that content does not add up (the EN 16931 sums BR-CO-10 to BR-CO-15).

The XML is written here with the standard library's ElementTree rather than through factur-x's
``generate_cii_xml``: that takes a dict whose layout changed in factur-x 7.0 and is untyped,
while the ~40 elements of a CII invoice are few enough to write out, typed and in XSD order.
factur-x is used for what it is good at: the bundled EN 16931 XSD (:func:`check_xml`).

Profile EN 16931 (formerly COMFORT), the German recommended default. A correction invoice
becomes a credit note (type code 381): its amounts are printed negative (German practice) but
EN 16931 wants them positive, with the type carrying the sign; it references the original
invoice (BG-3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, SubElement

import facturx

from sellerbridge.core.documents import (
    BankAccount,
    DocumentContent,
    DocumentKind,
    DocumentLine,
    Party,
    TaxCategory,
)
from sellerbridge.core.errors import DomainError
from sellerbridge.documents.labels import LABELS, check_language

FILENAME = "factur-x.xml"
"""The name Factur-X 1.0 and ZUGFeRD 2.1+ give the embedded XML."""

LEVEL = "en16931"
GUIDELINE = "urn:cen.eu:en16931:2017"
"""BT-24 of profile EN 16931 (Factur-X calls it ``urn:cen.eu:en16931:2017`` without suffix)."""

INVOICE_TYPE = "380"  # commercial invoice (UNTDID 1001)
CREDIT_NOTE_TYPE = "381"
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
DISCOUNT_REASON = "95"  # UNTDID 5189 "Discount"

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}

UNTAXED = frozenset({TaxCategory.INTRA_EU, TaxCategory.EXPORT, TaxCategory.EXEMPT})
"""Categories whose breakdown must give the exemption reason (BR-IC-10, BR-G-10, BR-E-10)."""

# The XMP properties a Factur-X reader looks for, and the PDF/A extension schema that declares
# them (PDF/A allows only declared properties in the document's XMP metadata).
XMP_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
XMP_PROPERTIES = {
    "DocumentFileName": ("name of the embedded XML invoice file", FILENAME),
    "DocumentType": ("type of the hybrid document in capital letters", "INVOICE"),
    "Version": ("version of the Factur-X XML schema", "1.0"),
    "ConformanceLevel": ("conformance level of the embedded Factur-X data", "EN 16931"),
}

for _prefix, _uri in (NS | XMP_NS).items():
    ElementTree.register_namespace(_prefix, _uri)


class InvalidEInvoice(DomainError):
    """The e-invoice of a document cannot be issued: its content is inconsistent or invalid."""


def facturx_xml(content: DocumentContent) -> bytes:
    """The CII XML (Factur-X profile EN 16931) of an invoice or correction invoice.

    Raises :class:`InvalidEInvoice` for a delivery note or when the content's sums disagree.
    """
    _check_content(content)
    sign = Decimal(-1) if content.kind is DocumentKind.CORRECTION else Decimal(1)
    root = Element(_tag("rsm:CrossIndustryInvoice"))
    context = _sub(root, "rsm:ExchangedDocumentContext")
    _sub(_sub(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", GUIDELINE)

    header = _sub(root, "rsm:ExchangedDocument")
    _sub(header, "ram:ID", content.number)
    _sub(header, "ram:TypeCode", CREDIT_NOTE_TYPE if sign < 0 else INVOICE_TYPE)
    _date(_sub(header, "ram:IssueDateTime"), "udt", content.issued_on)
    for note in (content.reason, *content.notes):
        if note:
            _sub(_sub(header, "ram:IncludedNote"), "ram:Content", note)

    transaction = _sub(root, "rsm:SupplyChainTradeTransaction")
    for line in content.lines:
        _line(transaction, line, sign)
    _agreement(_sub(transaction, "ram:ApplicableHeaderTradeAgreement"), content)
    delivery = _sub(transaction, "ram:ApplicableHeaderTradeDelivery")
    # Always name where the goods went: BR-IC-12 needs the country for intra-EU supplies.
    _party(delivery, "ram:ShipToTradeParty", content.delivery or content.buyer)
    event = _sub(delivery, "ram:ActualDeliverySupplyChainEvent")
    _date(_sub(event, "ram:OccurrenceDateTime"), "udt", delivery_date(content))
    _settlement(_sub(transaction, "ram:ApplicableHeaderTradeSettlement"), content, sign)
    xml: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml


def check_xml(xml: bytes) -> None:
    """Validate ``xml`` against the Factur-X EN 16931 XSD that ships with factur-x.

    The XSD checks structure and data types, not the EN 16931 business rules (those are a
    schematron that needs an XSLT 2 processor); :func:`facturx_xml` checks the sums itself.
    """
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level=LEVEL)
    except Exception as error:  # factur-x raises a bare Exception whose text names the fault
        raise InvalidEInvoice(
            f"The Factur-X XML does not match the EN 16931 schema: {error}",
            hint="Nothing was issued. Report this together with the document number.",
        ) from error


def delivery_date(content: DocumentContent) -> date:
    """The date of supply printed and sent: the shipment date, else the issue date.

    German practice when the two coincide is "Leistungsdatum = Rechnungsdatum"; § 14 Abs. 4
    Nr. 6 UStG needs one on every invoice.
    """
    return content.delivered_on or content.issued_on


def xmp_descriptions() -> list[Element]:
    """The ``rdf:Description`` elements a Factur-X PDF adds to its XMP metadata."""
    rdf, fx = XMP_NS["rdf"], XMP_NS["fx"]
    about = {f"{{{rdf}}}about": ""}
    schema = Element(f"{{{rdf}}}Description", about)
    bag = SubElement(SubElement(schema, f"{{{XMP_NS['pdfaExtension']}}}schemas"), f"{{{rdf}}}Bag")
    entry = SubElement(bag, f"{{{rdf}}}li", {f"{{{rdf}}}parseType": "Resource"})
    pdfa_schema = XMP_NS["pdfaSchema"]
    for name, text in (
        ("schema", "Factur-X PDFA Extension Schema"),
        ("namespaceURI", fx),
        ("prefix", "fx"),
    ):
        SubElement(entry, f"{{{pdfa_schema}}}{name}").text = text
    sequence = SubElement(SubElement(entry, f"{{{pdfa_schema}}}property"), f"{{{rdf}}}Seq")
    pdfa_property = XMP_NS["pdfaProperty"]
    for name, (description, _) in XMP_PROPERTIES.items():
        item = SubElement(sequence, f"{{{rdf}}}li", {f"{{{rdf}}}parseType": "Resource"})
        for field, text in (
            ("name", name),
            ("valueType", "Text"),
            ("category", "external"),
            ("description", description),
        ):
            SubElement(item, f"{{{pdfa_property}}}{field}").text = text
    values = Element(f"{{{rdf}}}Description", about)
    for name, (_, value) in XMP_PROPERTIES.items():
        SubElement(values, f"{{{fx}}}{name}").text = value
    return [schema, values]


def _check_content(content: DocumentContent) -> None:
    check_language(content.language)
    if not content.kind.is_e_invoice:
        raise InvalidEInvoice(f"A {content.kind.value.replace('_', ' ')} has no e-invoice")
    if content.kind is DocumentKind.CORRECTION and content.original is None:
        raise InvalidEInvoice(
            f"Correction invoice {content.number} does not name the invoice it corrects",
            hint="A correction must refer to the original invoice number and date.",
        )
    problems: list[str] = []
    lines_net = _sum(line.net for line in content.lines)
    if lines_net != content.total_net:
        problems.append(f"the lines add up to {lines_net} net, the total says {content.total_net}")
    breakdown_net = _sum(entry.net for entry in content.breakdown)
    if breakdown_net != content.total_net:
        problems.append(f"the VAT breakdown covers {breakdown_net} net of {content.total_net}")
    breakdown_tax = _sum(entry.tax for entry in content.breakdown)
    if breakdown_tax != content.total_tax:
        problems.append(
            f"the VAT breakdown adds up to {breakdown_tax} VAT, not {content.total_tax}"
        )
    if content.total_net + content.total_tax != content.total_gross:
        problems.append(
            f"net {content.total_net} plus VAT {content.total_tax} is not {content.total_gross}"
        )
    rates = {(entry.category, entry.rate) for entry in content.breakdown}
    for line in content.lines:
        if (line.tax_category, line.tax_rate) not in rates:
            problems.append(
                f"line {line.position} is taxed {line.tax_category.value} {line.tax_rate} %, "
                "which the VAT breakdown lacks"
            )
    for entry in content.breakdown:
        if entry.category in UNTAXED and not entry.exemption_reason:
            problems.append(f"the {entry.category.value} category lacks its exemption note")
    if problems:
        raise InvalidEInvoice(
            f"Document {content.number} cannot be issued: {'; '.join(problems)}",
            hint="Nothing was issued. The amounts come from the order; check its lines and "
            "tax rates, or report this together with the order number.",
        )


def _line(transaction: Element, line: DocumentLine, sign: Decimal) -> None:
    item = _sub(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _sub(_sub(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
    product = _sub(item, "ram:SpecifiedTradeProduct")
    if line.article_number:
        _sub(product, "ram:SellerAssignedID", line.article_number)
    _sub(product, "ram:Name", line.description)
    # A price is never negative (BR-27): a negative line carries its sign in the quantity.
    price, quantity = line.unit_price_net, line.quantity * sign
    if price < 0:
        price, quantity = -price, -quantity
    agreement = _sub(item, "ram:SpecifiedLineTradeAgreement")
    _sub(_sub(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _plain(price, 2))
    delivery = _sub(item, "ram:SpecifiedLineTradeDelivery")
    _sub(delivery, "ram:BilledQuantity", _plain(quantity, 0), unitCode=line.unit_code)
    settlement = _sub(item, "ram:SpecifiedLineTradeSettlement")
    tax = _sub(settlement, "ram:ApplicableTradeTax")
    _sub(tax, "ram:TypeCode", "VAT")
    _sub(tax, "ram:CategoryCode", line.tax_category.value)
    if line.tax_category is not TaxCategory.NOT_SUBJECT:
        _sub(tax, "ram:RateApplicablePercent", _amount(line.tax_rate))
    if line.discount:
        allowance = _sub(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _sub(_sub(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
        _sub(allowance, "ram:ActualAmount", _amount(line.discount * sign))
        _sub(allowance, "ram:ReasonCode", DISCOUNT_REASON)
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", _amount(line.net * sign))


def _agreement(agreement: Element, content: DocumentContent) -> None:
    if content.order_reference:  # the marketplace's order id: what the buyer knows it by
        _sub(agreement, "ram:BuyerReference", content.order_reference)
    _party(agreement, "ram:SellerTradeParty", content.seller, seller=True)
    _party(agreement, "ram:BuyerTradeParty", content.buyer)
    _sub(_sub(agreement, "ram:SellerOrderReferencedDocument"), "ram:IssuerAssignedID",
         content.order_number)  # fmt: skip
    if content.purchase_order:
        _sub(_sub(agreement, "ram:BuyerOrderReferencedDocument"), "ram:IssuerAssignedID",
             content.purchase_order)  # fmt: skip


def _party(parent: Element, tag: str, party: Party, *, seller: bool = False) -> None:
    node = _sub(parent, tag)
    _sub(node, "ram:Name", party.company or party.name)
    if seller and (party.company or party.phone or party.email):
        contact = _sub(node, "ram:DefinedTradeContact")
        if party.company:
            _sub(contact, "ram:PersonName", party.name)
        if party.phone:
            _sub(_sub(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber",
                 party.phone)  # fmt: skip
        if party.email:
            _sub(_sub(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.email)
    elif party.company and party.name != party.company:
        _sub(_sub(node, "ram:DefinedTradeContact"), "ram:PersonName", party.name)
    address = _sub(node, "ram:PostalTradeAddress")
    _sub(address, "ram:PostcodeCode", party.postal_code)
    for tag_name, street in zip(("LineOne", "LineTwo", "LineThree"), party.street_lines,
                                strict=False):  # fmt: skip
        _sub(address, f"ram:{tag_name}", street)
    _sub(address, "ram:CityName", party.city)
    _sub(address, "ram:CountryID", party.country)
    if party.region:
        _sub(address, "ram:CountrySubDivisionName", party.region)
    if seller and party.email:
        _sub(_sub(node, "ram:URIUniversalCommunication"), "ram:URIID", party.email,
             schemeID="EM")  # fmt: skip
    if tag == "ram:ShipToTradeParty":
        return  # a delivery address carries no tax registration
    if party.vat_id:
        _sub(_sub(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")
    if seller and party.tax_number:
        _sub(_sub(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_number,
             schemeID="FC")  # fmt: skip


def _settlement(settlement: Element, content: DocumentContent, sign: Decimal) -> None:
    _sub(settlement, "ram:InvoiceCurrencyCode", content.currency)
    due = (content.total_gross - content.prepaid) * sign
    if content.bank is not None:
        _payment_means(settlement, content.bank)
    for entry in content.breakdown:
        tax = _sub(settlement, "ram:ApplicableTradeTax")
        _sub(tax, "ram:CalculatedAmount", _amount(entry.tax * sign))
        _sub(tax, "ram:TypeCode", "VAT")
        if entry.exemption_reason:
            _sub(tax, "ram:ExemptionReason", entry.exemption_reason)
        _sub(tax, "ram:BasisAmount", _amount(entry.net * sign))
        _sub(tax, "ram:CategoryCode", entry.category.value)
        if entry.exemption_code:
            _sub(tax, "ram:ExemptionReasonCode", entry.exemption_code)
        if entry.category is not TaxCategory.NOT_SUBJECT:
            _sub(tax, "ram:RateApplicablePercent", _amount(entry.rate))
    if due > 0:  # BR-CO-25: an amount due needs payment terms or a due date
        terms = _sub(settlement, "ram:SpecifiedTradePaymentTerms")
        _sub(terms, "ram:Description", LABELS[content.language]["payable_now"])
    summation = _sub(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _sub(summation, "ram:LineTotalAmount", _amount(content.total_net * sign))
    _sub(summation, "ram:TaxBasisTotalAmount", _amount(content.total_net * sign))
    _sub(summation, "ram:TaxTotalAmount", _amount(content.total_tax * sign),
         currencyID=content.currency)  # fmt: skip
    _sub(summation, "ram:GrandTotalAmount", _amount(content.total_gross * sign))
    if content.prepaid:
        _sub(summation, "ram:TotalPrepaidAmount", _amount(content.prepaid * sign))
    _sub(summation, "ram:DuePayableAmount", _amount(due))
    if content.original is not None:
        reference = _sub(settlement, "ram:InvoiceReferencedDocument")
        _sub(reference, "ram:IssuerAssignedID", content.original.number)
        _date(_sub(reference, "ram:FormattedIssueDateTime"), "qdt", content.original.issued_on)


def _payment_means(settlement: Element, bank: BankAccount) -> None:
    means = _sub(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _sub(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
    account = _sub(means, "ram:PayeePartyCreditorFinancialAccount")
    _sub(account, "ram:IBANID", bank.iban.replace(" ", ""))
    _sub(account, "ram:AccountName", bank.account_holder)
    if bank.bic:
        _sub(_sub(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID",
             bank.bic)  # fmt: skip


def _tag(name: str) -> str:
    prefix, _, local = name.partition(":")
    return f"{{{NS[prefix]}}}{local}"


def _sub(parent: Element, name: str, text: str | None = None, **attributes: str) -> Element:
    element = SubElement(parent, _tag(name), attributes)
    element.text = text
    return element


def _date(parent: Element, namespace: str, value: date) -> None:
    _sub(parent, f"{namespace}:DateTimeString", value.strftime("%Y%m%d"), format="102")


def _amount(value: Decimal) -> str:
    return f"{abs(value) if value == 0 else value:.2f}"  # never "-0.00"


def _plain(value: Decimal, places: int) -> str:
    """``value`` with its own decimals (up to four), but at least ``places``."""
    text = f"{value.normalize():f}"
    decimals = len(text.partition(".")[2])
    return f"{value:.{max(places, decimals)}f}"


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, Decimal(0))
