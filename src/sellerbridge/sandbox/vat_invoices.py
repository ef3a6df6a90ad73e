"""The ``UPLOAD_VAT_INVOICE`` feed: a seller's own VAT invoice or credit note, as a PDF.

Under Amazon's VAT Calculation Service with self-invoicing (VCS "option 2") the seller reads
Amazon's tax figures from the VAT invoice data report (VIDR, see :mod:`.reports`), makes one
invoice per *shipment* and uploads it as the document of an ``UPLOAD_VAT_INVOICE`` feed, with
the invoice's metadata in ``feedOptions``. Amazon checks the metadata against the shipment; the
outcome shows in the feed's processing report and in the VIDR's ``invoice-status`` and
``invoice-status-description``.

The checks, in this order (error names and codes from Amazon's upload-error table where it has
them; the others are the sandbox's names and carry no code):

1. exactly one marketplace, a European one — ``MarketplaceIDInputError`` (79523);
2. the feed options, read case-insensitively with or without the ``metadata:`` prefix:
   ``OrderId`` or ``ShippingId`` (with both, the order id is ignored, as Amazon documents) and
   ``InvoiceNumber`` are required, and ``TransactionId`` for a credit note —
   ``MissingRequestPreferences`` (79513);
3. ``DocumentType`` is ``Invoice`` (the default) or ``CreditNote`` — ``InvalidDocumentType``
   (79531);
4. a document was uploaded (``NoFileUpload``, 79540) and it is a PDF, i.e. starts with
   ``%PDF-`` (``InvoiceFileIsNotPDF``, 79503);
5. the order exists, belongs to the seller, is on the feed's marketplace and has been
   dispatched — ``InvalidOrderId`` (79517; Amazon: "Invoices are only due after shipment has
   been dispatched"); an unknown shipping id is ``InvalidShippingId``;
6. a ``TransactionId`` sent with an invoice is that of the shipment (for a shipment, Amazon's
   transaction id is the shipping id) — ``InvalidTransactionId``. A credit note's
   ``TransactionId`` must be a refund (:mod:`.finances`, the VIDR's ``REFUND`` rows) of the
   order named by ``OrderId``, or one that refunded units of the shipment named by
   ``ShippingId`` — ``InvalidTransactionId``; and the shipments whose units it refunded must
   have an accepted invoice already — ``InvoiceNotUploaded`` ("upload the invoice first");
7. ``TotalAmount`` and ``TotalVATAmount``, when given, equal Amazon's VAT-inclusive total and
   its VAT to the cent — ``InvoiceAmountMismatch``, naming both amounts (``InvalidAmount`` for
   one that is not a number). An upload by ``ShippingId`` is compared with that shipment, one by
   ``OrderId`` with all the order's shipments so far (one invoice covering them). A package that
   carries part of an item's units carries that share of each of its amounts, so the shipments
   of an order add up to its total to the cent. A credit note is compared with its refund's
   total and VAT by magnitude: it may state them negative or positive;
8. a shipment takes one accepted invoice — ``DuplicateInvoice``; a refund one accepted credit
   note — ``DuplicateCreditNote``.

Every upload, accepted or rejected, is recorded in the reports' state, where the VIDR reads it
(``GET /_sandbox/invoices`` lists them), with Amazon's figures it was compared with (a credit
note's are its refund's); :mod:`.reports` registers the processor with :mod:`.feeds`.
The feed always ends ``DONE``: Amazon reports these errors as the "description in feed result",
so a rejected invoice is a processed feed whose report says why. The processing report's format
for this feed type is not documented; the sandbox writes the XML ``ProcessingReport`` of
Amazon's XML feeds (``MessagesProcessed``/``MessagesSuccessful``/``MessagesWithError`` and, for
a rejection, one ``Result`` with the error code and ``ResultDescription``).

Unverified, chosen as the plausible behaviour: the checks of steps 6 and 8 and their error
names (``InvoiceNotUploaded``, ``DuplicateCreditNote`` included); that a credit note's amounts
may be sent with either sign; that uploads are accepted on all ten European marketplaces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal
from xml.etree import ElementTree as ET

from pydantic import BaseModel

from sellerbridge.sandbox.feeds import Feed, FeedResult
from sellerbridge.sandbox.marketplaces import EUROPE
from sellerbridge.sandbox.order_records import ZERO, Order, OrderItem, cents

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox
    from sellerbridge.sandbox.finances import Refund

FEED_TYPE = "UPLOAD_VAT_INVOICE"
VCS_MARKETPLACE_IDS = frozenset(marketplace.id for marketplace in EUROPE)
DOCUMENT_TYPES = ("Invoice", "CreditNote")

# invoice-status values of the VIDR (Amazon documents "InvoicePending" for a dispatched
# shipment without an invoice; the value for an accepted invoice is not documented).
INVOICE_PENDING = "InvoicePending"
INVOICE_UPLOADED = "InvoiceUploaded"
# ... and for a refund (the sandbox's names: Amazon documents none for credit notes).
CREDIT_NOTE_PENDING = "CreditNotePending"
CREDIT_NOTE_UPLOADED = "CreditNoteUploaded"


class InvoiceUpload(BaseModel):
    """One ``UPLOAD_VAT_INVOICE`` feed as Amazon judged it."""

    upload_id: str
    seller_id: str
    feed_id: str
    marketplace_id: str | None
    order_id: str | None
    shipping_id: str | None
    shipment_ids: list[str]
    """The shipments the document is for (resolved from the shipping or order id)."""
    invoice_number: str | None
    document_type: str
    transaction_id: str | None
    total_amount: str | None  # as sent
    total_vat_amount: str | None  # as sent
    amazon_total: Decimal | None
    amazon_vat: Decimal | None
    currency: str | None
    status: Literal["ACCEPTED", "REJECTED"]
    error: str | None = None
    reason: str | None = None
    pdf_sha256: str
    uploaded_at: datetime


# --- shipments and their amounts, as the VIDR reports them ---------------------------------


@dataclass(frozen=True)
class Shipment:
    """One dispatched shipment: an FBM package or the FBA shipment of an order."""

    order: Order
    shipment_id: str
    shipped_at: datetime
    lines: tuple[OrderItem, ...]  # each item's part in this shipment

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)

    @property
    def total_tax(self) -> Decimal:
        return sum((line.total_tax for line in self.lines), ZERO)


def _line(item: OrderItem, shipped_before: int, quantity: int) -> OrderItem:
    """The part of ``item`` in a shipment of ``quantity`` units after ``shipped_before``.

    Each amount is split by units so that the parts of all shipments add up to the item's
    amount to the cent: a part is the rounded running share minus the rounded share before.
    The item price needs no split: it is the unit price times the units shipped.
    """

    def share(amount: Decimal) -> Decimal:
        after = shipped_before + quantity
        return cents(amount * after / item.quantity) - cents(
            amount * shipped_before / item.quantity
        )

    split = (
        "item_tax",
        "shipping_price",
        "shipping_tax",
        "gift_wrap_price",
        "gift_wrap_tax",
        "promotion_discount",
        "promotion_discount_tax",
        "shipping_discount",
        "shipping_discount_tax",
    )
    return item.model_copy(
        update={
            "quantity": quantity,
            "quantity_shipped": quantity,
            **{name: share(getattr(item, name)) for name in split},
        }
    )


def order_shipments(order: Order) -> list[Shipment]:
    """The order's dispatched shipments: its FBA shipment, or its confirmed FBM packages."""
    if order.fba_shipment is not None:
        fba = order.fba_shipment
        lines = tuple(_line(item, 0, item.quantity) for item in order.items if item.quantity)
        return [Shipment(order, fba.shipment_id, fba.shipped_at, lines)]
    items = {item.order_item_id: item for item in order.items}
    shipped: dict[str, int] = {}
    shipments = []
    for package in order.packages:
        lines_ = []
        for part in package.items:
            before = shipped.get(part.order_item_id, 0)
            lines_.append(_line(items[part.order_item_id], before, part.quantity))
            shipped[part.order_item_id] = before + part.quantity
        shipments.append(Shipment(order, package.shipment_id, package.ship_date, tuple(lines_)))
    return shipments


def seller_orders(sandbox: Sandbox, seller_id: str) -> Iterable[Order]:
    return (o for o in sandbox.state.orders.orders.values() if o.seller_id == seller_id)


def accepted_invoices(uploads: Iterable[InvoiceUpload], seller_id: str) -> dict[str, str]:
    """Invoice number of each of the seller's shipments that has an accepted invoice."""
    return {
        shipment_id: upload.invoice_number or ""
        for upload in uploads
        if upload.seller_id == seller_id
        and upload.status == "ACCEPTED"
        and upload.document_type == "Invoice"
        for shipment_id in upload.shipment_ids
    }


def rejections(uploads: Iterable[InvoiceUpload], seller_id: str) -> dict[str, str]:
    """The reason of the latest rejected invoice upload of each of the seller's shipments."""
    return {
        shipment_id: upload.reason or ""
        for upload in uploads
        if upload.seller_id == seller_id
        and upload.status == "REJECTED"
        and upload.document_type == "Invoice"
        for shipment_id in upload.shipment_ids
    }


def accepted_credit_notes(uploads: Iterable[InvoiceUpload], seller_id: str) -> dict[str, str]:
    """Credit note number of each of the seller's refunds (by transaction id) with one accepted."""
    return {
        upload.transaction_id: upload.invoice_number or ""
        for upload in uploads
        if upload.seller_id == seller_id
        and upload.status == "ACCEPTED"
        and upload.document_type == "CreditNote"
        and upload.transaction_id is not None
    }


def credit_note_rejections(uploads: Iterable[InvoiceUpload], seller_id: str) -> dict[str, str]:
    """The reason of the latest rejected credit note of each of the seller's refunds."""
    return {
        upload.transaction_id: upload.reason or ""
        for upload in uploads
        if upload.seller_id == seller_id
        and upload.status == "REJECTED"
        and upload.document_type == "CreditNote"
        and upload.transaction_id is not None
    }


# --- the feed processor ----------------------------------------------------------------------


class Rejected(Exception):
    """Amazon rejects the upload: ``error`` (and its code, where Amazon documents one)."""

    def __init__(self, error: str, description: str, code: str | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.code = code


def feed_options(raw: Mapping[str, str]) -> dict[str, str]:
    """Feed options by lower-case key without the ``metadata:`` prefix; empty values dropped."""
    options: dict[str, str] = {}
    for key, value in raw.items():
        name = key.strip().lower().removeprefix("metadata:")
        if value.strip():
            options[name] = value.strip()
    return options


def _check_request(feed: Feed, options: dict[str, str], content: bytes) -> None:
    if len(feed.marketplace_ids) != 1 or feed.marketplace_ids[0] not in VCS_MARKETPLACE_IDS:
        raise Rejected(
            "MarketplaceIDInputError",
            "Please provide only one valid marketplace while uploading an invoice.",
            "79523",
        )
    document_type = options.get("documenttype", "Invoice")
    missing = []
    if "orderid" not in options and "shippingid" not in options:
        missing.append("OrderId or ShippingId")
    if "invoicenumber" not in options:
        missing.append("InvoiceNumber")
    if document_type == "CreditNote" and "transactionid" not in options:
        missing.append("TransactionId")
    if missing:
        raise Rejected("MissingRequestPreferences", f"Please provide {', '.join(missing)}", "79513")
    if document_type not in DOCUMENT_TYPES:
        raise Rejected(
            "InvalidDocumentType", f"The document type {document_type} is not supported", "79531"
        )
    reference = (
        f"shipmentId {options.get('shippingid', '')}, orderId {options.get('orderid', '')} "
        f"and InvoiceNumber {options['invoicenumber']}"
    )
    if not content:
        raise Rejected(
            "NoFileUpload",
            f"Invoice missing in feed submission. Please provide an invoice for {reference}",
            "79540",
        )
    if not content.startswith(b"%PDF-"):
        raise Rejected(
            "InvoiceFileIsNotPDF", f"Invoice uploaded is not pdf for {reference}", "79503"
        )


def _lookup(
    sandbox: Sandbox, seller_id: str, options: dict[str, str]
) -> tuple[Order | None, list[Shipment]]:
    """The seller's order and the shipments the metadata names; the shipping id wins."""
    shipping_id = options.get("shippingid")
    if shipping_id is not None:
        for order in seller_orders(sandbox, seller_id):
            for shipment in order_shipments(order):
                if shipment.shipment_id == shipping_id:
                    return order, [shipment]
        return None, []
    found = sandbox.state.orders.orders.get(options.get("orderid", ""))
    if found is None or found.seller_id != seller_id:
        return None, []
    return found, order_shipments(found)


def _check_order(
    feed: Feed, options: dict[str, str], order: Order | None, shipments: list[Shipment]
) -> None:
    if order is None and "shippingid" in options:
        raise Rejected(
            "InvalidShippingId",
            f"The shipping id {options['shippingid']} does not exist or does not belong to "
            "the seller.",
        )
    if order is None:
        raise Rejected(
            "InvalidOrderId",
            f"The order id {options['orderid']} does not exist or does not belong to the seller.",
            "79517",
        )
    if order.marketplace_id != feed.marketplace_ids[0]:
        raise Rejected(
            "InvalidOrderId",
            f"The order {order.order_id} was placed on marketplace {order.marketplace_id}, "
            f"not on {feed.marketplace_ids[0]}.",
            "79517",
        )
    if not shipments:
        raise Rejected(
            "InvalidOrderId",
            f"The order {order.order_id} has not been dispatched yet: invoices are only due "
            "after shipment has been dispatched.",
            "79517",
        )


def _amount(options: dict[str, str], key: str, name: str) -> Decimal | None:
    value = options.get(key)
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise Rejected("InvalidAmount", f"The {name} {value!r} is not a number.") from None
    if not amount.is_finite():
        raise Rejected("InvalidAmount", f"The {name} {value!r} is not a number.")
    return cents(amount)


def _check_amounts(
    options: dict[str, str],
    total: Decimal,
    vat: Decimal,
    currency: str,
    subject: str,
    *,
    either_sign: bool = False,
) -> None:
    """``TotalAmount`` and ``TotalVATAmount``, where given, are Amazon's ``total`` and ``vat``
    to the cent (``either_sign``: by magnitude, as a credit note may state them negative)."""
    mismatches = []
    for key, name, expected in (
        ("totalamount", "TotalAmount", total),
        ("totalvatamount", "TotalVATAmount", vat),
    ):
        given = _amount(options, key, name)
        if given is not None and (abs(given) if either_sign else given) != expected:
            mismatches.append(
                f"{name} {given} {currency} does not match Amazon's {expected} {currency}"
            )
    if mismatches:
        raise Rejected("InvoiceAmountMismatch", f"{'; '.join(mismatches)} for {subject}.")


def _check_against(
    sandbox: Sandbox, feed: Feed, options: dict[str, str], shipments: list[Shipment]
) -> None:
    """The checks of an invoice against the shipments it is for."""
    shipment_ids = [shipment.shipment_id for shipment in shipments]
    transaction_id = options.get("transactionid")
    if transaction_id and transaction_id not in shipment_ids:
        raise Rejected(
            "InvalidTransactionId",
            f"The transaction id {transaction_id} is not a transaction of "
            f"{', '.join(shipment_ids)}.",
        )
    subject = (
        f"shipment {shipment_ids[0]}"
        if "shippingid" in options
        else f"order {shipments[0].order.order_id}"
    )
    _check_amounts(
        options,
        sum((s.total for s in shipments), ZERO),
        sum((s.total_tax for s in shipments), ZERO),
        shipments[0].order.currency,
        subject,
    )
    invoiced = accepted_invoices(sandbox.state.reports.invoices, feed.seller_id)
    for shipment_id in shipment_ids:
        if shipment_id in invoiced:
            raise Rejected(
                "DuplicateInvoice",
                f"An invoice ({invoiced[shipment_id]}) was already accepted for shipment "
                f"{shipment_id}.",
            )


def _named_refund(sandbox: Sandbox, options: dict[str, str], order: Order | None) -> Refund | None:
    """The refund a credit note's ``TransactionId`` names, if it is one of the order or of the
    shipment the upload names."""
    if order is None or options.get("documenttype") != "CreditNote":
        return None
    shipping_id = options.get("shippingid")
    return next(
        (
            refund
            for refund in sandbox.state.reports.refunds.get(order.order_id, [])
            if refund.transaction_id == options.get("transactionid")
            and (shipping_id is None or shipping_id in refund.shipment_ids)
        ),
        None,
    )


def _check_credit_note(
    sandbox: Sandbox, feed: Feed, options: dict[str, str], refund: Refund | None
) -> None:
    """The checks of a credit note against the refund its ``TransactionId`` names."""
    transaction_id = options["transactionid"]
    if refund is None:
        subject = (
            f"shipment {options['shippingid']}"
            if "shippingid" in options
            else f"order {options['orderid']}"
        )
        raise Rejected(
            "InvalidTransactionId",
            f"The transaction id {transaction_id} is not a refund of {subject}.",
        )
    uploads = sandbox.state.reports.invoices
    invoiced = accepted_invoices(uploads, feed.seller_id)
    missing = [shipment_id for shipment_id in refund.shipment_ids if shipment_id not in invoiced]
    if missing:
        raise Rejected(
            "InvoiceNotUploaded",
            f"Shipment {', '.join(missing)} of refund {transaction_id} has no accepted invoice: "
            "upload the invoice first.",
        )
    _check_amounts(
        options,
        refund.total,
        refund.total_tax,
        refund.currency,
        f"refund {transaction_id}",
        either_sign=True,
    )
    credited = accepted_credit_notes(uploads, feed.seller_id)
    if transaction_id in credited:
        raise Rejected(
            "DuplicateCreditNote",
            f"A credit note ({credited[transaction_id]}) was already accepted for refund "
            f"{transaction_id}.",
        )


def process_invoice(sandbox: Sandbox, feed: Feed, content: bytes, now: datetime) -> FeedResult:
    """Judge one uploaded invoice, record it, and write the feed's processing report."""
    options = feed_options(feed.feed_options)
    order, shipments = _lookup(sandbox, feed.seller_id, options)
    refund = _named_refund(sandbox, options, order)
    rejection: Rejected | None = None
    try:
        _check_request(feed, options, content)
        _check_order(feed, options, order, shipments)
        if options.get("documenttype") == "CreditNote":
            _check_credit_note(sandbox, feed, options, refund)
        else:
            _check_against(sandbox, feed, options, shipments)
    except Rejected as rejected:
        rejection = rejected
    amazon_total: Decimal | None
    amazon_vat: Decimal | None
    if refund is not None:  # a credit note is compared with its refund
        amazon_total, amazon_vat = refund.total, refund.total_tax
    elif shipments and options.get("documenttype") != "CreditNote":
        amazon_total = sum((s.total for s in shipments), ZERO)
        amazon_vat = sum((s.total_tax for s in shipments), ZERO)
    else:
        amazon_total = amazon_vat = None
    upload = InvoiceUpload(
        upload_id=f"INV-{sandbox.next_number():08d}",
        seller_id=feed.seller_id,
        feed_id=feed.feed_id,
        marketplace_id=feed.marketplace_ids[0] if len(feed.marketplace_ids) == 1 else None,
        order_id=order.order_id if order else options.get("orderid"),
        shipping_id=options.get("shippingid"),
        shipment_ids=[shipment.shipment_id for shipment in shipments],
        invoice_number=options.get("invoicenumber"),
        document_type=options.get("documenttype", "Invoice"),
        transaction_id=options.get("transactionid"),
        total_amount=options.get("totalamount"),
        total_vat_amount=options.get("totalvatamount"),
        amazon_total=amazon_total,
        amazon_vat=amazon_vat,
        currency=order.currency if order else None,
        status="REJECTED" if rejection else "ACCEPTED",
        error=rejection.error if rejection else None,
        reason=rejection.description if rejection else None,
        pdf_sha256=hashlib.sha256(content).hexdigest(),
        uploaded_at=now,
    )
    sandbox.state.reports.invoices.append(upload)
    return FeedResult(
        status="DONE",
        content=processing_report(feed, upload, rejection),
        content_type="text/xml; charset=UTF-8",
    )


def processing_report(feed: Feed, upload: InvoiceUpload, rejection: Rejected | None) -> bytes:
    """The XML processing report of Amazon's XML feeds, for this one-message feed."""
    envelope = ET.Element(
        "AmazonEnvelope",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd",
        },
    )
    header = ET.SubElement(envelope, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.02"
    ET.SubElement(header, "MerchantIdentifier").text = feed.seller_id
    ET.SubElement(envelope, "MessageType").text = "ProcessingReport"
    message = ET.SubElement(envelope, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    report = ET.SubElement(message, "ProcessingReport")
    ET.SubElement(report, "DocumentTransactionID").text = feed.feed_id
    ET.SubElement(report, "StatusCode").text = "Complete"
    summary = ET.SubElement(report, "ProcessingSummary")
    for name, value in (
        ("MessagesProcessed", 1),
        ("MessagesSuccessful", 0 if rejection else 1),
        ("MessagesWithError", 1 if rejection else 0),
        ("MessagesWithWarning", 0),
    ):
        ET.SubElement(summary, name).text = str(value)
    if rejection is not None:
        result = ET.SubElement(report, "Result")
        ET.SubElement(result, "MessageID").text = "1"
        ET.SubElement(result, "ResultCode").text = "Error"
        if rejection.code is not None:
            ET.SubElement(result, "ResultMessageCode").text = rejection.code
        ET.SubElement(
            result, "ResultDescription"
        ).text = f"{rejection.error}: {rejection.description}"
        if upload.order_id is not None:
            info = ET.SubElement(result, "AdditionalInfo")
            ET.SubElement(info, "AmazonOrderID").text = upload.order_id
    document: bytes = ET.tostring(envelope, encoding="UTF-8", xml_declaration=True)
    return document
