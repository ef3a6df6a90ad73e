"""The tax engine: whose VAT a sale bears, and the sale's amounts under it.

Two pure steps (``reference/vat-invoicing.md`` §3):

1. :func:`treatment_of` looks at the seller's VAT registrations, where the goods leave from
   (the home warehouse, or an Amazon warehouse abroad for Pan-EU stock), where they go and who
   buys them, and returns a :class:`Treatment`: domestic, an exempt intra-community supply
   to a business, a distance sale to a consumer, or an exempt export. The place of taxation
   follows the ship-from country, never the marketplace (§3.5).
2. :func:`calculate` prices a :class:`Sale` under that treatment: every line and charge gets
   its rate, net, tax and gross with net + tax = gross, and the sale a VAT breakdown per
   (category, rate) whose sums are the lines' sums. :func:`price_line` and
   :func:`price_charges` are its steps, for callers that price lines one at a time.

Two rules keep the amounts right for Amazon, which rejects an invoice upload that is a cent off:
**amounts Amazon supplies win** (a line's or charge's tax Amazon calculated is used as it is,
see :func:`price_line`), and **charges are taxed like the goods they come with**: shipping on
an order of 19 % and 7 % goods is split across both rates (see :func:`price_charges`).

VAT IDs are checked for format and check digits only (python-stdnum), never online (VIES):
the core does no I/O. Confirming a business buyer's VAT ID with VIES is the operator's duty.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import partial
from typing import Protocol, TypeVar

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.util import get_cc_module

from sellerbridge.core.documents import LANGUAGES, TaxCategory
from sellerbridge.core.errors import DomainError, InvalidInput, Problems
from sellerbridge.core.money import MINOR_UNITS, ZERO, check_currency, check_places, quantize
from sellerbridge.core.orders import UNIT_PRICE_PLACES, Amounts, ChargeKind, OrderTotals
from sellerbridge.core.parties import check_country, check_vat_id
from sellerbridge.core.tax import (
    TaxClass,
    TaxSplit,
    check_rate,
    rate_for,
    rate_of,
    split_gross,
    split_net,
)

_T = TypeVar("_T")

# fmt: off
EU_MEMBER_STATES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
"""ISO codes of the EU-27. Greece is GR here; its VAT IDs start with EL."""


def vat_id_country(vat_id: str) -> str:
    """The ISO country of a compact VAT ID (``EL…`` is Greece, GR)."""
    prefix = vat_id[:2].upper()
    return "GR" if prefix == "EL" else prefix


# --- the seller -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SellerTaxProfile:
    """What the tax engine needs to know about the merchant (the ``[seller]`` settings).

    ``vat_ids`` holds a VAT ID per country the merchant is registered in: its home country, and
    every country it holds stock in (Pan-EU FBA makes registration compulsory there, §3.5).
    ``distance_sales_at_destination`` is on when the merchant's cross-border B2C sales are taxed
    where they arrive: it exceeds the EU-wide 10,000 EUR threshold, or opted in (§3.1).
    The IDs are checked and compacted when the profile is made.
    """

    home_country: str
    vat_ids: Mapping[str, str] = field(default_factory=dict)
    distance_sales_at_destination: bool = True

    def __post_init__(self) -> None:
        problems = Problems()
        home = problems.check(partial(check_country, self.home_country, field="home_country"))
        checked = [
            problems.check(partial(_seller_vat_id, country, vat_id))
            for country, vat_id in self.vat_ids.items()
        ]
        problems.raise_if_any()
        object.__setattr__(self, "home_country", home)
        object.__setattr__(self, "vat_ids", dict(entry for entry in checked if entry))

    def vat_id(self, country: str) -> str | None:
        return self.vat_ids.get(country)


def _seller_vat_id(country: str, vat_id: str) -> tuple[str, str]:
    """The country's ISO code and the seller's VAT ID there, compact; it must be one that
    country issued (a German ID under PL would be printed on Polish invoices)."""
    name = f"seller.vat_ids.{country}"
    code = check_country(country, field=name)
    if code not in EU_MEMBER_STATES:
        module = get_cc_module(code.lower(), "vat")
        if module is not None:
            try:
                module.validate(vat_id)
            except StdnumValidationError as error:
                raise InvalidInput(
                    name, f"{vat_id!r} is not a valid {code} VAT ID ({error})"
                ) from None
        return code, vat_id.strip().upper().replace(" ", "")
    compact = check_vat_id(vat_id, field=name)
    if vat_id_country(compact) != code:
        raise InvalidInput(
            name,
            f"{compact} is a VAT ID of {vat_id_country(compact)}, not of {code}",
            hint="List each VAT ID under the country that issued it.",
        )
    return code, _greek_prefix(compact)


def _greek_prefix(compact: str) -> str:
    """Greek VAT IDs are written EL…; python-stdnum also accepts GR…."""
    return "EL" + compact[2:] if compact.startswith("GR") else compact


# --- the treatment --------------------------------------------------------------------------------


class TreatmentKind(StrEnum):
    DOMESTIC = "domestic"
    """Shipped within one country: that country's VAT (for a sale from stock abroad, §3.5)."""
    INTRA_EU_SUPPLY = "intra_eu_supply"
    """To a business with a valid VAT ID of another member state: exempt (§ 6a UStG, §3.3)."""
    DISTANCE_SALE = "distance_sale"
    """To a consumer (or a buyer without a usable VAT ID) in another member state: taxed at the
    destination, or at the origin below the threshold (§3.1)."""
    TAXED_AT_DISPATCH = "taxed_at_dispatch"
    """To a business identified for VAT in the ship-from country: not exempt (its VAT ID is not
    of another member state) and not a distance sale (the buyer is a taxable person), so the
    ship-from country's VAT applies (Art. 32 of the VAT Directive)."""
    EXPORT = "export"
    """To a country outside the EU (GB, CH, NO, …): exempt in the ship-from country."""


_EXEMPTIONS: dict[TreatmentKind, tuple[TaxCategory, str]] = {
    TreatmentKind.INTRA_EU_SUPPLY: (TaxCategory.INTRA_EU, "VATEX-EU-IC"),
    TreatmentKind.EXPORT: (TaxCategory.EXPORT, "VATEX-EU-G"),
}

# The notes cite the VAT Directive, which every member state's exemption implements; a German
# document for goods leaving Germany cites the UStG, as German practice expects.
_LEGAL_NOTES: dict[TreatmentKind, dict[str, str]] = {
    TreatmentKind.INTRA_EU_SUPPLY: {
        "de": "Steuerfreie innergemeinschaftliche Lieferung (Art. 138 MwStSystRL)",
        "en": "VAT-exempt intra-Community supply of goods (Article 138 of Directive 2006/112/EC)",
        "fr": "Exonération de TVA, livraison intracommunautaire (article 138 de la directive "
        "2006/112/CE)",
        "it": "Cessione intracomunitaria esente da IVA (art. 138 della direttiva 2006/112/CE)",
        "es": "Entrega intracomunitaria exenta de IVA (artículo 138 de la Directiva 2006/112/CE)",
        "nl": "Intracommunautaire levering, vrijgesteld van btw (artikel 138 van Richtlijn "
        "2006/112/EG)",
        "pl": "Wewnątrzwspólnotowa dostawa towarów zwolniona z VAT (art. 138 dyrektywy "
        "2006/112/WE)",
        "sv": "Unionsintern varuleverans, undantagen från skatteplikt (artikel 138 i direktiv "
        "2006/112/EG)",
    },
    TreatmentKind.EXPORT: {
        "de": "Steuerfreie Ausfuhrlieferung (Art. 146 MwStSystRL)",
        "en": "VAT-exempt export of goods (Article 146 of Directive 2006/112/EC)",
        "fr": "Exonération de TVA, exportation (article 146 de la directive 2006/112/CE)",
        "it": "Cessione all'esportazione esente da IVA (art. 146 della direttiva 2006/112/CE)",
        "es": "Exportación exenta de IVA (artículo 146 de la Directiva 2006/112/CE)",
        "nl": "Uitvoer, vrijgesteld van btw (artikel 146 van Richtlijn 2006/112/EG)",
        "pl": "Eksport towarów zwolniony z VAT (art. 146 dyrektywy 2006/112/WE)",
        "sv": "Export, undantagen från skatteplikt (artikel 146 i direktiv 2006/112/EG)",
    },
}
_GERMAN_LAW_NOTES: dict[TreatmentKind, str] = {
    TreatmentKind.INTRA_EU_SUPPLY: (
        "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b, § 6a UStG)"
    ),
    TreatmentKind.EXPORT: "Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1a, § 6 UStG)",
}


@dataclass(frozen=True)
class Treatment:
    """Whose VAT a sale bears, what the invoice prints for it, and why (for the operator).

    ``taxing_country`` is the country whose VAT law governs the sale; for an exempt supply, the
    ship-from country it is exempt in. ``seller_vat_id`` is the merchant's VAT ID to print:
    that of the taxing country, else of the home country (an OSS distance sale is declared
    under the home registration). ``buyer_vat_id`` is the buyer's VAT ID when it is valid and
    the buyer a business, compacted for printing.
    """

    kind: TreatmentKind
    ship_from: str
    ship_to: str
    taxing_country: str
    seller_vat_id: str | None
    buyer_vat_id: str | None
    explanation: str

    @property
    def exempt(self) -> bool:
        return self.kind in _EXEMPTIONS

    @property
    def exemption_code(self) -> str | None:
        """The VATEX code of an exempt supply (EN 16931 BT-121)."""
        return _EXEMPTIONS[self.kind][1] if self.exempt else None

    @property
    def category(self) -> TaxCategory:
        """The sale's VAT category: K or G when exempt, else S (see :meth:`category_for`)."""
        return _EXEMPTIONS[self.kind][0] if self.exempt else TaxCategory.STANDARD

    def category_for(self, rate: Decimal) -> TaxCategory:
        """The VAT category of an amount taxed at ``rate``: a 0 % amount of a taxed sale is
        zero-rated (Z); one with VAT in an exempt sale (Amazon charged it) is S."""
        if rate:
            return TaxCategory.STANDARD
        return self.category if self.exempt else TaxCategory.ZERO

    def note(self, language: str) -> str | None:
        """The exemption note an invoice in ``language`` must print (§ 14 Abs. 4 Nr. 8 UStG),
        or None for a taxed sale."""
        if language not in LANGUAGES:
            raise InvalidInput(
                "language",
                f"{language!r} is not a document language",
                hint=f"Use one of: {', '.join(LANGUAGES)}.",
            )
        if not self.exempt:
            return None
        if language == "de" and self.taxing_country == "DE":
            return _GERMAN_LAW_NOTES[self.kind]
        return _LEGAL_NOTES[self.kind][language]

    def rate(self, tax_class: TaxClass, day: date, explicit: Decimal | None = None) -> Decimal:
        """The rate of a line: 0 if the sale is exempt, else ``explicit`` if given, else the
        taxing country's rate for ``tax_class`` on ``day``."""
        if self.exempt:
            return ZERO
        if explicit is not None:
            return explicit
        return rate_for(self.taxing_country, tax_class, day)


def treatment_of(
    seller: SellerTaxProfile,
    *,
    ship_from: str,
    ship_to: str,
    buyer_vat_id: str | None = None,
    buyer_is_business: bool | None = None,
) -> Treatment:
    """Decide whose VAT applies to goods shipped from ``ship_from`` to ``ship_to``.

    In this order: within one country, domestic; from outside the EU to another country,
    refused (import VAT and customs are not sellerbridge's); to outside the EU, an exempt
    export; to a business with a valid VAT ID of another member state than ``ship_from``, an
    exempt intra-community supply; to a business with a VAT ID of ``ship_from``, taxed there;
    otherwise a distance sale, taxed at the destination — or, while the seller's
    ``distance_sales_at_destination`` is off and the goods leave from its home country, at the
    origin (the 10,000 EUR threshold covers only sales from home, §3.1). An invalid buyer VAT ID
    never makes a sale exempt; ``explanation`` then says why it was not used. A buyer who gives
    a VAT ID is taken for a business (VAT IDs are issued to businesses) unless
    ``buyer_is_business`` is False (Amazon's ``IsBusinessOrder`` says otherwise).

    Goods shipped from stock abroad need the seller's VAT ID of that country; without it this
    raises, naming the setting.
    """
    origin = check_country(ship_from, field="ship_from")
    destination = check_country(ship_to, field="ship_to")
    buyer_id, about_buyer_id = _buyer_vat_id(buyer_vat_id, buyer_is_business=buyer_is_business)
    buyer_country = vat_id_country(buyer_id) if buyer_id else None
    if origin == destination:
        kind, taxing = TreatmentKind.DOMESTIC, origin
        why = f"Shipped within {origin}: {origin} VAT."
    elif origin not in EU_MEMBER_STATES:
        raise DomainError(
            f"Goods shipped from {origin} to {destination} cannot be taxed by sellerbridge.",
            hint="It taxes goods shipped from an EU member state, or within one country; an "
            "import into the EU needs import VAT and customs, which it does not handle.",
        )
    elif destination not in EU_MEMBER_STATES:
        kind, taxing = TreatmentKind.EXPORT, origin
        why = f"Export from {origin} to {destination}, outside the EU: exempt in {origin}."
    elif buyer_country in EU_MEMBER_STATES and buyer_country != origin:
        kind, taxing = TreatmentKind.INTRA_EU_SUPPLY, origin
        why = (
            f"Intra-community supply from {origin} to {destination}, to a business with VAT ID "
            f"{buyer_id}: exempt in {origin}."
        )
    elif buyer_country == origin:
        kind, taxing = TreatmentKind.TAXED_AT_DISPATCH, origin
        why = (
            f"Shipped from {origin} to {destination} to a business with the {origin} VAT ID "
            f"{buyer_id}: not an exempt intra-community supply (the VAT ID must be of another "
            f"member state), so {origin} VAT."
        )
    else:
        kind = TreatmentKind.DISTANCE_SALE
        taxing, why = _distance_sale(seller, origin, destination)
        if buyer_country is not None:  # valid, but not of a member state (XI: Northern Ireland)
            about_buyer_id = (
                f"The buyer's VAT ID {buyer_id} is not of an EU member state, so the sale "
                "is not an exempt intra-community supply."
            )
    _check_registered(seller, origin, kind)
    return Treatment(
        kind=kind,
        ship_from=origin,
        ship_to=destination,
        taxing_country=taxing,
        seller_vat_id=seller.vat_id(taxing) or seller.vat_id(seller.home_country),
        buyer_vat_id=buyer_id,
        explanation=f"{about_buyer_id} {why}" if about_buyer_id else why,
    )


def _buyer_vat_id(
    text: str | None, *, buyer_is_business: bool | None
) -> tuple[str | None, str | None]:
    """The buyer's VAT ID if it counts (valid, and the buyer a business), and if one was given
    that does not count, a sentence saying why."""
    if not text or not text.strip():
        return None, None
    try:
        compact = _greek_prefix(check_vat_id(text))
    except InvalidInput as invalid:
        problem = invalid.message.removeprefix(f"{invalid.field}: ")
        return None, f"The buyer's VAT ID {problem}, so the sale is not exempt."
    if buyer_is_business is False:
        return None, f"The buyer's VAT ID {compact} is ignored: the buyer is not a business."
    return compact, None


def _distance_sale(seller: SellerTaxProfile, origin: str, destination: str) -> tuple[str, str]:
    """The taxing country of a distance sale, and the sentence that explains it."""
    if seller.distance_sales_at_destination:
        return destination, (
            f"Distance sale from {origin} to {destination}: {destination} VAT "
            "(seller.distance_sales_at_destination is on)."
        )
    if origin != seller.home_country:
        return destination, (
            f"Distance sale from {origin} to {destination}: {destination} VAT "
            f"(the 10,000 EUR threshold covers only sales from {seller.home_country})."
        )
    return origin, (
        f"Distance sale from {origin} to {destination}: {origin} VAT "
        "(below the EU-wide 10,000 EUR threshold; seller.distance_sales_at_destination is off)."
    )


def _check_registered(seller: SellerTaxProfile, origin: str, kind: TreatmentKind) -> None:
    """Stock abroad makes registration compulsory there (§3.5), and an exempt intra-community
    supply must show the seller's VAT ID of the ship-from country (§ 14a Abs. 3 UStG)."""
    if seller.vat_id(origin) is not None:
        return
    if origin != seller.home_country:
        why = (
            f"Goods shipped from {origin} need your {origin} VAT ID: stock held there makes "
            "you liable to register for VAT in it."
        )
    elif kind is TreatmentKind.INTRA_EU_SUPPLY:
        why = f"An intra-community supply from {origin} needs your {origin} VAT ID on the invoice."
    else:
        return
    prefix = "EL" if origin == "GR" else origin
    raise DomainError(
        why,
        hint=f"Set seller.vat_ids.{origin} in sellerbridge.toml "
        f'([seller] vat_ids = {{{origin} = "{prefix}…"}}).',
    )


# --- the amounts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleLine:
    """A line as sold: the unit price is gross or net as the sale says.

    ``discount`` is the line's promotion, on the whole line, in the same terms as the price.
    ``tax_rate`` overrides the tax class's rate in a taxed sale (an exempt sale stays at 0 %).
    ``supplied_tax`` is the VAT a marketplace calculated for the line; see :func:`price_line`.
    """

    quantity: int
    unit_price: Decimal
    tax_class: TaxClass
    discount: Decimal = ZERO
    tax_rate: Decimal | None = None
    supplied_tax: Decimal | None = None


@dataclass(frozen=True)
class SaleCharge:
    """Shipping, gift wrap and the like, gross or net as the sale says. A negative amount is a
    discount on the whole sale (a promotion not tied to one line); it is split like a charge."""

    kind: ChargeKind
    amount: Decimal
    supplied_tax: Decimal | None = None


@dataclass(frozen=True)
class Sale:
    """What is sold, on which day (it picks the rates), in which currency."""

    day: date
    currency: str
    lines: tuple[SaleLine, ...]
    charges: tuple[SaleCharge, ...] = ()
    prices_include_tax: bool = True


class _TaxedAmounts(Amounts, Protocol):
    @property
    def rate(self) -> Decimal: ...
    @property
    def category(self) -> TaxCategory: ...


@dataclass(frozen=True)
class PricedLine:
    """A line's amounts. The unit price of the other kind (net for gross prices, gross for net
    ones) is derived to four decimals and informative only; net + tax = gross exactly."""

    rate: Decimal
    category: TaxCategory
    unit_net: Decimal
    unit_gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    gross: Decimal
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChargePart:
    """The part of a charge taxed at one rate."""

    rate: Decimal
    category: TaxCategory
    net: Decimal
    tax: Decimal
    gross: Decimal


@dataclass(frozen=True)
class PricedCharge:
    """A charge's amounts, in one part per rate of the goods it comes with."""

    kind: ChargeKind
    parts: tuple[ChargePart, ...]  # one per rate, highest rate first
    warnings: tuple[str, ...] = ()

    @property
    def total(self) -> OrderTotals:
        return OrderTotals.of(self.parts)


@dataclass(frozen=True)
class VatGroup:
    """One row of the VAT breakdown: everything taxed at one rate in one category."""

    category: TaxCategory
    rate: Decimal
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class PricedSale:
    treatment: Treatment
    currency: str
    lines: tuple[PricedLine, ...]
    charges: tuple[PricedCharge, ...]
    breakdown: tuple[VatGroup, ...]  # highest rate first
    total: OrderTotals
    warnings: tuple[str, ...] = ()
    """Where amounts supplied by the marketplace disagree with the treatment, for the operator."""


def calculate(sale: Sale, treatment: Treatment) -> PricedSale:
    """Price every line and charge of ``sale`` under ``treatment`` and break the VAT down.

    Every problem with the lines is reported at once, each naming its line ("line 2: …").
    """
    currency = check_currency(sale.currency)
    if not sale.lines:
        raise InvalidInput("lines", "a sale needs at least one line")
    problems = Problems()
    price = partial(
        price_line,
        treatment=treatment,
        day=sale.day,
        currency=currency,
        prices_include_tax=sale.prices_include_tax,
    )
    priced = [
        problems.check(_naming(f"line {position}", partial(price, line)))
        for position, line in enumerate(sale.lines, start=1)
    ]
    problems.raise_if_any()
    lines = tuple(line for line in priced if line is not None)
    charges = price_charges(
        sale.charges,
        lines,
        treatment,
        currency=currency,
        prices_include_tax=sale.prices_include_tax,
    )
    parts = [part for charge in charges for part in charge.parts]
    return PricedSale(
        treatment=treatment,
        currency=currency,
        lines=lines,
        charges=charges,
        breakdown=vat_breakdown([*lines, *parts]),
        total=OrderTotals.of([*lines, *parts]),
        warnings=tuple(
            [f"line {n}: {w}" for n, line in enumerate(lines, start=1) for w in line.warnings]
            + [f"{charge.kind.value}: {w}" for charge in charges for w in charge.warnings]
        ),
    )


def _naming(what: str, compute: Callable[[], _T]) -> Callable[[], _T]:
    """``compute``, with any refusal it raises prefixed by ``what`` (e.g. "line 2")."""

    def named() -> _T:
        try:
            return compute()
        except DomainError as problem:
            raise InvalidInput(what, problem.message, hint=problem.hint) from None

    return named


def price_line(
    line: SaleLine,
    treatment: Treatment,
    *,
    day: date,
    currency: str,
    prices_include_tax: bool,
) -> PricedLine:
    """A line's amounts under ``treatment`` on ``day``.

    The line amount (quantity × unit price − discount) is rounded to the currency and split
    once, so net + tax = gross holds exactly.

    With ``supplied_tax`` (Amazon's VAT for the line) the amount as entered stays — the gross,
    as Amazon's prices include VAT — the tax is the supplied one, and the net is the
    difference. Its rate is the one :func:`~sellerbridge.core.tax.rate_of` recognises in those
    amounts. If no known rate gives them, the treatment's rate is shown instead and a warning
    says so; a recognised rate that differs from the treatment's is used and warned about too
    (Amazon may know a product rate the tax class does not).
    """
    _check_line(line, currency)
    own_rate = treatment.rate(line.tax_class, day, explicit=line.tax_rate)
    amount = line.unit_price * line.quantity - line.discount
    warnings: tuple[str, ...] = ()
    if line.supplied_tax is None:
        rate, split = own_rate, _split(amount, own_rate, currency, prices_include_tax)
    else:
        split = _supplied(amount, line.supplied_tax, currency, prices_include_tax)
        rate, warnings = _recognised_rate(split, own_rate, currency, line.quantity)
    other_unit = (
        line.unit_price * 100 / (100 + rate)
        if prices_include_tax
        else line.unit_price * (100 + rate) / 100
    ).quantize(Decimal(1).scaleb(-UNIT_PRICE_PLACES), rounding=ROUND_HALF_UP)
    unit_net, unit_gross = (
        (other_unit, line.unit_price) if prices_include_tax else (line.unit_price, other_unit)
    )
    return PricedLine(
        rate=rate,
        category=treatment.category_for(rate),
        unit_net=unit_net,
        unit_gross=unit_gross,
        discount=line.discount,
        net=split.net,
        tax=split.tax,
        gross=split.gross,
        warnings=warnings,
    )


def _check_line(line: SaleLine, currency: str) -> None:
    if line.quantity <= 0:
        raise InvalidInput("quantity", f"{line.quantity} must be at least 1")
    if line.unit_price < 0:
        raise InvalidInput("unit_price", f"{line.unit_price} must not be negative")
    check_places(line.unit_price, UNIT_PRICE_PLACES, field="unit_price")
    check_places(line.discount, MINOR_UNITS[currency], field="discount")
    if line.tax_rate is not None:
        check_rate(line.tax_rate)
    amount = line.unit_price * line.quantity
    if line.discount < 0 or line.discount > amount:
        raise InvalidInput(
            "discount", f"{line.discount} must be between 0 and the line amount {amount}"
        )


def price_charges(
    charges: Sequence[SaleCharge],
    lines: Sequence[PricedLine],
    treatment: Treatment,
    *,
    currency: str,
    prices_include_tax: bool,
) -> tuple[PricedCharge, ...]:
    """Tax each charge like the ``lines`` it comes with.

    A charge follows the goods it delivers or wraps (an ancillary supply shares the main
    supply's treatment). With lines at several rates it is split across those rates in
    proportion to the lines' net amounts (their consideration, which the VAT rules apportion
    by). Each part but the last is rounded to the currency; the last, at the lowest rate, takes
    the remainder, so the parts add up to the charge exactly. A part that rounds to nothing is
    left out. If the lines have no value at all (free goods), the charge is taxed at the lines'
    highest rate, which never under-declares.

    A charge with ``supplied_tax`` (Amazon's VAT) is not split: Amazon has already taxed it per
    item. It is kept as supplied, like a line (:func:`price_line`); when no rate is recognised
    in it, it is shown at the rate of the lines' largest share.
    """
    if not charges:
        return ()
    shares = _shares(lines)
    return tuple(
        _naming(
            charge.kind.value,
            partial(_price_charge, charge, shares, treatment, currency, prices_include_tax),
        )()
        for charge in charges
    )


_Key = tuple[TaxCategory, Decimal]


def _shares(lines: Sequence[PricedLine]) -> list[tuple[_Key, Decimal]]:
    """The lines' net value per (category, rate), highest rate first; rates of no value are
    left out unless no rate has any value."""
    if not lines:
        raise InvalidInput(
            "lines", "a charge is taxed like the goods it comes with, and there are none"
        )
    values: dict[_Key, Decimal] = {}
    for line in lines:
        key = (line.category, line.rate)
        values[key] = values.get(key, ZERO) + line.net
    ranked = sorted(values.items(), key=lambda item: (-item[0][1], item[0][0].value))
    with_value = [(key, value) for key, value in ranked if value > 0]
    return with_value or [(ranked[0][0], Decimal(1))]


def _price_charge(
    charge: SaleCharge,
    shares: list[tuple[_Key, Decimal]],
    treatment: Treatment,
    currency: str,
    prices_include_tax: bool,
) -> PricedCharge:
    check_places(charge.amount, MINOR_UNITS[currency], field="amount")
    if charge.supplied_tax is not None:
        _, main_rate = max(shares, key=lambda share: share[1])[0]
        split = _supplied(charge.amount, charge.supplied_tax, currency, prices_include_tax)
        rate, warnings = _recognised_rate(split, main_rate, currency, 1)
        part = ChargePart(rate, treatment.category_for(rate), split.net, split.tax, split.gross)
        return PricedCharge(charge.kind, (part,), warnings)
    parts = []
    for (category, rate), amount in _apportion(charge.amount, shares, currency):
        split = _split(amount, rate, currency, prices_include_tax)
        parts.append(ChargePart(rate, category, split.net, split.tax, split.gross))
    return PricedCharge(charge.kind, tuple(parts))


def _apportion(
    amount: Decimal, shares: list[tuple[_Key, Decimal]], currency: str
) -> list[tuple[_Key, Decimal]]:
    """Split ``amount`` by ``shares``; the last part takes the remainder of the rounding."""
    whole = sum((value for _, value in shares), ZERO)
    parts: list[tuple[_Key, Decimal]] = []
    rest = amount
    for key, value in shares[:-1]:
        part = quantize(amount * value / whole, currency)
        parts.append((key, part))
        rest -= part
    parts.append((shares[-1][0], rest))
    return [(key, part) for key, part in parts if part] or parts[-1:]


def _split(amount: Decimal, rate: Decimal, currency: str, includes_tax: bool) -> TaxSplit:
    return (split_gross if includes_tax else split_net)(amount, rate, currency)


def _supplied(amount: Decimal, tax: Decimal, currency: str, includes_tax: bool) -> TaxSplit:
    """The amount as entered with the tax as supplied, the other side the difference."""
    check_places(tax, MINOR_UNITS[currency], field="supplied_tax")
    amount = quantize(amount, currency)
    if tax and (tax < 0) != (amount < 0):
        raise InvalidInput("supplied_tax", f"{tax} must have the sign of the amount {amount}")
    if includes_tax:
        if abs(tax) > abs(amount):
            raise InvalidInput(
                "supplied_tax", f"{tax} is more than the gross amount {amount} it is part of"
            )
        return TaxSplit(net=amount - tax, tax=tax, gross=amount)
    return TaxSplit(net=amount, tax=tax, gross=amount + tax)


def _recognised_rate(
    split: TaxSplit, own_rate: Decimal, currency: str, quantity: int
) -> tuple[Decimal, tuple[str, ...]]:
    """The rate behind supplied amounts, and a warning if it is not the treatment's."""
    sign = -1 if split.gross < 0 else 1
    found = rate_of(split.gross * sign, split.tax * sign, currency, quantity)
    described = f"The VAT supplied ({split.tax} in {split.gross} {currency})"
    if found is None:
        return own_rate, (f"{described} matches no VAT rate; it is shown at {own_rate} %.",)
    if found != own_rate:
        return found, (
            f"{described} is {found} %, not the {own_rate} % of the tax treatment; "
            "the supplied amounts are used.",
        )
    return found, ()


def vat_breakdown(items: Iterable[_TaxedAmounts]) -> tuple[VatGroup, ...]:
    """Net and VAT per (category, rate), highest rate first (§ 14 Abs. 4 Nr. 7 and 8 UStG).

    Each row is the sum of its lines and charge parts, so the breakdown adds up to them to the
    cent (the VAT is not recomputed on the row's net).
    """
    groups: dict[_Key, tuple[Decimal, Decimal]] = {}
    for item in items:
        net, tax = groups.get((item.category, item.rate), (ZERO, ZERO))
        groups[(item.category, item.rate)] = (net + item.net, tax + item.tax)
    return tuple(
        VatGroup(category, rate, net, tax)
        for (category, rate), (net, tax) in sorted(
            groups.items(), key=lambda item: (-item[0][1], item[0][0].value)
        )
    )
