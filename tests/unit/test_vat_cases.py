"""The tax engine's acceptance table, and the rules behind it.

Every case was worked out by hand; the comment above it shows the arithmetic, so a reviewer can
check it with pencil and paper. Rounding is half up to the currency's cent. Gross prices: VAT =
gross × rate / (100 + rate), rounded; net = gross − VAT. Net prices: VAT = net × rate / 100,
rounded; gross = net + VAT. A charge is split across the lines' rates in proportion to the
lines' nets, each part rounded but the last (lowest rate), which takes the rest.

VAT IDs: DE136695976, FR40303265045, ATU13585627, PL8567346215, CZ25123891, EL094259216 and
GB980780684 are valid examples from python-stdnum's docstrings (XI980780684 is the GB one with
Northern Ireland's prefix); DE293847560 was made with ISO 7064 Mod 11,10
(``stdnum.iso7064.mod_11_10.calc_check_digit("29384756")`` is "0"). FR40303265046 is the FR ID
with a wrong check digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from sellerbridge.core.documents import LANGUAGES, TaxCategory
from sellerbridge.core.errors import DomainError, InvalidFields, InvalidInput
from sellerbridge.core.orders import ChargeKind, OrderTotals
from sellerbridge.core.tax import TaxClass
from sellerbridge.core.vat import (
    Sale,
    SaleCharge,
    SaleLine,
    SellerTaxProfile,
    Treatment,
    TreatmentKind,
    calculate,
    treatment_of,
)

D = Decimal
DAY = date(2026, 11, 27)
SELLER = SellerTaxProfile("DE", {"DE": "DE136695976", "PL": "PL8567346215"})
BELOW_THRESHOLD = SellerTaxProfile("DE", {"DE": "DE136695976"}, distance_sales_at_destination=False)
S, Z, K, G = TaxCategory.STANDARD, TaxCategory.ZERO, TaxCategory.INTRA_EU, TaxCategory.EXPORT
STANDARD, REDUCED = TaxClass.STANDARD, TaxClass.REDUCED
SHIPPING, GIFT_WRAP, OTHER = ChargeKind.SHIPPING, ChargeKind.GIFT_WRAP, ChargeKind.OTHER
DE_ID, PL_ID = "DE136695976", "PL8567346215"
FR_BUSINESS, FR_INVALID = "FR40303265045", "FR40303265046"


def line(quantity: int, price: str, tax_class: TaxClass = STANDARD, **options: str) -> SaleLine:
    amounts = {name: D(value) for name, value in options.items()}
    return SaleLine(quantity, D(price), tax_class, **amounts)


def charge(kind: ChargeKind, amount: str, supplied_tax: str | None = None) -> SaleCharge:
    return SaleCharge(kind, D(amount), None if supplied_tax is None else D(supplied_tax))


@dataclass(frozen=True)
class Case:
    name: str
    ship_from: str
    ship_to: str
    lines: tuple[SaleLine, ...]
    per_rate: tuple[tuple[TaxCategory, str, str, str, str], ...]  # category, rate, net, VAT, gross
    kind: TreatmentKind
    seller_vat_id: str
    charges: tuple[SaleCharge, ...] = ()
    currency: str = "EUR"
    prices_include_tax: bool = True
    business: bool = False
    buyer_vat_id: str | None = None
    seller: SellerTaxProfile = SELLER


CASES = (
    # 2 × 19.99 = 39.98 at 19 %: VAT 39.98 × 19/119 = 6.3834 → 6.38, net 33.60.
    # 3 × 8.50 = 25.50 at 7 %: VAT 25.50 × 7/107 = 1.6682 → 1.67, net 23.83.
    Case(
        "DE domestic, 19 % and 7 % in one order",
        "DE",
        "DE",
        (line(2, "19.99"), line(3, "8.50", REDUCED)),
        ((S, "19", "33.60", "6.38", "39.98"), (S, "7", "23.83", "1.67", "25.50")),
        TreatmentKind.DOMESTIC,
        DE_ID,
    ),
    # OSS to a French consumer, FR standard 20 %: 49.90 × 20/120 = 8.3167 → 8.32, net 41.58.
    Case(
        "OSS B2C to FR",
        "DE",
        "FR",
        (line(1, "49.90"),),
        ((S, "20", "41.58", "8.32", "49.90"),),
        TreatmentKind.DISTANCE_SALE,
        DE_ID,  # not registered in FR: declared under the home registration (OSS)
    ),
    # IT 22 %: 30.00 × 22/122 = 5.4098 → 5.41, net 24.59.
    # IT reduced 10 %: 2 × 12.50 = 25.00 × 10/110 = 2.2727 → 2.27, net 22.73.
    Case(
        "OSS B2C to IT, two rates",
        "DE",
        "IT",
        (line(1, "30.00"), line(2, "12.50", REDUCED)),
        ((S, "22", "24.59", "5.41", "30.00"), (S, "10", "22.73", "2.27", "25.00")),
        TreatmentKind.DISTANCE_SALE,
        DE_ID,
    ),
    # PL 23 % in PLN: 199.00 × 23/123 = 37.2114 → 37.21, net 161.79. The seller has a PL VAT ID
    # (Pan-EU stock), so the taxing country's ID is printed.
    Case(
        "OSS B2C to PL in PLN",
        "DE",
        "PL",
        (line(1, "199.00"),),
        ((S, "23", "161.79", "37.21", "199.00"),),
        TreatmentKind.DISTANCE_SALE,
        PL_ID,
        currency="PLN",
    ),
    # SE 25 % in SEK: 349.00 × 25/125 = 69.80, net 279.20.
    # SE reduced stays 12 % during the food period: 89.00 × 12/112 = 9.5357 → 9.54, net 79.46.
    Case(
        "OSS B2C to SE in SEK",
        "DE",
        "SE",
        (line(1, "349.00"), line(1, "89.00", REDUCED)),
        ((S, "25", "279.20", "69.80", "349.00"), (S, "12", "79.46", "9.54", "89.00")),
        TreatmentKind.DISTANCE_SALE,
        DE_ID,
        currency="SEK",
    ),
    # FI 25.5 %: 19.90 × 25.5/125.5 = 4.0434 → 4.04, net 15.86.
    Case(
        "OSS B2C to FI at 25.5 %",
        "DE",
        "FI",
        (line(1, "19.90"),),
        ((S, "25.5", "15.86", "4.04", "19.90"),),
        TreatmentKind.DISTANCE_SALE,
        DE_ID,
    ),
    # Below the threshold: DE 19 %: 49.90 × 19/119 = 7.9672 → 7.97, net 41.93.
    Case(
        "B2C to FR below the threshold, taxed in DE",
        "DE",
        "FR",
        (line(1, "49.90"),),
        ((S, "19", "41.93", "7.97", "49.90"),),
        TreatmentKind.DISTANCE_SALE,
        DE_ID,
        seller=BELOW_THRESHOLD,
    ),
    # Net B2B prices: 10 × 15.00 = 150.00 + shipping 5.90 = 155.90, exempt: VAT 0.
    Case(
        "intra-EU B2B with a valid VAT ID",
        "DE",
        "FR",
        (line(10, "15.00"),),
        ((K, "0", "155.90", "0.00", "155.90"),),
        TreatmentKind.INTRA_EU_SUPPLY,
        DE_ID,
        charges=(charge(SHIPPING, "5.90"),),
        prices_include_tax=False,
        business=True,
        buyer_vat_id=FR_BUSINESS,
    ),
    # The same with a bad check digit: taxed as a distance sale in FR, 150.00 × 20 % = 30.00.
    Case(
        "intra-EU B2B with an invalid VAT ID",
        "DE",
        "FR",
        (line(10, "15.00"),),
        ((S, "20", "150.00", "30.00", "180.00"),),
        TreatmentKind.DISTANCE_SALE,
        DE_ID,
        prices_include_tax=False,
        business=True,
        buyer_vat_id=FR_INVALID,
    ),
    # A business with a German VAT ID, goods to AT: DE 19 % on net 100.00 = 19.00.
    Case(
        "B2B with a VAT ID of the ship-from country",
        "DE",
        "AT",
        (line(1, "100.00"),),
        ((S, "19", "100.00", "19.00", "119.00"),),
        TreatmentKind.TAXED_AT_DISPATCH,
        DE_ID,
        prices_include_tax=False,
        business=True,
        buyer_vat_id="DE293847560",
    ),
    # Export to GB in GBP: 2 × 24.99 = 49.98, exempt.
    Case(
        "UK export in GBP",
        "DE",
        "GB",
        (line(2, "24.99"),),
        ((G, "0", "49.98", "0.00", "49.98"),),
        TreatmentKind.EXPORT,
        DE_ID,
        currency="GBP",
    ),
    # Export to CH: 120.00 + shipping 9.90 = 129.90, exempt (the shipping too).
    Case(
        "CH export",
        "DE",
        "CH",
        (line(1, "120.00"),),
        ((G, "0", "129.90", "0.00", "129.90"),),
        TreatmentKind.EXPORT,
        DE_ID,
        charges=(charge(SHIPPING, "9.90"),),
    ),
    # PL stock to a PL consumer, PL VAT in PLN:
    # 59.99 × 23/123 = 11.2176 → 11.22, net 48.77; 2 × 20.00 = 40.00 × 8/108 = 2.9630 → 2.96,
    # net 37.04.
    Case(
        "Pan-EU: PL stock to a PL buyer",
        "PL",
        "PL",
        (line(1, "59.99"), line(2, "20.00", REDUCED)),
        ((S, "23", "48.77", "11.22", "59.99"), (S, "8", "37.04", "2.96", "40.00")),
        TreatmentKind.DOMESTIC,
        PL_ID,
        currency="PLN",
    ),
    # PL stock to a CZ consumer: CZ 21 %, 35.00 × 21/121 = 6.0744 → 6.07, net 28.93; no CZ
    # registration, so the home (OSS) VAT ID.
    Case(
        "Pan-EU: PL stock to a CZ consumer",
        "PL",
        "CZ",
        (line(1, "35.00"),),
        ((S, "21", "28.93", "6.07", "35.00"),),
        TreatmentKind.DISTANCE_SALE,
        DE_ID,
    ),
    # Lines: 30.00 at 19 % → VAT 4.79 (4.7899), net 25.21; 20.00 at 7 % → VAT 1.31 (1.3084),
    # net 18.69. Shipping 4.90 by nets 25.21 : 18.69 (sum 43.90):
    # 19 % part 4.90 × 25.21/43.90 = 2.8139 → 2.81, VAT 2.81 × 19/119 = 0.4487 → 0.45, net 2.36;
    # 7 % part the rest 2.09, VAT 2.09 × 7/107 = 0.1367 → 0.14, net 1.95.
    # 19 %: net 25.21 + 2.36 = 27.57, VAT 4.79 + 0.45 = 5.24, gross 32.81.
    # 7 %: net 18.69 + 1.95 = 20.64, VAT 1.31 + 0.14 = 1.45, gross 22.09.
    Case(
        "shipping split across 19 % and 7 %",
        "DE",
        "DE",
        (line(1, "30.00"), line(1, "20.00", REDUCED)),
        ((S, "19", "27.57", "5.24", "32.81"), (S, "7", "20.64", "1.45", "22.09")),
        TreatmentKind.DOMESTIC,
        DE_ID,
        charges=(charge(SHIPPING, "4.90"),),
    ),
    # Net prices. Lines: 4 × 10.00 = 40.00 at 19 % (VAT 7.60); 2 × 5.00 = 10.00 at 7 % (0.70).
    # Nets 40 : 10. Gift wrap 3.00: 2.40 at 19 % (VAT 0.456 → 0.46), 0.60 at 7 % (0.042 → 0.04).
    # Shipping 5.00: 4.00 at 19 % (VAT 0.76), 1.00 at 7 % (VAT 0.07).
    # 19 %: net 40 + 2.40 + 4.00 = 46.40, VAT 7.60 + 0.46 + 0.76 = 8.82, gross 55.22.
    # 7 %: net 10 + 0.60 + 1.00 = 11.60, VAT 0.70 + 0.04 + 0.07 = 0.81, gross 12.41.
    Case(
        "gift wrap and shipping split across two rates, net prices",
        "DE",
        "DE",
        (line(4, "10.00"), line(2, "5.00", REDUCED)),
        ((S, "19", "46.40", "8.82", "55.22"), (S, "7", "11.60", "0.81", "12.41")),
        TreatmentKind.DOMESTIC,
        DE_ID,
        charges=(charge(GIFT_WRAP, "3.00"), charge(SHIPPING, "5.00")),
        prices_include_tax=False,
    ),
    # A promotion of 5.00 on the first line: 2 × 25.00 − 5.00 = 45.00 at 19 %,
    # VAT 45.00 × 19/119 = 7.1849 → 7.18, net 37.82; 10.00 at 7 %: VAT 0.6542 → 0.65, net 9.35.
    Case(
        "a promotion on a line",
        "DE",
        "DE",
        (line(2, "25.00", discount="5.00"), line(1, "10.00", REDUCED)),
        ((S, "19", "37.82", "7.18", "45.00"), (S, "7", "9.35", "0.65", "10.00")),
        TreatmentKind.DOMESTIC,
        DE_ID,
    ),
    # Lines: 60.00 at 19 % → VAT 9.58 (9.5798), net 50.42; 40.00 at 7 % → VAT 2.62 (2.6168),
    # net 37.38. An order promotion of −10.00 by nets 50.42 : 37.38 (sum 87.80):
    # 19 % part −10 × 50.42/87.80 = −5.7426 → −5.74, VAT −5.74 × 19/119 = −0.9165 → −0.92,
    # net −4.82; 7 % part the rest −4.26, VAT −4.26 × 7/107 = −0.2787 → −0.28, net −3.98.
    # 19 %: net 50.42 − 4.82 = 45.60, VAT 9.58 − 0.92 = 8.66, gross 54.26.
    # 7 %: net 37.38 − 3.98 = 33.40, VAT 2.62 − 0.28 = 2.34, gross 35.74.
    Case(
        "an order-level promotion split like a charge",
        "DE",
        "DE",
        (line(1, "60.00"), line(1, "40.00", REDUCED)),
        ((S, "19", "45.60", "8.66", "54.26"), (S, "7", "33.40", "2.34", "35.74")),
        TreatmentKind.DOMESTIC,
        DE_ID,
        charges=(charge(OTHER, "-10.00"),),
    ),
    # 3 × 9.99 = 29.97 at 19 %. Ours: 29.97 × 19/119 = 4.7851 → 4.79. Amazon rounded per unit,
    # 9.99 × 19/119 = 1.5950 → 1.60, × 3 = 4.80, and wins: VAT 4.80, net 25.17.
    # Its shipping 3.99 with VAT 0.64 (3.99 × 19/119 = 0.6371 → 0.64): net 3.35.
    # 19 %: net 25.17 + 3.35 = 28.52, VAT 4.80 + 0.64 = 5.44, gross 33.96.
    Case(
        "Amazon's tax, a cent off ours, wins",
        "DE",
        "DE",
        (line(3, "9.99", supplied_tax="4.80"),),
        ((S, "19", "28.52", "5.44", "33.96"),),
        TreatmentKind.DOMESTIC,
        DE_ID,
        charges=(charge(SHIPPING, "3.99", supplied_tax="0.64"),),
    ),
)


def treatment_for(case: Case) -> Treatment:
    return treatment_of(
        case.seller,
        ship_from=case.ship_from,
        ship_to=case.ship_to,
        buyer_is_business=case.business,
        buyer_vat_id=case.buyer_vat_id,
    )


def test_the_table_has_the_cases_the_issue_asks_for() -> None:
    assert len(CASES) >= 15
    assert {"GBP", "PLN", "SEK"} <= {case.currency for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_acceptance_case(case: Case) -> None:
    treatment = treatment_for(case)
    sale = Sale(DAY, case.currency, case.lines, case.charges, case.prices_include_tax)
    result = calculate(sale, treatment)

    assert (treatment.kind, treatment.seller_vat_id) == (case.kind, case.seller_vat_id)
    expected = [
        (category, D(rate), D(net), D(vat), D(gross))
        for category, rate, net, vat, gross in case.per_rate
    ]
    assert [(g.category, g.rate, g.net, g.tax, g.gross) for g in result.breakdown] == expected
    assert result.total == OrderTotals(
        net=sum((row[2] for row in expected), D(0)),
        tax=sum((row[3] for row in expected), D(0)),
        gross=sum((row[4] for row in expected), D(0)),
    )
    assert result.warnings == ()


# --- the treatment rules --------------------------------------------------------------------------


def test_an_intra_community_supply_carries_both_vat_ids_and_its_note() -> None:
    treatment = treatment_of(
        SELLER, ship_from="DE", ship_to="FR", buyer_is_business=True, buyer_vat_id="fr 40303265045"
    )
    assert (treatment.taxing_country, treatment.seller_vat_id) == ("DE", DE_ID)
    assert treatment.buyer_vat_id == FR_BUSINESS
    assert treatment.exemption_code == "VATEX-EU-IC"
    assert (treatment.category, treatment.category_for(D(0))) == (K, K)
    assert treatment.note("de") == (
        "Steuerfreie innergemeinschaftliche Lieferung (§ 4 Nr. 1b, § 6a UStG)"
    )
    assert treatment.note("en") == (
        "VAT-exempt intra-Community supply of goods (Article 138 of Directive 2006/112/EC)"
    )
    assert treatment.explanation == (
        "Intra-community supply from DE to FR, to a business with VAT ID FR40303265045: "
        "exempt in DE."
    )


def test_an_export_carries_its_note() -> None:
    treatment = treatment_of(SELLER, ship_from="DE", ship_to="CH")
    assert treatment.exemption_code == "VATEX-EU-G"
    assert (treatment.category, treatment.category_for(D(0))) == (G, G)
    assert treatment.note("de") == "Steuerfreie Ausfuhrlieferung (§ 4 Nr. 1a, § 6 UStG)"
    assert treatment.note("fr") == (
        "Exonération de TVA, exportation (article 146 de la directive 2006/112/CE)"
    )


@pytest.mark.parametrize("ship_to", ["FR", "NO"])
def test_an_exemption_in_another_member_state_cites_the_vat_directive(ship_to: str) -> None:
    treatment = treatment_of(
        SELLER, ship_from="PL", ship_to=ship_to, buyer_is_business=True, buyer_vat_id=FR_BUSINESS
    )
    assert (treatment.taxing_country, treatment.seller_vat_id) == ("PL", PL_ID)
    note = treatment.note("de")
    assert note is not None
    assert "MwStSystRL" in note
    assert "UStG" not in note  # German law does not exempt a supply from Poland


def test_every_exemption_has_a_note_in_every_document_language() -> None:
    exempt = [
        treatment_of(SELLER, ship_from="DE", ship_to="GB"),
        treatment_of(
            SELLER, ship_from="DE", ship_to="FR", buyer_is_business=True, buyer_vat_id=FR_BUSINESS
        ),
    ]
    for treatment in exempt:
        notes = [treatment.note(language) for language in LANGUAGES]
        assert all(notes)
        assert len(set(notes)) == len(LANGUAGES)
    taxed = treatment_of(SELLER, ship_from="DE", ship_to="FR")
    assert [taxed.note(language) for language in LANGUAGES] == [None] * len(LANGUAGES)
    assert taxed.exemption_code is None
    with pytest.raises(InvalidInput, match="'da' is not a document language"):
        taxed.note("da")


def test_an_invalid_vat_id_taxes_the_sale_and_says_why() -> None:
    treatment = treatment_of(
        SELLER, ship_from="DE", ship_to="FR", buyer_is_business=True, buyer_vat_id=FR_INVALID
    )
    assert (treatment.kind, treatment.taxing_country) == (TreatmentKind.DISTANCE_SALE, "FR")
    assert treatment.buyer_vat_id is None
    assert treatment.explanation == (
        "The buyer's VAT ID 'FR40303265046' is not a valid EU VAT ID (the number's checksum or "
        "check digit is invalid), so the sale is not exempt. Distance sale from DE to FR: FR "
        "VAT (seller.distance_sales_at_destination is on)."
    )


def test_a_vat_id_counts_unless_the_buyer_is_said_to_be_a_consumer() -> None:
    assert (
        treatment_of(SELLER, ship_from="DE", ship_to="FR", buyer_vat_id=FR_BUSINESS).kind
        is TreatmentKind.INTRA_EU_SUPPLY
    )
    treatment = treatment_of(
        SELLER, ship_from="DE", ship_to="FR", buyer_vat_id=FR_BUSINESS, buyer_is_business=False
    )
    assert (treatment.kind, treatment.buyer_vat_id) == (TreatmentKind.DISTANCE_SALE, None)
    assert treatment.explanation.startswith(
        "The buyer's VAT ID FR40303265045 is ignored: the buyer is not a business."
    )
    without_id = treatment_of(SELLER, ship_from="DE", ship_to="FR", buyer_is_business=True)
    assert (without_id.kind, without_id.taxing_country) == (TreatmentKind.DISTANCE_SALE, "FR")


@pytest.mark.parametrize("vat_id", ["EL094259216", "GR094259216"])
def test_greek_vat_ids_are_written_el(vat_id: str) -> None:
    treatment = treatment_of(
        SELLER, ship_from="DE", ship_to="GR", buyer_is_business=True, buyer_vat_id=vat_id
    )
    assert (treatment.kind, treatment.buyer_vat_id) == (
        TreatmentKind.INTRA_EU_SUPPLY,
        "EL094259216",
    )


def test_a_northern_irish_vat_id_does_not_make_an_eu_sale_exempt() -> None:
    treatment = treatment_of(
        SELLER, ship_from="DE", ship_to="IE", buyer_is_business=True, buyer_vat_id="XI980780684"
    )
    assert (treatment.kind, treatment.taxing_country) == (TreatmentKind.DISTANCE_SALE, "IE")
    assert "XI980780684 is not of an EU member state" in treatment.explanation


def test_the_threshold_covers_only_sales_from_home() -> None:
    seller = SellerTaxProfile("DE", {"DE": DE_ID, "PL": PL_ID}, distance_sales_at_destination=False)
    from_home = treatment_of(seller, ship_from="DE", ship_to="FR")
    from_poland = treatment_of(seller, ship_from="PL", ship_to="FR")
    assert (from_home.taxing_country, from_poland.taxing_country) == ("DE", "FR")
    assert "covers only sales from DE" in from_poland.explanation


def test_stock_abroad_needs_the_vat_id_of_its_country() -> None:
    with pytest.raises(DomainError) as missing:
        treatment_of(SELLER, ship_from="FR", ship_to="FR")
    assert str(missing.value) == (
        "Goods shipped from FR need your FR VAT ID: stock held there makes you liable to "
        "register for VAT in it. Set seller.vat_ids.FR in sellerbridge.toml ([seller] vat_ids = "
        '{FR = "FR…"}).'
    )
    with pytest.raises(DomainError, match=r'seller.vat_ids.GR .*\{GR = "EL…"\}'):
        treatment_of(SELLER, ship_from="GR", ship_to="DE")


def test_an_intra_community_supply_needs_the_sellers_vat_id() -> None:
    unregistered = SellerTaxProfile("DE")
    with pytest.raises(DomainError, match="needs your DE VAT ID on the invoice"):
        treatment_of(
            unregistered,
            ship_from="DE",
            ship_to="FR",
            buyer_is_business=True,
            buyer_vat_id=FR_BUSINESS,
        )
    taxed = treatment_of(unregistered, ship_from="DE", ship_to="FR")
    assert taxed.seller_vat_id is None


def test_goods_from_outside_the_eu_are_refused_unless_sold_there() -> None:
    with pytest.raises(DomainError, match="Goods shipped from GB to DE cannot be taxed"):
        treatment_of(SELLER, ship_from="GB", ship_to="DE")
    uk_seller = SellerTaxProfile("DE", {"DE": DE_ID, "GB": "GB980780684"})
    treatment = treatment_of(uk_seller, ship_from="uk", ship_to="GB")
    assert (treatment.kind, treatment.seller_vat_id) == (TreatmentKind.DOMESTIC, "GB980780684")


def test_seller_vat_ids_are_checked_when_the_profile_is_made() -> None:
    with pytest.raises(InvalidFields) as refused:
        SellerTaxProfile(
            "Germany",
            {"pl": DE_ID, "FR": FR_INVALID, "GB": "GB123", "CZ": "CZ25123891"},
        )
    assert [problem.field for problem in refused.value.problems] == [
        "home_country",
        "seller.vat_ids.pl",
        "seller.vat_ids.FR",
        "seller.vat_ids.GB",
    ]
    assert "DE136695976 is a VAT ID of DE, not of PL" in str(refused.value)
    profile = SellerTaxProfile(" de ", {"cz": "cz 25123891"})
    assert (profile.home_country, profile.vat_ids) == ("DE", {"CZ": "CZ25123891"})


# --- amounts supplied by Amazon -------------------------------------------------------------------


def test_a_supplied_tax_at_another_known_rate_wins_with_a_warning() -> None:
    """Coffee is 5.5 % in France, where the reduced class gives 10 %."""
    # 10.55 × 5.5/105.5 = 0.55
    sale = Sale(DAY, "EUR", (line(1, "10.55", REDUCED, supplied_tax="0.55"),))
    result = calculate(sale, treatment_of(SELLER, ship_from="DE", ship_to="FR"))
    (coffee,) = result.lines
    assert (coffee.rate, coffee.net, coffee.tax, coffee.gross) == (
        D("5.5"),
        D("10.00"),
        D("0.55"),
        D("10.55"),
    )
    assert result.warnings == (
        "line 1: The VAT supplied (0.55 in 10.55 EUR) is 5.5 %, not the 10 % of the tax "
        "treatment; the supplied amounts are used.",
    )


def test_a_supplied_tax_at_no_known_rate_is_kept_at_the_treatments_rate() -> None:
    sale = Sale(DAY, "EUR", (line(1, "10.00", supplied_tax="3.00"),))
    result = calculate(sale, treatment_of(SELLER, ship_from="DE", ship_to="DE"))
    assert [(g.rate, g.net, g.tax) for g in result.breakdown] == [(D(19), D("7.00"), D("3.00"))]
    assert result.warnings == (
        "line 1: The VAT supplied (3.00 in 10.00 EUR) matches no VAT rate; it is shown at 19 %.",
    )


def test_a_supplied_charge_is_not_split() -> None:
    # 4.90 × 19/119 = 0.7824 → 0.78: Amazon taxed this shipping at 19 % only.
    lines = (line(1, "30.00"), line(1, "20.00", REDUCED))
    sale = Sale(DAY, "EUR", lines, (charge(SHIPPING, "4.90", supplied_tax="0.78"),))
    result = calculate(sale, treatment_of(SELLER, ship_from="DE", ship_to="DE"))
    (shipping,) = result.charges
    assert [(p.rate, p.net, p.tax, p.gross) for p in shipping.parts] == [
        (D(19), D("4.12"), D("0.78"), D("4.90"))
    ]


def test_a_supplied_tax_is_checked() -> None:
    domestic = treatment_of(SELLER, ship_from="DE", ship_to="DE")
    for supplied, problem in (
        ("-1.00", "line 1: supplied_tax: -1.00 must have the sign of the amount 10.00"),
        ("10.01", "line 1: supplied_tax: 10.01 is more than the gross amount 10.00"),
        ("0.001", "line 1: supplied_tax: 0.001 has more than 2 decimals"),
    ):
        with pytest.raises(InvalidFields) as refused:
            calculate(Sale(DAY, "EUR", (line(1, "10.00", supplied_tax=supplied),)), domestic)
        assert str(refused.value).startswith(problem)


# --- charge splits --------------------------------------------------------------------------------


def test_a_charge_on_free_goods_takes_the_highest_rate() -> None:
    sale = Sale(
        DAY,
        "EUR",
        (line(1, "0.00"), line(1, "0.00", REDUCED)),
        (charge(SHIPPING, "4.90"),),
    )
    result = calculate(sale, treatment_of(SELLER, ship_from="DE", ship_to="DE"))
    # 4.90 × 19/119 = 0.7824 → 0.78
    assert [(p.rate, p.tax) for p in result.charges[0].parts] == [(D(19), D("0.78"))]


def test_a_part_that_rounds_to_nothing_is_left_out() -> None:
    # 0.01 by nets 8.40 : 9.35 → 0.01 × 8.40/17.75 = 0.0047 → 0.00 at 19 %; 0.01 at 7 %.
    sale = Sale(
        DAY, "EUR", (line(1, "10.00"), line(1, "10.00", REDUCED)), (charge(GIFT_WRAP, "0.01"),)
    )
    result = calculate(sale, treatment_of(SELLER, ship_from="DE", ship_to="DE"))
    assert [(p.rate, p.gross) for p in result.charges[0].parts] == [(D(7), D("0.01"))]


def test_a_zero_rated_line_takes_its_share_of_a_charge() -> None:
    # 10.70 at 7 % → net 10.00; 10.00 at 0 % (category Z). Shipping 3.00 by 10.00 : 10.00:
    # 1.50 at 7 % (VAT 1.50 × 7/107 = 0.0981 → 0.10), 1.50 at 0 %.
    sale = Sale(
        DAY,
        "EUR",
        (line(1, "10.70", REDUCED), line(1, "10.00", TaxClass.ZERO)),
        (charge(SHIPPING, "3.00"),),
    )
    result = calculate(sale, treatment_of(SELLER, ship_from="DE", ship_to="DE"))
    assert [(g.category, g.rate, g.net, g.tax) for g in result.breakdown] == [
        (S, D(7), D("11.40"), D("0.80")),
        (Z, D(0), D("11.50"), D("0.00")),
    ]


def test_a_class_the_taxing_country_lacks_is_refused_naming_the_line() -> None:
    sale = Sale(DAY, "EUR", (line(1, "10.00"), line(1, "25.00", TaxClass.SUPER_REDUCED)))
    with pytest.raises(InvalidFields, match=r"^line 2: No super_reduced VAT rate is known for DK"):
        calculate(sale, treatment_of(SELLER, ship_from="DE", ship_to="DK"))
