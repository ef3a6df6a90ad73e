"""Realistic European orders from a seed: what a German shop on Amazon Europe receives.

A connector is only tested as well as its test data is varied. The generator makes the orders
that break naive code: ten marketplaces and four currencies, FBA orders shipped from Pan-EU
fulfilment centres in other countries, business buyers with VAT IDs (0 % VAT), Prime, up to
five items, promotions, gift wrap, shipping charges, names like Łukasz or Seán, DHL Packstation
addresses, and every fulfilment status with packages where there should be some.

Everything comes from one ``random.Random`` stream derived from the seed, the seller and the
batch (the first, second, ... call for that seller); the anchor only fixes the times, counted
back from it. So ``--orders 1000 --seed 7`` gives the same orders every time.

Amounts follow Amazon's European convention (see :mod:`.order_records`): prices are
VAT-inclusive, the ``*_tax`` amounts state the VAT contained, rounded half up to the cent per
amount. Which VAT applies (:func:`tax_treatment`):

- shipped within one country (FBM from the seller's German warehouse to Germany, or FBA from a
  Polish fulfilment centre to a Polish buyer): that country's rate;
- B2C to another EU country: the destination's rate, as a seller registered for the OSS charges
  it (the 10,000 EUR threshold is assumed to be exceeded);
- B2B to a buyer whose VAT ID is from another EU country than the dispatch country, delivered
  to another country: 0 % (intra-community supply). Amazon Business then charges the
  VAT-exclusive price: the list price divided by one plus the marketplace country's rate. That
  Amazon derives the net price this way is assumed, not verified;
- delivered to Great Britain: UK VAT (20 %, 0 % for food), contained in the price as on the
  EU marketplaces. As goods from abroad in consignments up to GBP 135 and goods in UK stock of
  a seller not established in the UK both make Amazon liable for the VAT, the sandbox always
  marks UK items as collected by Amazon (marketplace facilitator) and gives UK business buyers
  no VAT ID; the UK reverse charge and imports above GBP 135 are not modelled.

The rate table holds the standard rate and, for goods with the catalogue's ``reduced_vat`` flag
(coffee, tea, cocoa, sugar), the country's rate for food, with validity dates (Sweden's food
rate falls from 12 % to 6 % from 2026-04-01 to 2027-12-31). Irish and British food is
zero-rated. Which reduced rate applies to which good is simplified: real coffee is taxed at the
standard rate in some countries (Italy, Poland). The order's shipping charge goes with its first
item and, like gift wrap and discounts, carries that item's rate.

Statuses follow the order's age: merchant orders are mostly waiting to ship (some pending,
shipped, cancelled, a few partially shipped with a package), FBA orders mostly shipped by
Amazon. :func:`build_order` places one order from a partial :class:`OrderSpec` (the admin API's
``POST /_sandbox/orders``) with the same prices, taxes and lifecycle steps.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as VatNumberError
from stdnum.fr import siren

from sellerbridge.sandbox.catalog import Product, catalogue
from sellerbridge.sandbox.errors import invalid_input, not_found
from sellerbridge.sandbox.marketplaces import BY_CODE, BY_ID, EU_COUNTRIES, Marketplace
from sellerbridge.sandbox.order_records import (
    ZERO,
    Address,
    FbaShipment,
    FulfillmentStatus,
    Order,
    OrderItem,
    Package,
    PackageItem,
    TaxTreatment,
    cents,
)

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox, Seller

FulfilledBy = Literal["MERCHANT", "AMAZON"]
T = TypeVar("T")

# --- VAT ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VatRate:
    country: str
    standard: Decimal
    reduced: Decimal  # the rate for food
    valid_from: date = date.min
    valid_to: date = date.max  # inclusive


VAT_RATES: tuple[VatRate, ...] = (
    VatRate("AT", Decimal(20), Decimal(10)),
    VatRate("BE", Decimal(21), Decimal(6)),
    VatRate("CZ", Decimal(21), Decimal(12)),
    VatRate("DE", Decimal(19), Decimal(7)),
    VatRate("ES", Decimal(21), Decimal(10)),
    VatRate("FR", Decimal(20), Decimal("5.5")),
    VatRate("IE", Decimal(23), Decimal(0)),
    VatRate("IT", Decimal(22), Decimal(10)),
    VatRate("NL", Decimal(21), Decimal(9)),
    VatRate("PL", Decimal(23), Decimal(5)),
    VatRate("SE", Decimal(25), Decimal(12), valid_to=date(2026, 3, 31)),
    VatRate("SE", Decimal(25), Decimal(6), date(2026, 4, 1), date(2027, 12, 31)),
    VatRate("SE", Decimal(25), Decimal(12), valid_from=date(2028, 1, 1)),
    VatRate("GB", Decimal(20), Decimal(0)),
)


def vat_rate(country: str, *, reduced: bool, on: date) -> Decimal:
    """The VAT rate in ``country`` on ``on`` for food (``reduced``) or other goods."""
    for rate in VAT_RATES:
        if rate.country == country and rate.valid_from <= on <= rate.valid_to:
            return rate.reduced if reduced else rate.standard
    raise invalid_input(f"The sandbox knows no VAT rate for {country}.")


def tax_treatment(*, ship_from: str, ship_to: str, buyer_vat_number: str | None) -> TaxTreatment:
    """Which VAT applies to goods sent from ``ship_from`` to ``ship_to`` (see the module doc)."""
    if ship_to == "GB":
        return TaxTreatment.UK_MARKETPLACE
    if (
        buyer_vat_number
        and ship_from in EU_COUNTRIES
        and ship_to in EU_COUNTRIES
        and ship_to != ship_from
        and buyer_vat_number[:2] != ship_from
    ):
        return TaxTreatment.INTRA_COMMUNITY
    return TaxTreatment.DOMESTIC if ship_to == ship_from else TaxTreatment.OSS


def vat_contained(gross: Decimal, rate: Decimal) -> Decimal:
    """The VAT in a VAT-inclusive amount, to the cent."""
    return cents(gross * rate / (100 + rate))


# --- the shop's charges, per currency ----------------------------------------------------------


@dataclass(frozen=True)
class _Charges:
    shipping: Decimal  # FBM shipping within the marketplace's country
    shipping_abroad: Decimal  # FBM shipping to another country
    fba_shipping: Decimal  # FBA shipping for orders without Prime
    gift_wrap: Decimal  # per unit
    voucher: Decimal  # a fixed-amount coupon


_CHARGES = {
    currency: _Charges(*(Decimal(amount) for amount in amounts))
    for currency, amounts in {
        "EUR": ("4.90", "7.90", "2.99", "2.99", "5.00"),
        "GBP": ("3.99", "6.99", "2.49", "2.49", "4.00"),
        "PLN": ("14.99", "29.99", "12.99", "12.99", "20.00"),
        "SEK": ("49.00", "89.00", "29.00", "29.00", "50.00"),
    }.items()
}

# --- people and places -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Country:
    calling_code: str
    number_first: bool  # "12 rue de la Paix" rather than "Hauptstraße 12"
    places: tuple[tuple[str, str, str | None], ...]  # postal code, city, region
    streets: tuple[str, ...]
    names: tuple[str, ...]
    companies: tuple[str, ...]
    gift_messages: tuple[str, ...]


_COUNTRIES: dict[str, _Country] = {
    "DE": _Country(
        "+49",
        False,
        (
            ("10115", "Berlin", None), ("80331", "München", None), ("50667", "Köln", None),
            ("20095", "Hamburg", None), ("04109", "Leipzig", None), ("70173", "Stuttgart", None),
            ("60311", "Frankfurt am Main", None), ("90402", "Nürnberg", None),
            ("01067", "Dresden", None), ("28195", "Bremen", None),
        ),
        ("Hauptstraße", "Schillerstraße", "Lindenallee", "Am Mühlbach", "Königstraße",
         "Goethestraße", "Bahnhofstraße", "Gartenweg"),
        ("Jürgen Müller", "Lena Schröder", "Björn Krüger", "Käthe Weiß", "Sören Köhler",
         "Anna Schmidt", "Thomas Becker", "Jörg Groß", "Sabine Hoffmann", "Maximilian Fuchs"),
        ("Büroservice Schäfer GmbH", "Café Königsallee GmbH", "Rösterei Müller & Söhne KG",
         "Praxis Dr. Weiß", "Kanzlei Böhm & Partner"),
        ("Alles Gute zum Geburtstag, liebe Jördis!", "Frohe Weihnachten! Deine Käthe",
         "Danke für alles – Sören"),
    ),
    "AT": _Country(
        "+43",
        False,
        (("1010", "Wien", None), ("8010", "Graz", None), ("5020", "Salzburg", None),
         ("6020", "Innsbruck", None)),
        ("Mariahilfer Straße", "Herrengasse", "Getreidegasse", "Maria-Theresien-Straße"),
        ("Verena Grünwald", "Matthias Pölzl", "Theresa Huber", "Jürgen Wagner"),
        ("Kaffeehaus Grünwald GmbH", "Büro Pölzl KG"),
        ("Alles Liebe zum Geburtstag!", "Frohe Weihnachten aus Graz"),
    ),
    "FR": _Country(
        "+33",
        True,
        (("75011", "Paris", None), ("69002", "Lyon", None), ("13001", "Marseille", None),
         ("31000", "Toulouse", None), ("33000", "Bordeaux", None), ("44000", "Nantes", None)),
        ("rue de la République", "rue Émile Zola", "avenue des Champs-Élysées",
         "boulevard Saint-Germain", "place Bellecour"),
        ("François Lefèvre", "Hélène Dubois", "Zoé Mercier", "Jérôme Garnier", "Élodie Moreau",
         "Noël Bénard", "Camille Rousseau", "Léa Faure"),
        ("Café Lumière SARL", "Bureau Étoile SAS", "Boulangerie Lefèvre SARL"),
        ("Joyeux anniversaire ! Bisous, Zoé", "Joyeux Noël à toute la famille !"),
    ),
    "IT": _Country(
        "+39",
        False,
        (("00184", "Roma", "RM"), ("20121", "Milano", "MI"), ("10121", "Torino", "TO"),
         ("50122", "Firenze", "FI"), ("80133", "Napoli", "NA")),
        ("Via Garibaldi", "Corso Vittorio Emanuele II", "Via dei Mille", "Piazza Navona"),
        ("Niccolò Rossi", "Lucia Bianchi", "Giulia Conte", "Marco Esposito", "Chiara Ricci",
         "Nicola D'Angelo"),
        ("Caffè Milano S.r.l.", "Studio Bianchi S.r.l.", "Torrefazione Ricci S.p.A."),
        ("Buon compleanno, Niccolò!", "Buon Natale e felice anno nuovo!"),
    ),
    "ES": _Country(
        "+34",
        False,
        (("28013", "Madrid", "Madrid"), ("08002", "Barcelona", "Barcelona"),
         ("46001", "València", "Valencia"), ("41001", "Sevilla", "Sevilla"),
         ("48001", "Bilbao", "Bizkaia")),
        ("Calle Mayor", "Avenida de la Constitución", "Carrer de Sant Pau", "Calle de Alcalá"),
        ("Iñigo Muñoz", "María Peña", "José García", "Begoña Ibáñez", "Álvaro Fernández",
         "Lucía Núñez"),
        ("Cafetería Peña S.L.", "Oficinas Ibáñez S.A.", "Tostadores Núñez S.L."),
        ("¡Feliz cumpleaños, Begoña!", "¡Feliz Navidad!"),
    ),
    "NL": _Country(
        "+31",
        False,
        (("1012 AB", "Amsterdam", None), ("3011 AD", "Rotterdam", None),
         ("2511 CV", "Den Haag", None), ("3511 LX", "Utrecht", None)),
        ("Keizersgracht", "Damstraat", "Oudegracht", "Coolsingel"),
        ("Daan de Vries", "Eva van den Berg", "Sanne Jansen", "Joëlle Bakker", "Bram Visser",
         "Anouk van Dijk"),
        ("Koffiebar Jansen B.V.", "Kantoor de Vries B.V."),
        ("Fijne verjaardag, Joëlle!", "Prettige feestdagen!"),
    ),
    "BE": _Country(
        "+32",
        False,
        (("1000", "Bruxelles", None), ("2000", "Antwerpen", None), ("9000", "Gent", None),
         ("4000", "Liège", None)),
        ("Rue Neuve", "Meir", "Veldstraat", "Boulevard d'Avroy"),
        ("Wout Peeters", "Maëlle Dubois", "Lotte Janssens", "Jérémie Maes", "Thibaut Lemaître",
         "Lies Claes"),
        ("Koffie Peeters BV", "Brasserie Lemaître SRL"),
        ("Gelukkige verjaardag!", "Joyeux anniversaire, Maëlle !"),
    ),
    "PL": _Country(
        "+48",
        False,
        (("00-001", "Warszawa", None), ("30-001", "Kraków", None), ("80-001", "Gdańsk", None),
         ("50-001", "Wrocław", None), ("61-001", "Poznań", None)),
        ("ul. Marszałkowska", "ul. Długa", "ul. Świętojańska", "ul. Piotrkowska"),
        ("Łukasz Wiśniewski", "Zofia Wójcik", "Paweł Dąbrowski", "Małgorzata Kowalczyk",
         "Michał Zieliński", "Agnieszka Nowak"),
        ("Kawiarnia Łódzka Sp. z o.o.", "Biuro Wójcik Sp. z o.o."),
        ("Wszystkiego najlepszego, Łukasz!", "Wesołych Świąt!"),
    ),
    "SE": _Country(
        "+46",
        False,
        (("111 22", "Stockholm", None), ("411 04", "Göteborg", None), ("211 22", "Malmö", None),
         ("753 10", "Uppsala", None)),
        ("Drottninggatan", "Götgatan", "Storgatan", "Kungsgatan"),
        ("Åsa Lindqvist", "Björn Åkesson", "Sofia Öberg", "Erik Sjöström", "Märta Nyström",
         "Lars Ek"),
        ("Kaffebaren Åkesson AB", "Kontor Öberg AB"),
        ("Grattis på födelsedagen, Åsa!", "God jul och gott nytt år!"),
    ),
    "IE": _Country(
        "+353",
        True,
        (("D02 X285", "Dublin", "Co. Dublin"), ("T12 R2NC", "Cork", "Co. Cork"),
         ("H91 E2K3", "Galway", "Co. Galway"), ("V94 T9PX", "Limerick", "Co. Limerick")),
        ("O'Connell Street", "Shop Street", "Patrick Street", "Grafton Street"),
        ("Seán Ó Briain", "Siobhán Murphy", "Aoife Byrne", "Ciarán Kelly",
         "Pádraig Ó Súilleabháin", "Niamh Walsh"),
        ("Ó Briain Coffee Ltd", "Murphy Office Supplies Ltd"),
        ("Happy birthday, a stór!", "Nollaig shona duit!"),
    ),
    "GB": _Country(
        "+44",
        True,
        (("SW1A 1AA", "London", None), ("M1 1AE", "Manchester", None),
         ("B1 1AA", "Birmingham", None), ("EH1 1YZ", "Edinburgh", None),
         ("LS1 1UR", "Leeds", None)),
        ("High Street", "Baker Street", "Station Road", "Church Lane"),
        ("Oliver Smith", "Amelia Jones", "Harry Taylor", "Chloë Evans", "George Wilson",
         "Zoë Brown"),
        ("Baker Street Coffee Ltd", "Taylor & Jones Ltd"),
        ("Happy birthday, Chloë!", "Merry Christmas!"),
    ),
}  # fmt: skip

# --- marketplaces, fulfilment, carriers --------------------------------------------------------

_MARKETPLACE_WEIGHTS = {
    "DE": 34, "FR": 11, "IT": 9, "ES": 9, "NL": 7, "BE": 5, "PL": 6, "SE": 5, "IE": 4, "UK": 10,
}  # fmt: skip
SELLER_WAREHOUSE_COUNTRY = "DE"
# Where Pan-EU FBA ships a marketplace's orders from, with weights.
_FBA_SOURCES: dict[str, tuple[tuple[str, int], ...]] = {
    "DE": (("DE", 70), ("PL", 15), ("CZ", 15)),
    "FR": (("FR", 80), ("DE", 20)),
    "IT": (("IT", 85), ("DE", 15)),
    "ES": (("ES", 85), ("FR", 15)),
    "NL": (("DE", 100),),
    "BE": (("DE", 50), ("FR", 50)),
    "PL": (("PL", 80), ("DE", 20)),
    "SE": (("DE", 60), ("PL", 40)),
    "IE": (("DE", 100),),
    "UK": (("GB", 100),),
}
FULFILMENT_CENTRES: dict[str, tuple[str, ...]] = {
    "DE": ("LEJ1", "FRA3", "MUC3", "DTM2", "BER3", "STR1"),
    "PL": ("WRO2", "POZ1", "KTW1", "SZZ1"),
    "CZ": ("PRG2",),
    "FR": ("ORY1", "LYS1", "MRS1", "LIL1"),
    "IT": ("MXP5", "FCO1", "TRN1"),
    "ES": ("MAD4", "BCN1", "SVQ1"),
    "GB": ("LTN1", "BHX4", "EDI4", "MAN1"),
}
# Some buyers of a marketplace live next door (amazon.de delivers to Austria).
_CROSS_BORDER = {"DE": ("AT", 0.08), "FR": ("BE", 0.04), "NL": ("BE", 0.04)}

# Tracking number shapes: '#' a digit, '?' a capital letter or digit, anything else as is.
_TRACKING = {
    "DHL": "00340434############",
    "Deutsche Post": "RR#########DE",
    "DPD": "01505#########",
    "GLS": "###########",
    "Hermes Logistik Gruppe": "H100##############",
    "UPS": "1Z??????68########",
    "La Poste": "6A###########",
    "Chronopost": "XW#########TS",
    "Poste Italiane": "RR#########IT",
    "SDA": "##############",
    "Correos": "PQ######################",
    "Seur": "##############",
    "Royal Mail": "??#########GB",
    "Yodel": "JD00022340########",
}
# FBM packages leave the seller's German warehouse: (carrier code, shipping method, weight).
_DOMESTIC_CARRIERS = (
    ("DHL", "DHL Paket", 50),
    ("Deutsche Post", "Warenpost", 12),
    ("DPD", "DPD Classic", 15),
    ("GLS", "GLS Parcel", 12),
    ("Hermes Logistik Gruppe", "Hermes Paket", 11),
)
_ABROAD_CARRIERS = (
    ("DHL", "DHL Paket International", 50),
    ("UPS", "UPS Standard", 20),
    ("GLS", "GLS EuroBusinessParcel", 15),
    ("DPD", "DPD Classic International", 15),
)
# Who delivers FBA parcels in the buyer's country.
_FBA_CARRIERS = {
    "DE": ("DHL", "Hermes Logistik Gruppe", "DPD"),
    "AT": ("DPD", "DHL"),
    "FR": ("La Poste", "Chronopost"),
    "IT": ("Poste Italiane", "SDA"),
    "ES": ("Correos", "Seur"),
    "NL": ("DHL", "DPD"),
    "BE": ("DPD", "DHL"),
    "PL": ("DPD",),
    "SE": ("DHL",),
    "IE": ("DPD",),
    "GB": ("Royal Mail", "Yodel", "DPD"),
}

_ORDER_ID_PREFIXES = ("028", "171", "302", "303", "304", "305", "306", "402", "403", "404", "405")
_UK_ORDER_ID_PREFIXES = ("026", "202", "203", "204", "205", "206")

BUYER_CANCEL_REASONS = (
    "Order Created by Mistake",
    "Item(s) Would Not Arrive on Time",
    "Found Cheaper Somewhere Else",
    "Need to Change Shipping Address",
)
GIFT_WRAP_LEVEL = "Classic"
FBA_FREE_SHIPPING = "FBA Free Shipping"

# How old an order in a status is, in seconds: (youngest, oldest).
_AGES = {
    FulfillmentStatus.PENDING: (10 * 60, 86_400),
    FulfillmentStatus.UNSHIPPED: (10 * 60, 3 * 86_400),
    FulfillmentStatus.PARTIALLY_SHIPPED: (86_400, 5 * 86_400),
    FulfillmentStatus.SHIPPED: (86_400, 30 * 86_400),
    FulfillmentStatus.CANCELLED: (3600, 30 * 86_400),
}
_FBM_STATUSES = (
    (FulfillmentStatus.UNSHIPPED, 55),
    (FulfillmentStatus.SHIPPED, 22),
    (FulfillmentStatus.PENDING, 8),
    (FulfillmentStatus.PARTIALLY_SHIPPED, 8),
    (FulfillmentStatus.CANCELLED, 7),
)
_FBA_STATUSES = (
    (FulfillmentStatus.SHIPPED, 78),
    (FulfillmentStatus.UNSHIPPED, 8),
    (FulfillmentStatus.PENDING, 6),
    (FulfillmentStatus.CANCELLED, 8),
)
_ITEM_COUNTS = ((1, 55), (2, 25), (3, 11), (4, 6), (5, 3))

# --- identifiers -------------------------------------------------------------------------------

_DIGITS = tuple(string.digits)
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))


def _fill(random_: random.Random, shape: str) -> str:
    """``shape`` with '#' a digit, '*' a digit but 0, '?' a capital letter or digit."""
    chars = []
    for char in shape:
        if char == "#":
            chars.append(random_.choice(string.digits))
        elif char == "*":
            chars.append(random_.choice("123456789"))
        elif char == "?":
            chars.append(random_.choice(string.ascii_uppercase + string.digits))
        else:
            chars.append(char)
    return "".join(chars)


def _complete(
    random_: random.Random, shape: str, checks: Sequence[str], valid: Callable[[str], bool]
) -> str:
    """Fill ``shape`` at random; the check characters at '@' are the first ones ``valid`` takes."""
    while True:
        filled = _fill(random_, shape)
        for check in checks:
            candidate = filled.replace("@", check)
            if valid(candidate):
                return candidate


# VAT ID shapes per country ('@' is where the check characters go), validated by python-stdnum.
_VAT_ID_SHAPES: dict[str, tuple[str, Sequence[str]]] = {
    "DE": ("DE*#######@", _DIGITS),
    "AT": ("ATU#######@", _DIGITS),
    "IT": ("IT*######0##@", _DIGITS),
    "ES": ("ESB#######@", _DIGITS),
    "NL": ("NL*#######@B01", _DIGITS),
    "BE": ("BE0*######@", _TWO_DIGITS),
    "PL": ("PL*########@", _DIGITS),
    "SE": ("SE556######@01", _DIGITS),
    "IE": ("IE#######@", tuple("ABCDEFGHIJKLMNOPQRSTUVW")),
}


def vat_number(random_: random.Random, country: str) -> str:
    """A VAT ID of ``country`` with valid check digits (not a registered one)."""
    if country == "FR":  # the key in front is computed from the SIREN behind it
        company = _complete(random_, "*#######@", _DIGITS, siren.is_valid)
        return _complete(random_, f"FR@{company}", _TWO_DIGITS, eu_vat.is_valid)
    shape, checks = _VAT_ID_SHAPES[country]
    return _complete(random_, shape, checks, eu_vat.is_valid)


def _order_id(random_: random.Random, marketplace: Marketplace, taken: set[str]) -> str:
    prefixes = _UK_ORDER_ID_PREFIXES if marketplace.code == "UK" else _ORDER_ID_PREFIXES
    while True:
        order_id = f"{random_.choice(prefixes)}-{_fill(random_, '#######-#######')}"
        if order_id not in taken:
            taken.add(order_id)
            return order_id


def new_shipment_id(random_: random.Random) -> str:
    """Amazon's id of a shipment (the shipping-id of the VAT invoice data report)."""
    return "D" + "".join(random_.choice(string.ascii_letters + string.digits) for _ in range(8))


def tracking_number(random_: random.Random, carrier: str) -> str:
    return _fill(random_, _TRACKING.get(carrier, "##########??"))


def _weighted(random_: random.Random, options: Sequence[tuple[T, int]]) -> T:
    values = [value for value, _ in options]
    return random_.choices(values, weights=[weight for _, weight in options])[0]


def _later(random_: random.Random, start: datetime, low: int, high: int, cap: datetime) -> datetime:
    """A moment ``low`` to ``high`` seconds after ``start``, but not after ``cap``."""
    return max(start, min(start + timedelta(seconds=random_.randint(low, high)), cap))


# --- an order in the making --------------------------------------------------------------------


@dataclass
class _Line:
    product: Product
    quantity: int
    promotion_discount: Decimal = ZERO  # off the list price, VAT-inclusive
    promotion_id: str | None = None
    gift_wrap: bool = False


@dataclass
class _Plan:
    seller_id: str
    order_id: str
    marketplace: Marketplace
    fulfilled_by: FulfilledBy
    created: datetime
    ship_from: str
    address: Address
    buyer_name: str
    buyer_email: str
    lines: list[_Line]
    prime: bool = False
    company_name: str | None = None
    purchase_order_number: str | None = None
    vat_number: str | None = None
    business: bool = False
    service_level: str = "STANDARD"
    shipping: Decimal = ZERO  # charged with the first line, VAT-inclusive list price
    free_shipping_promotion: str | None = None
    gift_message: str | None = None
    seller_order_id: str | None = None


def _assemble(plan: _Plan, random_: random.Random) -> Order:
    """The order ``plan`` describes, priced and taxed, as it stands when placed (PENDING)."""
    ship_to = plan.address.country_code
    treatment = tax_treatment(
        ship_from=plan.ship_from, ship_to=ship_to, buyer_vat_number=plan.vat_number
    )
    on = plan.created.date()
    charges = _CHARGES[plan.marketplace.currency]
    items: list[OrderItem] = []
    item_ids: set[str] = set()
    for index, line in enumerate(plan.lines):
        reduced = line.product.reduced_vat
        if treatment is TaxTreatment.INTRA_COMMUNITY:
            rate = ZERO
            # the buyer pays the list price without the VAT of the marketplace's country
            divisor = 1 + vat_rate(plan.marketplace.country_code, reduced=reduced, on=on) / 100
        else:
            rate = vat_rate(ship_to, reduced=reduced, on=on)
            divisor = Decimal(1)

        def charged(gross: Decimal, divisor: Decimal = divisor) -> Decimal:
            return cents(gross / divisor)

        unit_price = charged(line.product.price(plan.marketplace.currency))
        shipping = charged(plan.shipping if index == 0 else ZERO)
        shipping_discount = shipping if plan.free_shipping_promotion else charged(ZERO)
        gift_wrap = charged(charges.gift_wrap if line.gift_wrap else ZERO) * line.quantity
        discount = charged(line.promotion_discount)
        promotion_ids = [line.promotion_id] if line.promotion_id else []
        if shipping_discount and plan.free_shipping_promotion:
            promotion_ids.append(plan.free_shipping_promotion)
        order_item_id = _fill(random_, "*#############")
        while order_item_id in item_ids:
            order_item_id = _fill(random_, "*#############")
        item_ids.add(order_item_id)
        items.append(
            OrderItem(
                order_item_id=order_item_id,
                asin=line.product.asin,
                seller_sku=line.product.sku,
                title=line.product.title,
                quantity=line.quantity,
                vat_rate=rate,
                unit_price=unit_price,
                item_tax=vat_contained(unit_price * line.quantity, rate),
                shipping_price=shipping,
                shipping_tax=vat_contained(shipping, rate),
                gift_wrap_price=gift_wrap,
                gift_wrap_tax=vat_contained(gift_wrap, rate),
                gift_wrap_level=GIFT_WRAP_LEVEL if line.gift_wrap else None,
                gift_message=plan.gift_message if line.gift_wrap else None,
                promotion_discount=discount,
                promotion_discount_tax=vat_contained(discount, rate),
                shipping_discount=shipping_discount,
                shipping_discount_tax=vat_contained(shipping_discount, rate),
                promotion_ids=promotion_ids,
            )
        )
    ship_by_earliest, ship_by_latest, deliver_by_earliest, deliver_by_latest = _windows(
        random_, plan.created, prime=plan.prime, abroad=ship_to != plan.ship_from
    )
    programs = (["PRIME"] if plan.prime else []) + (["AMAZON_BUSINESS"] if plan.business else [])
    return Order(
        order_id=plan.order_id,
        seller_id=plan.seller_id,
        marketplace_id=plan.marketplace.id,
        currency=plan.marketplace.currency,
        created_time=plan.created,
        last_updated_time=plan.created,
        status=FulfillmentStatus.PENDING,
        fulfilled_by=plan.fulfilled_by,
        service_level=plan.service_level,
        programs=programs,
        buyer_name=plan.buyer_name,
        buyer_email=plan.buyer_email,
        buyer_company_name=plan.company_name,
        purchase_order_number=plan.purchase_order_number,
        buyer_vat_number=plan.vat_number,
        ship_from_country=plan.ship_from,
        shipping_address=plan.address,
        ship_by_earliest=ship_by_earliest,
        ship_by_latest=ship_by_latest,
        deliver_by_earliest=deliver_by_earliest,
        deliver_by_latest=deliver_by_latest,
        items=items,
        seller_order_id=plan.seller_order_id,
        tax_treatment=treatment,
    )


def _windows(
    random_: random.Random, created: datetime, *, prime: bool, abroad: bool
) -> tuple[datetime, datetime, datetime, datetime]:
    """Ship-by and deliver-by windows: Prime ships today or tomorrow and arrives the day after."""
    if prime:
        handling = 0 if created.hour < 12 else 1
        transit_min, transit_max = 1, 1
    else:
        handling = random_.choice((1, 2))
        transit_min, transit_max = (2, random_.choice((5, 6))) if abroad else (1, 3)
    ship_day = created.date() + timedelta(days=handling)
    return (
        created,
        datetime.combine(ship_day, time(23, 59, 59), UTC),
        datetime.combine(ship_day + timedelta(days=transit_min), time(0), UTC),
        datetime.combine(ship_day + timedelta(days=transit_max), time(23, 59, 59), UTC),
    )


def _address(
    random_: random.Random,
    country: str,
    name: str,
    *,
    company: str | None = None,
    packstation: bool = False,
) -> Address:
    data = _COUNTRIES[country]
    postal_code, city, region = random_.choice(data.places)
    phone = f"{data.calling_code} {_fill(random_, '*## #######')}"
    if packstation:
        return Address(
            name=name,
            line1=f"Packstation {random_.randint(101, 299)}",
            line2=_fill(random_, "*#######"),  # the buyer's DHL Postnummer
            city=city,
            postal_code=postal_code,
            country_code=country,
            phone=phone,
            address_type="PICKUP_POINT",
        )
    street, number = random_.choice(data.streets), str(random_.randint(1, 120))
    return Address(
        name=name,
        company_name=company,
        line1=f"{number} {street}" if data.number_first else f"{street} {number}",
        city=city,
        state_or_region=region,
        postal_code=postal_code,
        country_code=country,
        phone=phone,
        address_type="COMMERCIAL" if company else "RESIDENTIAL",
    )


def _buyer_email(random_: random.Random, marketplace: Marketplace) -> str:
    """Amazon's anonymised relay address, e.g. ``5kx…@marketplace.amazon.de``."""
    local = "".join(random_.choice(string.ascii_lowercase + string.digits) for _ in range(16))
    return f"{local}@marketplace.{marketplace.domain.removeprefix('www.')}"


def _promotion_id(random_: random.Random) -> str:
    return "A" + _fill(random_, "?????????????")


# --- lifecycle after placing -------------------------------------------------------------------


def merchant_package(
    random_: random.Random,
    order: Order,
    reference: str,
    items: list[PackageItem],
    at: datetime,
) -> Package:
    """A package the seller shipped from its warehouse, as confirmShipment would record it."""
    abroad = order.shipping_address.country_code != order.ship_from_country
    carrier, method = _weighted(
        random_,
        [((code, method), weight) for code, method, weight in _ABROAD_CARRIERS]
        if abroad
        else [((code, method), weight) for code, method, weight in _DOMESTIC_CARRIERS],
    )
    return Package(
        package_reference_id=reference,
        shipment_id=new_shipment_id(random_),
        carrier_code=carrier,
        shipping_method=method,
        tracking_number=tracking_number(random_, carrier),
        ship_date=at,
        created_at=at,
        items=items,
    )


def fba_shipment(random_: random.Random, order: Order, at: datetime) -> FbaShipment:
    """How Amazon ships an FBA order: from a fulfilment centre of its ship-from country."""
    carrier = random_.choice(_FBA_CARRIERS[order.shipping_address.country_code])
    return FbaShipment(
        shipment_id=new_shipment_id(random_),
        shipped_at=at,
        fulfillment_center=random_.choice(FULFILMENT_CENTRES[order.ship_from_country]),
        carrier=carrier,
        tracking_number=tracking_number(random_, carrier),
    )


def _settle(
    random_: random.Random, order: Order, status: FulfillmentStatus, anchor: datetime
) -> None:
    """Move a freshly placed order to ``status`` along the way Amazon's orders go."""
    if status is FulfillmentStatus.PENDING:
        return
    paid_at = _later(random_, order.created_time, 60, 1800, anchor)
    if status is FulfillmentStatus.CANCELLED:
        by: Literal["BUYER", "SELLER", "AMAZON"] = _weighted(
            random_, (("BUYER", 50), ("SELLER", 30), ("AMAZON", 20))
        )
        if by == "AMAZON":  # payment never went through
            order.cancel("AMAZON", "Payment could not be authorised", paid_at)
            return
        order.pay(paid_at)
        reason = random_.choice(BUYER_CANCEL_REASONS) if by == "BUYER" else "NoInventory"
        if by == "BUYER":
            order.request_cancellation(reason, paid_at)
        order.cancel(by, reason, _later(random_, paid_at, 600, 86_400, anchor))
        return
    order.pay(paid_at)
    if status is FulfillmentStatus.UNSHIPPED:
        if order.fulfilled_by == "MERCHANT" and random_.random() < 0.04:
            asked_at = _later(random_, paid_at, 600, 86_400, anchor)
            order.request_cancellation(random_.choice(BUYER_CANCEL_REASONS), asked_at)
        return
    latest = min(order.ship_by_latest, anchor)
    shipped_at = _later(random_, paid_at, 3600, 2 * 86_400, latest)
    if order.fulfilled_by == "AMAZON":
        order.ship_by_amazon(fba_shipment(random_, order, shipped_at))
    elif status is FulfillmentStatus.PARTIALLY_SHIPPED:
        first = order.items[0]
        package_items = [PackageItem(order_item_id=first.order_item_id, quantity=first.quantity)]
        order.add_package(merchant_package(random_, order, "1", package_items, shipped_at))
    else:
        parcels = [order.items]
        if len(order.items) > 1 and random_.random() < 0.25:
            parcels = [order.items[:1], order.items[1:]]
        for number, parcel in enumerate(parcels, start=1):
            package_items = [
                PackageItem(order_item_id=item.order_item_id, quantity=item.quantity)
                for item in parcel
            ]
            order.add_package(
                merchant_package(random_, order, str(number), package_items, shipped_at)
            )
    delivered_at = shipped_at + timedelta(seconds=random_.randint(86_400, 3 * 86_400))
    if status is FulfillmentStatus.SHIPPED and delivered_at <= anchor:
        order.deliver(delivered_at)


# --- random orders -----------------------------------------------------------------------------


def _random_order(
    random_: random.Random,
    seller_id: str,
    products: Sequence[Product],
    marketplaces: Sequence[tuple[Marketplace, int]],
    anchor: datetime,
    taken: set[str],
) -> Order:
    marketplace = _weighted(random_, marketplaces)
    fulfilled_by: FulfilledBy = "AMAZON" if random_.random() < 0.3 else "MERCHANT"
    status = _weighted(random_, _FBA_STATUSES if fulfilled_by == "AMAZON" else _FBM_STATUSES)
    youngest, oldest = _AGES[status]
    created = anchor - timedelta(seconds=random_.randint(youngest, oldest))
    home = marketplace.country_code
    ship_to = home
    if home in _CROSS_BORDER and random_.random() < _CROSS_BORDER[home][1]:
        ship_to = _CROSS_BORDER[home][0]
    country = _COUNTRIES[ship_to]
    ship_from = (
        _weighted(random_, _FBA_SOURCES[marketplace.code])
        if fulfilled_by == "AMAZON"
        else SELLER_WAREHOUSE_COUNTRY
    )

    name = random_.choice(country.names)
    business = random_.random() < 0.12
    company = random_.choice(country.companies) if business else None
    vat_id = (
        vat_number(random_, ship_to)
        if business and ship_to in EU_COUNTRIES and random_.random() < 0.85
        else None
    )
    purchase_order = (
        f"PO-{created.year}-{_fill(random_, '#####')}"
        if business and random_.random() < 0.7
        else None
    )
    packstation = ship_to == "DE" and not business and random_.random() < 0.08
    address = _address(random_, ship_to, name, company=company, packstation=packstation)

    pool = [p for p in products if p.fulfilled_by_amazon == (fulfilled_by == "AMAZON")]
    count = _weighted(random_, _ITEM_COUNTS)
    if status is FulfillmentStatus.PARTIALLY_SHIPPED:
        count = max(count, 2)
    lines = [
        _Line(product, _weighted(random_, ((1, 80), (2, 15), (3, 5))))
        for product in random_.sample(pool, count)
    ]
    charges = _CHARGES[marketplace.currency]
    if random_.random() < 0.15:
        line = random_.choice(lines)
        price = line.product.price(marketplace.currency) * line.quantity
        line.promotion_discount = (
            cents(price / 10) if random_.random() < 0.5 else min(charges.voucher, cents(price / 2))
        )
        line.promotion_id = _promotion_id(random_)
    gift_message = None
    if not business and random_.random() < 0.05:
        random_.choice(lines).gift_wrap = True
        gift_message = random_.choice(_COUNTRIES[ship_to].gift_messages)

    prime = random_.random() < (0.6 if fulfilled_by == "AMAZON" else 0.06)
    free_shipping = None
    if prime:
        shipping = ZERO
    elif fulfilled_by == "AMAZON":
        shipping = charges.fba_shipping
        free_shipping = FBA_FREE_SHIPPING if random_.random() < 0.5 else None
    else:
        shipping = charges.shipping if ship_to == home else charges.shipping_abroad
    plan = _Plan(
        seller_id=seller_id,
        order_id=_order_id(random_, marketplace, taken),
        marketplace=marketplace,
        fulfilled_by=fulfilled_by,
        created=created,
        ship_from=ship_from,
        address=address,
        buyer_name=name,
        buyer_email=_buyer_email(random_, marketplace),
        lines=lines,
        prime=prime,
        company_name=company,
        purchase_order_number=purchase_order,
        vat_number=vat_id,
        business=business,
        service_level=(
            "NEXT_DAY" if prime else _weighted(random_, (("STANDARD", 85), ("EXPEDITED", 15)))
        ),
        shipping=shipping,
        free_shipping_promotion=free_shipping,
        gift_message=gift_message,
        seller_order_id=f"SB-{_fill(random_, '*#####')}" if random_.random() < 0.1 else None,
    )
    order = _assemble(plan, random_)
    _settle(random_, order, status, anchor)
    return order


def _selling_marketplaces(seller: Seller) -> list[tuple[Marketplace, int]]:
    marketplaces = [
        (BY_CODE[code], weight)
        for code, weight in _MARKETPLACE_WEIGHTS.items()
        if BY_CODE[code].id in seller.marketplace_ids
    ]
    if not marketplaces:
        raise invalid_input(
            f"Seller {seller.seller_id} sells on none of the European marketplaces the order "
            f"generator knows ({', '.join(_MARKETPLACE_WEIGHTS)})."
        )
    return marketplaces


def generate_orders(
    sandbox: Sandbox, seller: Seller, count: int, *, anchor: datetime
) -> list[Order]:
    """Generate ``count`` orders for ``seller``, dated back from ``anchor``, and store them.

    The seed and the seller decide the orders; the anchor only decides when they happened. So
    ``--orders 1000 --seed 7`` gives the same orders on every start, their times counted back
    from that start. A seller's second batch differs from its first (each batch has its own
    stream), so generating more never repeats an order.
    """
    if anchor.tzinfo is None:
        raise ValueError("the anchor of generated orders must be timezone-aware")
    anchor = anchor.astimezone(UTC).replace(microsecond=0)
    batches = sandbox.state.orders.generated_batches
    batch = batches.get(seller.seller_id, 0)
    batches[seller.seller_id] = batch + 1
    random_ = random.Random(f"{sandbox.config.seed}:{seller.seller_id}:orders:{batch}")
    products = catalogue(sandbox.config.seed, seller.seller_id)
    marketplaces = _selling_marketplaces(seller)
    taken = set(sandbox.state.orders.orders)
    orders = []
    for _ in range(count):
        order = _random_order(random_, seller.seller_id, products, marketplaces, anchor, taken)
        sandbox.state.orders.orders[order.order_id] = order
        orders.append(order)
    return orders


# --- one order from a partial description ------------------------------------------------------


class ItemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str
    quantity: int = Field(default=1, ge=1, le=100)
    promotion_discount: Decimal | None = Field(default=None, gt=0)
    """Off the line's VAT-inclusive list price."""
    promotion_id: str | None = None
    gift_wrap: bool = False


class OrderSpec(BaseModel):
    """One order as a test wants it; what it leaves out is chosen like the generator does."""

    model_config = ConfigDict(extra="forbid")

    seller_id: str | None = None
    """Default: the sandbox's first seller."""
    marketplace: str = "DE"
    """Amazon's short code (DE, UK, ...) or the marketplace id."""
    fulfilled_by: FulfilledBy = "MERCHANT"
    items: list[ItemSpec] = Field(default_factory=list)
    """Default: one unit of a product of the right channel (``-FBA`` SKUs for FBA)."""
    status: Literal["PENDING", "UNSHIPPED", "SHIPPED", "CANCELLED"] = "UNSHIPPED"
    """SHIPPED only for FBA orders: a merchant ships through ``confirmShipment``."""
    business: bool = False
    vat_id: str | None = None
    """The business buyer's VAT ID (implies ``business``); checked with python-stdnum."""
    company_name: str | None = None
    purchase_order_number: str | None = None
    prime: bool = False
    ship_to_country: str | None = None
    ship_from_country: str | None = None
    """Default: the seller's warehouse (DE) for FBM, a Pan-EU fulfilment centre's for FBA."""
    packstation: bool = False
    shipping_price: Decimal | None = Field(default=None, ge=0)
    free_shipping: bool = False
    """A free-shipping promotion takes the shipping charge off again."""
    gift_message: str | None = None
    buyer_name: str | None = None
    seller_order_id: str | None = None
    created_time: AwareDatetime | None = None
    """Default: now. The order stands in its status as of this time."""


def _spec_lines(
    spec: OrderSpec, products: Sequence[Product], random_: random.Random
) -> list[_Line]:
    by_amazon = spec.fulfilled_by == "AMAZON"
    if not spec.items:
        pool = [p for p in products if p.fulfilled_by_amazon == by_amazon]
        return [_Line(random_.choice(pool), 1, gift_wrap=spec.gift_message is not None)]
    by_sku = {product.sku: product for product in products}
    lines = []
    for item in spec.items:
        product = by_sku.get(item.sku)
        if product is None:
            raise invalid_input(f"The seller has no product {item.sku!r}.")
        if product.fulfilled_by_amazon != by_amazon:
            raise invalid_input(
                f"{item.sku} is {'an FBA' if product.fulfilled_by_amazon else 'a merchant'} "
                f"SKU; a {spec.fulfilled_by} order needs "
                f"{'-FBA SKUs' if by_amazon else 'SKUs without -FBA'}."
            )
        lines.append(
            _Line(
                product,
                item.quantity,
                promotion_discount=item.promotion_discount or ZERO,
                promotion_id=item.promotion_id
                or (_promotion_id(random_) if item.promotion_discount else None),
                gift_wrap=item.gift_wrap,
            )
        )
    return lines


def _spec_route(
    spec: OrderSpec, marketplace: Marketplace, random_: random.Random
) -> tuple[str, str]:
    """Where the goods of ``spec`` ship from and to: countries the sandbox knows a way between."""
    ship_to = spec.ship_to_country or marketplace.country_code
    if ship_to not in _COUNTRIES:
        raise invalid_input(f"The sandbox delivers to {', '.join(_COUNTRIES)}, not {ship_to}.")
    if spec.fulfilled_by == "MERCHANT":
        ship_from = spec.ship_from_country or SELLER_WAREHOUSE_COUNTRY
        if ship_from not in _COUNTRIES:
            raise invalid_input(f"The sandbox ships from {', '.join(_COUNTRIES)}, not {ship_from}.")
        return ship_from, ship_to
    ship_from = spec.ship_from_country or _weighted(random_, _FBA_SOURCES[marketplace.code])
    if ship_from not in FULFILMENT_CENTRES:
        raise invalid_input(
            f"Pan-EU FBA ships from {', '.join(FULFILMENT_CENTRES)}, not {ship_from}."
        )
    if (ship_from == "GB") != (ship_to == "GB"):
        raise invalid_input("FBA ships between Great Britain and the EU in neither direction.")
    return ship_from, ship_to


def _spec_shipping(spec: OrderSpec, marketplace: Marketplace, ship_to: str) -> Decimal:
    charges = _CHARGES[marketplace.currency]
    if spec.shipping_price is not None:
        return spec.shipping_price
    if spec.prime:
        return ZERO
    if spec.fulfilled_by == "AMAZON":
        return charges.fba_shipping
    return charges.shipping if ship_to == marketplace.country_code else charges.shipping_abroad


def _check_spec(spec: OrderSpec, ship_to: str) -> None:
    """Refuse descriptions of orders Amazon would never send."""
    if spec.status == "SHIPPED" and spec.fulfilled_by == "MERCHANT":
        raise invalid_input(
            "A merchant-fulfilled order is shipped with confirmShipment; create it UNSHIPPED."
        )
    if spec.vat_id is not None:
        try:
            eu_vat.validate(spec.vat_id)
        except VatNumberError as error:
            raise invalid_input(f"{spec.vat_id} is not a valid VAT ID: {error}") from None
    if spec.packstation and (ship_to != "DE" or spec.business or spec.vat_id):
        raise invalid_input("Packstation addresses are for consumers in Germany.")


def build_order(sandbox: Sandbox, spec: OrderSpec, *, now: datetime) -> Order:
    """Place the order ``spec`` describes, priced and taxed like generated ones, and store it."""
    seller_id = spec.seller_id or next(iter(sandbox.state.sellers), "")
    seller = sandbox.state.sellers.get(seller_id)
    if seller is None:
        raise not_found(f"There is no seller {seller_id!r}.")
    marketplace = BY_CODE.get(spec.marketplace) or BY_ID.get(spec.marketplace)
    if marketplace is None or marketplace not in dict(_selling_marketplaces(seller)):
        raise invalid_input(f"{seller_id} does not sell on a marketplace {spec.marketplace!r}.")
    created = (spec.created_time or now).astimezone(UTC).replace(microsecond=0)
    if created > now:
        raise invalid_input("created_time lies in the future.")
    random_ = random.Random(f"{sandbox.config.seed}:{seller_id}:order:{sandbox.next_number()}")
    ship_from, ship_to = _spec_route(spec, marketplace, random_)
    _check_spec(spec, ship_to)
    business = spec.business or spec.vat_id is not None
    country = _COUNTRIES[ship_to]
    name = spec.buyer_name or random_.choice(country.names)
    company = spec.company_name or (random_.choice(country.companies) if business else None)
    shipping = _spec_shipping(spec, marketplace, ship_to)
    free_shipping = None
    if spec.free_shipping and shipping:
        free_shipping = (
            FBA_FREE_SHIPPING if spec.fulfilled_by == "AMAZON" else _promotion_id(random_)
        )
    plan = _Plan(
        seller_id=seller_id,
        order_id=_order_id(random_, marketplace, set(sandbox.state.orders.orders)),
        marketplace=marketplace,
        fulfilled_by=spec.fulfilled_by,
        created=created,
        ship_from=ship_from,
        address=_address(random_, ship_to, name, company=company, packstation=spec.packstation),
        buyer_name=name,
        buyer_email=_buyer_email(random_, marketplace),
        lines=_spec_lines(spec, catalogue(sandbox.config.seed, seller_id), random_),
        prime=spec.prime,
        company_name=company,
        purchase_order_number=spec.purchase_order_number,
        vat_number=spec.vat_id,
        business=business,
        service_level="NEXT_DAY" if spec.prime else "STANDARD",
        shipping=shipping,
        free_shipping_promotion=free_shipping,
        gift_message=spec.gift_message,
        seller_order_id=spec.seller_order_id,
    )
    order = _assemble(plan, random_)
    if spec.status != "PENDING":
        order.pay(created)
    if spec.status == "SHIPPED":
        order.ship_by_amazon(fba_shipment(random_, order, created))
    elif spec.status == "CANCELLED":
        order.cancel("BUYER", BUYER_CANCEL_REASONS[0], created)
    sandbox.state.orders.orders[order.order_id] = order
    return order
