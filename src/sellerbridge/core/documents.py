"""What a business document says: invoice, correction invoice, delivery note.

:class:`DocumentContent` is everything printed on a document and written into its e-invoice
XML, decided once when the document is issued. The renderer and the Factur-X writer read only
this; they never look at orders or settings. Amounts are as printed: a correction invoice
carries negative amounts (German practice, "Rechnungskorrektur"); its Factur-X XML is a credit
note (type code 381), whose amounts EN 16931 wants positive, so the XML writer negates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CORRECTION = "correction"  # Rechnungskorrektur: a correction of (part of) an invoice
    DELIVERY_NOTE = "delivery_note"

    @property
    def has_prices(self) -> bool:
        return self is not DocumentKind.DELIVERY_NOTE

    @property
    def is_e_invoice(self) -> bool:
        """Invoices and correction invoices carry a Factur-X XML; delivery notes do not."""
        return self is not DocumentKind.DELIVERY_NOTE


LANGUAGES = ("de", "en", "fr", "it", "es", "nl", "pl", "sv")
"""The languages documents and e-mails are written in (one per Amazon EU marketplace)."""


class TaxCategory(StrEnum):
    """EN 16931 VAT category codes (UNTDID 5305) as used in the VAT breakdown."""

    STANDARD = "S"  # taxed at a standard or reduced rate
    ZERO = "Z"  # zero-rated goods
    EXEMPT = "E"  # exempt from VAT
    INTRA_EU = "K"  # intra-community supply, VAT exempt (reverse charge on the buyer's side)
    EXPORT = "G"  # export outside the EU, VAT exempt
    NOT_SUBJECT = "O"  # outside the scope of VAT


@dataclass(frozen=True)
class Party:
    """A seller, buyer or delivery address as printed."""

    name: str
    street_lines: tuple[str, ...]
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    company: str | None = None
    region: str | None = None
    vat_id: str | None = None
    tax_number: str | None = None  # Steuernummer (seller only)
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class BankAccount:
    """The seller's bank details; never printed on documents uploaded to Amazon."""

    account_holder: str
    iban: str
    bic: str | None = None
    bank_name: str | None = None


@dataclass(frozen=True)
class DocumentLine:
    """One printed line: an article, or a charge (shipping, gift wrap) as a line of its own.

    ``net + tax == gross``; ``unit_price_net`` is before ``discount`` (the line's share of
    promotions, net); ``net == quantity * unit_price_net - discount`` up to rounding of the unit
    price (the unit price may carry four decimals).
    """

    position: int
    article_number: str
    description: str
    quantity: Decimal
    unit_price_net: Decimal
    discount: Decimal
    net: Decimal
    tax_rate: Decimal  # percent
    tax: Decimal
    gross: Decimal
    tax_category: TaxCategory
    unit_code: str = "H87"  # UN/ECE Rec 20: piece; "C62" (one) for charges

    # The names the tax engine's VAT breakdown reads (core.vat.vat_breakdown).
    @property
    def rate(self) -> Decimal:
        return self.tax_rate

    @property
    def category(self) -> TaxCategory:
        return self.tax_category


@dataclass(frozen=True)
class VatBreakdown:
    """The net and VAT of one (category, rate): § 14 Abs. 4 Nr. 7 and 8 UStG, EN 16931 BG-23."""

    category: TaxCategory
    rate: Decimal
    net: Decimal
    tax: Decimal
    exemption_reason: str | None = None  # the legal note, in the document's language
    exemption_code: str | None = None  # VATEX code, e.g. "VATEX-EU-IC"


@dataclass(frozen=True)
class OriginalInvoice:
    """The invoice a correction invoice corrects (EN 16931 BG-3)."""

    number: str
    issued_on: date


@dataclass(frozen=True)
class DocumentContent:
    kind: DocumentKind
    number: str
    issued_on: date
    language: str  # one of LANGUAGES
    currency: str
    seller: Party
    buyer: Party  # the billing address
    order_number: str
    lines: tuple[DocumentLine, ...]
    delivered_on: date | None = None  # Leistungsdatum
    delivery: Party | None = None  # the delivery address, when it differs from the buyer's
    order_reference: str | None = None  # the marketplace's order id
    order_date: date | None = None
    purchase_order: str | None = None  # the buyer's own order number (EN 16931 BT-13)
    breakdown: tuple[VatBreakdown, ...] = ()
    total_net: Decimal = Decimal(0)
    total_tax: Decimal = Decimal(0)
    total_gross: Decimal = Decimal(0)
    # Already paid, e.g. to the marketplace at checkout (EN 16931 BT-113): the amount due is
    # total_gross - prepaid, so the buyer's accounts payable does not pay an Amazon order twice.
    prepaid: Decimal = Decimal(0)
    notes: tuple[str, ...] = ()  # printed below the lines, e.g. "paid via Amazon"
    original: OriginalInvoice | None = None  # correction invoices only
    reason: str | None = None  # why a correction invoice was issued
    bank: BankAccount | None = None
