"""Realistic documents of a small German coffee roaster, for the benchmark, the example image,
the tests and the demo.

Amounts are worked out the way an Amazon order arrives: gross prices per unit, VAT split off
per line and rounded half up to the cent, the breakdown summed per rate. A correction invoice
takes back part of an invoice with the same line amounts, negated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sellerbridge.core.documents import (
    BankAccount,
    DocumentContent,
    DocumentKind,
    DocumentLine,
    OriginalInvoice,
    Party,
    TaxCategory,
    VatBreakdown,
)

CENT = Decimal("0.01")
STANDARD = Decimal(19)
REDUCED = Decimal(7)

ROASTER = Party(
    name="Jana Böhm",
    company="Röstwerk Böhm GmbH",
    street_lines=("Kastanienallee 12",),
    postal_code="10435",
    city="Berlin",
    country="DE",
    vat_id="DE123456789",
    tax_number="37/123/45678",
    email="rechnung@roestwerk-boehm.example",
    phone="+49 30 1234567",
)

HOME_BUYER = Party(
    name="Lukas Schröder",
    street_lines=("Eppendorfer Weg 201", "3. OG"),
    postal_code="20253",
    city="Hamburg",
    country="DE",
)

CAFE = Party(
    name="Camille Martin",
    company="Café Lumière SARL",
    street_lines=("14 rue des Petits-Champs",),
    postal_code="75002",
    city="Paris",
    country="FR",
    vat_id="FR40303265045",
)

BANK = BankAccount(
    account_holder="Röstwerk Böhm GmbH",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    bank_name="Commerzbank Berlin",
)

# (article number, description, unit price gross, VAT rate)
ARTICLES = (
    ("RB-ESP-1000", "Espresso Bohnen „Kreuzberg“, 1 kg", Decimal("24.90"), REDUCED),
    ("RB-FIL-500", "Filterkaffee Äthiopien Yirgacheffe, 500 g", Decimal("15.50"), REDUCED),
    ("RB-MF-01", "Milchaufschäumer Edelstahl, 600 ml", Decimal("34.99"), STANDARD),
    ("RB-TAS-2", "Cappuccinotassen, 2er-Set, Steingut", Decimal("19.90"), STANDARD),
    ("RB-ENT-250", "Entkalker für Siebträgermaschinen, 250 ml", Decimal("8.49"), STANDARD),
    ("RB-DEC-500", "Entkoffeiniert Kolumbien, 500 g", Decimal("13.90"), REDUCED),
)
SHIPPING = ("VERSAND", "Versand DHL Paket", Decimal("4.90"), STANDARD)

PAID_NOTE = {
    "de": "Bezahlt über Amazon. Vielen Dank für Ihren Einkauf!",
    "en": "Paid via Amazon. Thank you for your order!",
    "fr": "Payé via Amazon. Merci pour votre commande !",
    "it": "Pagato tramite Amazon. Grazie per il tuo ordine!",
    "es": "Pagado a través de Amazon. ¡Gracias por su pedido!",
    "nl": "Betaald via Amazon. Bedankt voor uw bestelling!",
    "pl": "Zapłacono przez Amazon. Dziękujemy za zamówienie!",
    "sv": "Betald via Amazon. Tack för din beställning!",
}

INTRA_EU_NOTE = {
    "de": "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b i. V. m. § 6a UStG).",
    "en": "VAT-exempt intra-Community supply (Article 138 of Directive 2006/112/EC).",
    "fr": "Exonération de TVA, article 138 de la directive 2006/112/CE "
    "(livraison intracommunautaire).",
}

RETURN_REASON = {
    "de": "Rücksendung von 1 × Espresso Bohnen",
    "en": "Return of 1 × espresso beans",
    "fr": "Retour de 1 × café en grains espresso",
}


def coffee_invoice(
    *,
    number: str = "RE-2026-000123",
    language: str = "de",
    articles: int = 3,
    quantities: tuple[int, ...] = (2, 1, 1, 1, 2, 1),
) -> DocumentContent:
    """A B2C Amazon order from Berlin to Hamburg: ``articles`` articles at 7 % and 19 %,
    shipping at 19 %, paid via Amazon."""
    lines = [
        _line(position, article, quantity)
        for position, (article, quantity) in enumerate(
            zip(ARTICLES[:articles], quantities, strict=False), start=1
        )
    ]
    lines.append(_line(len(lines) + 1, SHIPPING, 1, unit_code="C62"))
    return _document(
        kind=DocumentKind.INVOICE,
        number=number,
        language=language,
        buyer=HOME_BUYER,
        lines=tuple(lines),
        order_reference="302-4716082-5512345",
        notes=(PAID_NOTE[language],),
        paid=True,
    )


def intra_eu_invoice(*, number: str = "RE-2026-000124", language: str = "fr") -> DocumentContent:
    """A tax-exempt B2B delivery to a café in Paris (0 %, both VAT IDs, the legal note)."""
    exempt = (TaxCategory.INTRA_EU, Decimal(0))
    lines = (
        _line(1, ARTICLES[0], 10, category=exempt),
        _line(2, ARTICLES[3], 4, category=exempt),
        _line(3, SHIPPING, 1, unit_code="C62", category=exempt),
    )
    return _document(
        kind=DocumentKind.INVOICE,
        number=number,
        language=language,
        buyer=CAFE,
        lines=lines,
        purchase_order="CL-2026-0815",
        exemption=(INTRA_EU_NOTE[language], "VATEX-EU-IC"),
        bank=BANK,
    )


def correction_invoice(
    original: DocumentContent, *, number: str = "RK-2026-000045", language: str | None = None
) -> DocumentContent:
    """Takes back one unit of the original's first line (of two): amounts negative."""
    first = original.lines[0]
    taken_back = _line(
        1,
        (first.article_number, first.description, _unit_gross(first), first.tax_rate),
        -1,
        category=(first.tax_category, first.tax_rate),
    )
    language = language or original.language
    return _document(
        kind=DocumentKind.CORRECTION,
        number=number,
        language=language,
        buyer=original.buyer,
        lines=(taken_back,),
        order_reference=original.order_reference,
        original=OriginalInvoice(original.number, original.issued_on),
        reason=RETURN_REASON.get(language, RETURN_REASON["en"]),
        paid=True,
        issued_on=date(2026, 11, 30),
    )


def delivery_note(invoice: DocumentContent, *, number: str = "LS-2026-000311") -> DocumentContent:
    """The delivery note of an invoice's order: the same lines, no prices."""
    goods = tuple(line for line in invoice.lines if line.unit_code != "C62")
    return replace(
        invoice,
        kind=DocumentKind.DELIVERY_NOTE,
        number=number,
        lines=goods,
        breakdown=(),
        total_net=Decimal(0),
        total_tax=Decimal(0),
        total_gross=Decimal(0),
        prepaid=Decimal(0),
        notes=(),
        bank=None,
    )


def _line(
    position: int,
    article: tuple[str, str, Decimal, Decimal],
    quantity: int,
    *,
    unit_code: str = "H87",
    category: tuple[TaxCategory, Decimal] | None = None,
) -> DocumentLine:
    number, description, unit_gross, rate = article
    tax_category, tax_rate = category or (TaxCategory.STANDARD, rate)
    divisor = 1 + tax_rate / 100
    unit_net = (unit_gross / (1 + rate / 100)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    if tax_category is TaxCategory.STANDARD:
        gross = unit_gross * quantity
        net = (gross / divisor).quantize(CENT, ROUND_HALF_UP)
    else:  # a B2B customer abroad pays the net price
        net = (unit_net * quantity).quantize(CENT, ROUND_HALF_UP)
        gross = net
    return DocumentLine(
        position=position,
        article_number=number,
        description=description,
        quantity=Decimal(quantity),
        unit_price_net=unit_net,
        discount=Decimal(0),
        net=net,
        tax_rate=tax_rate,
        tax=gross - net,
        gross=gross,
        tax_category=tax_category,
        unit_code=unit_code,
    )


def _unit_gross(line: DocumentLine) -> Decimal:
    return (line.gross / line.quantity).quantize(CENT, ROUND_HALF_UP)


def _document(
    *,
    kind: DocumentKind,
    number: str,
    language: str,
    buyer: Party,
    lines: tuple[DocumentLine, ...],
    order_reference: str | None = None,
    purchase_order: str | None = None,
    notes: tuple[str, ...] = (),
    exemption: tuple[str, str] | None = None,
    bank: BankAccount | None = None,
    original: OriginalInvoice | None = None,
    reason: str | None = None,
    paid: bool = False,
    issued_on: date = date(2026, 11, 27),
) -> DocumentContent:
    sums: dict[tuple[TaxCategory, Decimal], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)]
    )
    for line in lines:
        entry = sums[line.tax_category, line.tax_rate]
        entry[0] += line.net
        entry[1] += line.tax
    breakdown = tuple(
        VatBreakdown(
            category=category,
            rate=rate,
            net=net,
            tax=tax,
            exemption_reason=exemption[0] if exemption else None,
            exemption_code=exemption[1] if exemption else None,
        )
        for (category, rate), (net, tax) in sorted(sums.items(), key=lambda item: item[0][1])
    )
    total_net = sum((line.net for line in lines), Decimal(0))
    total_tax = sum((line.tax for line in lines), Decimal(0))
    return DocumentContent(
        kind=kind,
        number=number,
        issued_on=issued_on,
        language=language,
        currency="EUR",
        seller=ROASTER,
        buyer=buyer,
        order_number="AU-2026-004711",
        lines=lines,
        delivered_on=date(2026, 11, 26),
        order_reference=order_reference,
        order_date=date(2026, 11, 24),
        purchase_order=purchase_order,
        breakdown=breakdown,
        total_net=total_net,
        total_tax=total_tax,
        total_gross=total_net + total_tax,
        prepaid=total_net + total_tax if paid else Decimal(0),
        notes=notes,
        original=original,
        reason=reason,
        bank=bank,
    )
