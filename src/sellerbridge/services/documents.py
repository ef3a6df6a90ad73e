"""Issuing documents: invoices, correction invoices, delivery notes.

An issued document is final. Its number comes from the series of its type and its order's
channel (``invoice``/``default``: ``RE-000001``), allocated in the transaction that stores it,
so two processes never share a number and a failed issue gives its number back. The PDF is
rendered once, inside that transaction, and stored byte for byte with its SHA-256; fetching it
again returns those bytes, never a new rendering (templates, rates and master data change; the
document must not). Database triggers refuse any change to a stored document.

The amounts come from the order, which holds them to the cent (Amazon's own for Amazon orders,
the tax engine's for manual ones), so an invoice always equals its order. A correction invoice
("Rechnungskorrektur") has its own number, names the invoice it corrects, and carries negative
amounts: for chosen lines and quantities, or for an amount split across the invoice's VAT rates.
No more can be corrected than was invoiced.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sellerbridge.config import SellerSettings, Settings, config_file_path
from sellerbridge.core.channels import ChannelKind
from sellerbridge.core.documents import (
    BankAccount,
    DocumentContent,
    DocumentKind,
    DocumentLine,
    OriginalInvoice,
    Party,
    VatBreakdown,
)
from sellerbridge.core.errors import DomainError, InvalidInput, NotFound
from sellerbridge.core.money import ZERO, quantize
from sellerbridge.core.orders import ChargeKind, OrderState
from sellerbridge.core.vat import Treatment, treatment_of, vat_breakdown
from sellerbridge.db.models import (
    AmazonChannel,
    AmazonMarketplace,
    Document,
    DocumentLineRecord,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
)
from sellerbridge.db.models.parties import AddressRecord
from sellerbridge.db.numbering import allocate_number
from sellerbridge.documents import render
from sellerbridge.services.events import record_event
from sellerbridge.services.lookup import order_by_number

LANGUAGE_OF_COUNTRY = {
    "DE": "de", "AT": "de", "CH": "de", "LI": "de",
    "FR": "fr", "BE": "fr", "LU": "fr", "MC": "fr",
    "IT": "it", "SM": "it",
    "ES": "es",
    "NL": "nl",
    "PL": "pl",
    "SE": "sv",
}  # fmt: skip
"""The document language for a marketplace's (or, off Amazon, the buyer's) country; English
elsewhere. Amazon.com.be is shown in French by default."""

CONTENT: TypeAdapter[DocumentContent] = TypeAdapter(DocumentContent)

CHARGE_LABELS = {
    ChargeKind.SHIPPING: "Shipping",
    ChargeKind.GIFT_WRAP: "Gift wrap",
    ChargeKind.COD: "Cash on delivery",
    ChargeKind.OTHER: "Other",
}


@dataclass(frozen=True)
class DocumentSettings:
    """What issuing needs besides the order: the merchant, and where its own templates are."""

    seller: SellerSettings
    home_country: str
    template_dir: Path | None = None

    @classmethod
    def of(cls, settings: Settings) -> DocumentSettings:
        """From the configuration; the merchant's templates and logo are in ``templates/`` of
        the configuration directory, when it exists."""
        templates = config_file_path().parent / "templates"
        return cls(settings.seller, settings.home_country,
                   templates if templates.is_dir() else None)  # fmt: skip


# --- issuing -------------------------------------------------------------------------------

Issuer = Callable[..., Document]
"""``issue_invoice`` or ``issue_delivery_note``: (session, order number, *, settings, actor,
at) → the issued document."""


@dataclass(frozen=True)
class StatedAmounts:
    """A line's amounts as its channel calculated the VAT (Amazon's VAT Calculation Service)."""

    tax_rate: Decimal  # percent
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class ChannelVat:
    """An order's VAT as its channel calculated it: the amounts of each order line (by its id)
    and of each charge, and the legal text the channel says to print (e.g. why no VAT), by
    language; the document's language is taken, else English, else any."""

    lines: Mapping[int, StatedAmounts]
    charges: Sequence[tuple[ChargeKind, StatedAmounts]]
    legal_notes: Mapping[str, str] = field(default_factory=dict)


def issue_invoice(
    session: Session,
    order_number: str,
    *,
    settings: DocumentSettings,
    actor: str,
    at: datetime,
    channel_vat: ChannelVat | None = None,
) -> Document:
    """Issue the invoice of an order (once: a second call names the first invoice).

    An order whose channel calculates its VAT (:meth:`SalesChannel.reports_vat`) is invoiced
    with ``channel_vat``, the channel's figures, and only with them.
    """
    order = _order(session, order_number)
    if order.state in (OrderState.CANCELLED, OrderState.ON_HOLD):
        raise DomainError(
            f"Order {order.number} is {order.state.label}; it cannot be invoiced.",
            hint="Resolve its holds first (`sellerbridge orders release`)."
            if order.state is OrderState.ON_HOLD
            else None,
        )
    if order.channel.invoices(order):
        raise DomainError(
            f"Amazon issues the invoice of order {order.number} (VCS with Amazon issuing, "
            f"channel {order.channel.code}); sellerbridge issues none.",
        )
    if (existing := current_invoice(session, order)) is not None:
        raise DomainError(
            f"Order {order.number} has invoice {existing.number} already.",
            hint=f"Show it with `sellerbridge documents show {existing.number}`; to change it, "
            "issue a correction invoice.",
        )
    if channel_vat is None and order.channel.reports_vat(order):
        raise DomainError(
            f"Order {order.number} is invoiced from Amazon's VAT calculation (VCS with own "
            "invoices), once Amazon reports it for the shipped order.",
            hint="`sellerbridge amazon upload` reads Amazon's VAT invoice data and issues it.",
        )
    if channel_vat is None:
        lines = [_line_of(line) for line in order.lines]
        lines += [_charge_line(charge) for charge in order.charges]
    else:
        lines = _stated_lines(order, channel_vat)
    return _issue(session, order, DocumentKind.INVOICE, lines, settings=settings, actor=actor,
                  at=at, legal_notes=channel_vat.legal_notes if channel_vat else None)  # fmt: skip


def _stated_lines(order: SalesOrder, vat: ChannelVat) -> list[_Line]:
    lines = []
    for line in order.lines:
        stated = vat.lines.get(line.id)
        if stated is None:
            raise DomainError(
                f"The channel's VAT calculation of order {order.number} has no figures for line "
                f"{line.position} ({line.description}); it cannot be invoiced from it.",
            )
        lines.append(_Line(line.id, None, line.description, line.quantity, stated.tax_rate,
                           stated.net, stated.tax, stated.gross, line.article_number))  # fmt: skip
    lines += [
        _Line(None, kind, CHARGE_LABELS[kind], 1, stated.tax_rate, stated.net, stated.tax,
              stated.gross)
        for kind, stated in vat.charges
    ]  # fmt: skip
    return lines


def issue_delivery_note(
    session: Session,
    order_number: str,
    *,
    settings: DocumentSettings,
    actor: str,
    at: datetime,
    quantities: Mapping[int, int] | None = None,
) -> Document:
    """Issue the delivery note of an order: what is in the parcel, without prices.

    Without ``quantities`` it lists the whole order, once. With them (line position → units)
    it lists one parcel of a partial shipment: as many as there are parcels, each within the
    units still to ship.
    """
    order = _order(session, order_number)
    if order.channel.fulfilled_externally:
        raise DomainError(
            f"Order {order.number} is shipped by its channel (FBA); it has no delivery note."
        )
    if order.state in (OrderState.CANCELLED, OrderState.ON_HOLD, OrderState.OPEN):
        raise DomainError(
            f"Order {order.number} is {order.state.label}; a delivery note goes with a released "
            "order.",
            hint="Release it first: `sellerbridge orders release`.",
        )
    if quantities is not None:
        lines = _parcel_lines(order, quantities)
    elif existing := _documents(session, order, DocumentKind.DELIVERY_NOTE):
        raise DomainError(
            f"Order {order.number} has delivery note {existing[0].number} already.",
            hint=f"Write it again with `sellerbridge documents pdf {existing[0].number}`.",
        )
    else:
        lines = [_line_of(line) for line in order.lines]
    return _issue(session, order, DocumentKind.DELIVERY_NOTE, lines, settings=settings,
                  actor=actor, at=at)  # fmt: skip


def issue_correction(
    session: Session,
    invoice_number: str,
    *,
    reason: str,
    quantities: Mapping[int, int | None] | None = None,
    amount: Decimal | None = None,
    settings: DocumentSettings,
    actor: str,
    at: datetime,
) -> Document:
    """Correct (part of) an invoice: ``quantities`` of its lines (position → units; None: every
    unit left), or a gross ``amount`` split across its VAT rates in proportion to what each rate
    invoiced."""
    if not reason.strip():
        raise InvalidInput("reason", "a correction invoice needs a reason", hint="Give --reason.")
    if (quantities is None) == (amount is None):
        raise InvalidInput(
            "lines",
            "name either the lines to correct or an amount",
            hint="Give --line or --amount.",
        )
    invoice = document_by_number(session, invoice_number)
    if invoice.kind is not DocumentKind.INVOICE:
        raise DomainError(f"{invoice.number} is not an invoice; only invoices can be corrected.")
    order = _order(session, invoice.order.number)
    open_ = _correctable(session, invoice)
    if quantities is not None:
        lines = _corrected_lines(invoice, open_, quantities)
    else:
        assert amount is not None
        lines = _corrected_amount(invoice, open_, amount)
    return _issue(session, order, DocumentKind.CORRECTION, lines, settings=settings, actor=actor,
                  at=at, corrects=invoice, reason=reason.strip())  # fmt: skip


@dataclass(frozen=True)
class Refunded:
    """What a channel paid back of one invoice line: units (0 for a part of the amount alone)
    and the VAT-inclusive amount with its VAT, positive, as the channel refunded them."""

    position: int
    quantity: int
    gross: Decimal
    tax: Decimal


def issue_refund_correction(
    session: Session,
    invoice_number: str,
    refunded: Sequence[Refunded],
    *,
    reason: str,
    settings: DocumentSettings,
    actor: str,
    at: datetime,
) -> Document:
    """Correct an invoice by exactly what its channel refunded: per line, the units and the
    amounts the channel paid back (not a share sellerbridge works out), so that the correction
    invoice equals the refund to the cent. A part of a line's amount without its units (a
    partial refund) is a line of its own that names the article."""
    invoice = document_by_number(session, invoice_number)
    if invoice.kind is not DocumentKind.INVOICE:
        raise DomainError(f"{invoice.number} is not an invoice; only invoices can be corrected.")
    order = _order(session, invoice.order.number)
    open_ = _correctable(session, invoice)
    lines = []
    for part in refunded:
        found = open_.lines.get(part.position)
        if found is None or part.gross <= 0 or part.tax < 0 or part.quantity < 0:
            raise InvalidInput("refund", f"invoice {invoice.number} has no line {part.position} "
                               f"to take back {part.gross} {invoice.currency} of")  # fmt: skip
        line = found.line
        if part.quantity > found.quantity or part.gross > found.gross:
            raise DomainError(
                f"The refund takes back {part.quantity} unit(s) and {part.gross} "
                f"{invoice.currency} of line {part.position} of invoice {invoice.number}; only "
                f"{found.quantity} unit(s) and {found.gross} {invoice.currency} are left.",
            )  # fmt: skip
        net = part.gross - part.tax
        if line.charge_kind is not None:
            lines.append(_Line(None, line.charge_kind, line.description, -1, line.tax_rate,
                               -net, -part.tax, -part.gross))  # fmt: skip
        elif part.quantity:
            lines.append(_Line(line.order_line_id, None, line.description, -part.quantity,
                               line.tax_rate, -net, -part.tax, -part.gross))  # fmt: skip
        else:
            lines.append(_Line(None, None, f"Partial refund: {line.description}", -1,
                               line.tax_rate, -net, -part.tax, -part.gross))  # fmt: skip
    total = sum((-line.gross for line in lines), ZERO)
    if total > open_.gross:
        raise DomainError(f"The refund of {total} {invoice.currency} is more than the "
                          f"{open_.gross} left of invoice {invoice.number}.")  # fmt: skip
    return _issue(session, order, DocumentKind.CORRECTION, lines, settings=settings, actor=actor,
                  at=at, corrects=invoice, reason=reason)  # fmt: skip


# --- reading --------------------------------------------------------------------------------


def document_by_number(session: Session, number: str) -> Document:
    document = session.scalars(
        select(Document)
        .where(Document.number == number.strip())
        .options(selectinload(Document.lines))
    ).first()
    if document is None:
        raise NotFound(
            f"There is no document {number!r}.",
            hint="List them with `sellerbridge documents list`.",
        )
    return document


def recent_documents(session: Session, limit: int) -> Sequence[Document]:
    return session.scalars(select(Document).order_by(Document.id.desc()).limit(limit)).all()


def documents_of(session: Session, order_number: str) -> Sequence[Document]:
    order = order_by_number(session, order_number)
    return session.scalars(
        select(Document).where(Document.order_id == order.id).order_by(Document.id)
    ).all()


def current_invoice(session: Session, order: SalesOrder) -> Document | None:
    """The order's invoice that still stands: not corrected in full."""
    for invoice in _documents(session, order, DocumentKind.INVOICE):
        corrected = sum(
            (c.total_gross for c in _documents(session, order, DocumentKind.CORRECTION)
             if c.corrects_id == invoice.id),
            ZERO,
        )  # fmt: skip
        if invoice.total_gross + corrected != 0 or invoice.total_gross == 0:
            return invoice
    return None


def content_of(document: Document) -> DocumentContent:
    """What the document says, as it was issued."""
    return CONTENT.validate_json(document.content)


def pdf_of(session: Session, number: str) -> bytes:
    """The PDF exactly as it was issued."""
    document = document_by_number(session, number)
    return document.pdf


# --- the work -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    order_line_id: int | None
    charge_kind: ChargeKind | None
    description: str
    quantity: int
    tax_rate: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    article_number: str = ""
    unit_price_net: Decimal = ZERO
    discount: Decimal = ZERO


def _line_of(line: SalesOrderLine) -> _Line:
    return _Line(line.id, None, line.description, line.quantity, line.tax_rate, line.net,
                 line.tax, line.gross, line.article_number, line.unit_price_net,
                 line.discount)  # fmt: skip


def _parcel_lines(order: SalesOrder, quantities: Mapping[int, int]) -> list[_Line]:
    """The lines of a parcel of ``order``: ``quantities`` (position → units) of its open units,
    amounts in proportion (a delivery note prints none; they are kept for the record)."""
    by_position = {line.position: line for line in order.lines}
    lines = []
    for position, units in sorted(quantities.items()):
        line = by_position.get(position)
        if line is None or not 0 < units <= line.quantity - line.shipped_quantity:
            raise InvalidInput(
                "quantities", f"line {position} of order {order.number} has no {units} unit(s) "
                "still to ship",
            )  # fmt: skip
        net, tax, gross = (
            quantize(amount * units / line.quantity, order.currency)
            for amount in (line.net, line.tax, line.gross)
        )
        lines.append(_Line(line.id, None, line.description, units, line.tax_rate, net, tax,
                           gross, line.article_number, line.unit_price_net,
                           line.discount))  # fmt: skip
    if not lines:
        raise InvalidInput("quantities", "name at least one line of the parcel")
    return lines


def _charge_line(charge: SalesOrderCharge) -> _Line:
    label = CHARGE_LABELS[charge.kind]
    return _Line(None, charge.kind, label, 1, charge.tax_rate, charge.net, charge.tax,
                 charge.gross)  # fmt: skip


def _order(session: Session, number: str) -> SalesOrder:
    # The order row lock serialises issuing for one order: two processes cannot both find "no
    # invoice yet" and issue two.
    order = order_by_number(session, number, for_update=True)
    session.refresh(order, attribute_names=["lines", "charges"])
    return order


def _documents(session: Session, order: SalesOrder, kind: DocumentKind) -> Sequence[Document]:
    return session.scalars(
        select(Document)
        .where(Document.order_id == order.id, Document.kind == kind)
        .order_by(Document.id)
    ).all()


def _issue(
    session: Session,
    order: SalesOrder,
    kind: DocumentKind,
    lines: Sequence[_Line],
    *,
    settings: DocumentSettings,
    actor: str,
    at: datetime,
    corrects: Document | None = None,
    reason: str | None = None,
    legal_notes: Mapping[str, str] | None = None,
) -> Document:
    if kind.has_prices and not lines:
        raise DomainError(f"Order {order.number} has nothing to put on a {kind.value}.")
    treatment = _treatment(order, settings)
    number = allocate_number(session, kind.value, order.channel.document_series)
    content = _content(session, order, kind, number, lines, treatment, settings, at, corrects,
                       reason, legal_notes or {})  # fmt: skip
    pdf = render(content, template_dir=settings.template_dir)
    document = Document(
        kind=kind,
        number=number,
        order=order,
        corrects=corrects,
        language=content.language,
        currency=order.currency,
        total_net=content.total_net,
        total_tax=content.total_tax,
        total_gross=content.total_gross,
        reason=reason,
        issued_at=at,
        issued_by=actor,
        sha256=hashlib.sha256(pdf).hexdigest(),
        pdf=pdf,
        content=CONTENT.dump_json(content).decode(),
        lines=[
            DocumentLineRecord(
                position=position,
                order_line_id=line.order_line_id,
                charge_kind=line.charge_kind,
                description=line.description[:255],
                quantity=line.quantity,
                tax_rate=line.tax_rate,
                net=line.net,
                tax=line.tax,
                gross=line.gross,
            )
            for position, line in enumerate(lines, start=1)
        ],
    )
    session.add(document)
    label = {DocumentKind.INVOICE: "Invoice", DocumentKind.CORRECTION: "Correction invoice",
             DocumentKind.DELIVERY_NOTE: "Delivery note"}[kind]  # fmt: skip
    record_event(order, "document", f"{label} {number} issued.", actor=actor, at=at)
    session.flush()
    return document


def _treatment(order: SalesOrder, settings: DocumentSettings) -> Treatment:
    return treatment_of(
        settings.seller.tax_profile(settings.home_country),
        ship_from=order.warehouse.country or settings.home_country,
        ship_to=order.shipping_address.country,
        buyer_vat_id=order.customer.vat_id,
    )


def _content(
    session: Session,
    order: SalesOrder,
    kind: DocumentKind,
    number: str,
    lines: Sequence[_Line],
    treatment: Treatment,
    settings: DocumentSettings,
    at: datetime,
    corrects: Document | None,
    reason: str | None,
    legal_notes: Mapping[str, str],
) -> DocumentContent:
    """What the document says. The channel's legal text (``legal_notes``, by language)
    explains the zero-rated VAT groups, in place of sellerbridge's own; without one, it is a
    note below the lines."""
    language = _language(session, order)
    legal_note = (
        legal_notes.get(language) or legal_notes.get("en") or next(iter(legal_notes.values()), None)
    )
    printed = tuple(
        DocumentLine(
            position=position,
            article_number=line.article_number,
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price_net=line.unit_price_net or _unit(line.net, line.quantity),
            discount=line.discount,
            net=line.net,
            tax_rate=line.tax_rate,
            tax=line.tax,
            gross=line.gross,
            tax_category=treatment.category_for(line.tax_rate),
            unit_code="H87" if line.order_line_id else "C62",
        )
        for position, line in enumerate(lines, start=1)
    )
    groups = vat_breakdown(printed)
    exempt_note = legal_note if any(group.rate == 0 for group in groups) else None
    breakdown = tuple(
        VatBreakdown(
            category=group.category,
            rate=group.rate,
            net=group.net,
            tax=group.tax,
            exemption_reason=exempt_note if exempt_note and group.rate == 0
            else treatment.note(language) if group.category is treatment.category
            else None,
            exemption_code=treatment.exemption_code if group.category is treatment.category
            else None,
        )
        for group in groups
    )  # fmt: skip
    billing, shipping = order.billing_address, order.shipping_address
    buyer = _party(billing, vat_id=order.customer.vat_id)
    total_gross = sum((line.gross for line in printed), ZERO)
    paid_by_channel = kind.has_prices and order.channel.kind is ChannelKind.AMAZON
    return DocumentContent(
        kind=kind,
        number=number,
        issued_on=at.date(),
        language=language,
        currency=order.currency,
        seller=_seller(settings, treatment),
        buyer=buyer,
        order_number=order.number,
        lines=printed,
        delivered_on=at.date(),
        delivery=_party(shipping) if shipping.id != billing.id else None,
        order_reference=order.external_reference,
        order_date=order.ordered_at.date(),
        breakdown=breakdown if kind.has_prices else (),
        total_net=sum((line.net for line in printed), ZERO),
        total_tax=sum((line.tax for line in printed), ZERO),
        total_gross=total_gross,
        # An Amazon order is paid (and refunded) through Amazon: nothing is due.
        prepaid=total_gross if paid_by_channel else ZERO,
        notes=(legal_note,) if legal_note and not exempt_note else (),
        original=OriginalInvoice(corrects.number, corrects.issued_at.date()) if corrects else None,
        reason=reason,
        bank=_bank(settings.seller) if kind.has_prices and not paid_by_channel else None,
    )


def _unit(net: Decimal, quantity: int) -> Decimal:
    return (net / quantity).quantize(Decimal("0.0001")) if quantity else net


def _language(session: Session, order: SalesOrder) -> str:
    country = session.scalar(
        select(AmazonMarketplace.country_code)
        .join(
            AmazonChannel,
            (AmazonChannel.account_id == AmazonMarketplace.account_id)
            & (AmazonChannel.marketplace_id == AmazonMarketplace.marketplace_id),
        )
        .where(AmazonChannel.channel_id == order.channel_id)
    )
    return LANGUAGE_OF_COUNTRY.get(country or order.billing_address.country, "en")


def _party(address: AddressRecord, *, vat_id: str | None = None) -> Party:
    return Party(
        name=address.name,
        company=address.company,
        street_lines=tuple(
            line for line in (address.street1, address.street2, address.street3) if line
        ),
        postal_code=address.postal_code,
        city=address.city,
        region=address.region,
        country=address.country,
        vat_id=vat_id,
    )


def _seller(settings: DocumentSettings, treatment: Treatment) -> Party:
    seller = settings.seller
    company, street, postal_code, city = (
        seller.company,
        seller.street,
        seller.postal_code,
        seller.city,
    )
    if not (company and street and postal_code and city and (seller.tax_number or seller.vat_ids)):
        missing = [
            name
            for name in ("company", "street", "postal_code", "city")
            if not getattr(seller, name)
        ] + ([] if seller.tax_number or seller.vat_ids else ["tax_number or vat_ids"])
        raise DomainError(
            f"The merchant's details for documents are incomplete: {', '.join(missing)} missing.",
            hint="Set them in the [seller] table of sellerbridge.toml (see "
            'docs/configuration.md), e.g. company = "Kaffeehaus GmbH".',
        )
    return Party(
        name=company,
        street_lines=(street,),
        postal_code=postal_code,
        city=city,
        country=seller.country or settings.home_country,
        vat_id=treatment.seller_vat_id,
        tax_number=seller.tax_number,
        email=seller.email,
        phone=seller.phone,
    )


def _bank(seller: SellerSettings) -> BankAccount | None:
    if not seller.iban:
        return None
    return BankAccount(
        account_holder=seller.account_holder or seller.company or "",
        iban=seller.iban,
        bic=seller.bic,
        bank_name=seller.bank_name,
    )


# --- corrections ----------------------------------------------------------------------------


@dataclass
class _Open:
    """What of an invoice line can still be corrected."""

    line: DocumentLineRecord
    quantity: int
    gross: Decimal


@dataclass
class _Correctable:
    lines: dict[int, _Open]  # by position
    gross: Decimal  # of the whole invoice, less every correction so far


def _correctable(session: Session, invoice: Document) -> _Correctable:
    """The invoice less what earlier corrections took back: per line (line corrections refer
    to the order line or charge they correct) and in total (amount corrections too)."""
    open_lines = {line.position: _Open(line, line.quantity, line.gross) for line in invoice.lines}
    # A charge may be invoiced at two rates: its lines are told apart by their rate.
    by_key = {
        (o.line.order_line_id, o.line.charge_kind, o.line.tax_rate): o for o in open_lines.values()
    }
    corrections = session.scalars(
        select(Document)
        .where(Document.corrects_id == invoice.id)
        .options(selectinload(Document.lines))
    ).all()
    for correction in corrections:
        for line in correction.lines:
            taken = by_key.get((line.order_line_id, line.charge_kind, line.tax_rate))
            if taken is not None and (line.order_line_id or line.charge_kind):
                taken.quantity += line.quantity
                taken.gross += line.gross
    left = quantize(invoice.total_gross + sum((c.total_gross for c in corrections), ZERO),
                    invoice.currency)  # fmt: skip
    return _Correctable(open_lines, left)


def _corrected_lines(
    invoice: Document, open_: _Correctable, quantities: Mapping[int, int | None]
) -> list[_Line]:
    lines = []
    for position, wanted in sorted(quantities.items()):
        found = open_.lines.get(position)
        if found is None:
            raise InvalidInput(
                "line", f"invoice {invoice.number} has no line {position}",
                hint=f"Its lines are 1 to {len(open_.lines)}.",
            )  # fmt: skip
        quantity = found.quantity if wanted is None else wanted
        if not 0 < quantity <= found.quantity:
            raise InvalidInput(
                "line",
                f"line {position} has {found.quantity} unit(s) left to correct, not {quantity}",
            )
        line = found.line
        if quantity == found.quantity:  # the rest: exactly what is left, no rounding residue
            gross = found.gross
        else:
            gross = quantize(line.gross * quantity / line.quantity, invoice.currency)
        net = quantize(gross * line.net / line.gross, invoice.currency) if line.gross else ZERO
        lines.append(_Line(line.order_line_id, line.charge_kind, line.description, -quantity,
                           line.tax_rate, -net, -(gross - net), -gross))  # fmt: skip
    total = sum((-line.gross for line in lines), ZERO)
    if total > open_.gross:
        raise InvalidInput(
            "line", f"these lines come to {total}; only {open_.gross} {invoice.currency} of "
            f"invoice {invoice.number} is left to correct",
        )  # fmt: skip
    return lines


def _corrected_amount(invoice: Document, open_: _Correctable, amount: Decimal) -> list[_Line]:
    """``amount`` (gross) split across the invoice's VAT rates in proportion to what each rate
    invoiced; the last rate takes the remainder, so the parts add up to the amount."""
    amount = quantize(amount, invoice.currency)
    if not ZERO < amount <= open_.gross:
        raise InvalidInput(
            "amount",
            f"{amount} is not between 0 and the {open_.gross} {invoice.currency} left to correct",
        )
    by_rate: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in invoice.lines:
        by_rate[line.tax_rate] += line.gross
    rates = sorted((rate for rate, gross in by_rate.items() if gross > 0), reverse=True)
    lines, remaining = [], amount
    for index, rate in enumerate(rates):
        gross = (
            remaining
            if index == len(rates) - 1
            else quantize(amount * by_rate[rate] / invoice.total_gross, invoice.currency)
        )
        remaining -= gross
        tax = quantize(gross * rate / (100 + rate), invoice.currency)
        lines.append(_Line(None, None, f"Correction ({rate.normalize():f} % VAT)", 1, rate,
                           -(gross - tax), -tax, -gross))  # fmt: skip
    return lines
