"""A seller's product catalogue, generated from the seed: what orders and listings refer to.

Every seller gets the same kind of shop — kitchen and coffee goods, some with reduced VAT — so
that orders, listings, FBA inventory and VAT reports all talk about the same SKUs. Products
sold through FBA have their own SKUs (ending in ``-FBA``), as Amazon requires.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# (title, EUR price, reduced VAT rate applies, product type)
_PRODUCTS: tuple[tuple[str, str, bool, str], ...] = (
    ("Espressobohnen Hausmischung 1 kg", "24.90", True, "COFFEE"),
    ("Espressobohnen Crema 500 g", "13.90", True, "COFFEE"),
    ("Filterkaffee Äthiopien Sidamo 250 g", "9.90", True, "COFFEE"),
    ("Grüner Tee Sencha 100 g", "8.90", True, "TEA"),
    ("Earl Grey Blatttee 200 g", "11.50", True, "TEA"),
    ("Rooibos Vanille 150 g", "7.80", True, "TEA"),
    ("Handmühle Edelstahl", "49.00", False, "KITCHEN"),
    ("Elektrische Kegelmahlwerk-Mühle", "129.00", False, "KITCHEN"),
    ("Espressotassen Porzellan (2 Stück)", "24.00", False, "KITCHEN"),
    ("Cappuccinotassen Steingut (4 Stück)", "34.90", False, "KITCHEN"),
    ("Milchkännchen 350 ml", "16.90", False, "KITCHEN"),
    ("French Press 1 l", "29.90", False, "KITCHEN"),
    ("Papierfilter Größe 4 (100 Stück)", "3.49", False, "KITCHEN"),
    ("Handfilter Keramik", "19.90", False, "KITCHEN"),
    ("Wasserkessel Schwanenhals 1 l", "54.00", False, "KITCHEN"),
    ("Kaffeewaage mit Timer", "39.90", False, "KITCHEN"),
    ("Teekanne Glas 1,2 l", "27.50", False, "KITCHEN"),
    ("Tamper 58 mm Edelstahl", "22.90", False, "KITCHEN"),
    ("Entkalker 500 ml", "9.99", False, "HOME"),
    ("Reinigungstabletten (50 Stück)", "12.99", False, "HOME"),
    ("Kaffeedose luftdicht 500 g", "17.90", False, "KITCHEN"),
    ("Barista-Schürze Leinen", "32.00", False, "APPAREL"),
    ("Kakao Trinkschokolade 250 g", "6.90", True, "GROCERY"),
    ("Rohrzucker Sticks (100 Stück)", "4.50", True, "GROCERY"),
)

# Rough exchange rates to price the same goods in the other currencies of Amazon Europe.
EXCHANGE_RATES = {
    "EUR": Decimal(1),
    "GBP": Decimal("0.86"),
    "PLN": Decimal("4.30"),
    "SEK": Decimal("11.50"),
}


@dataclass(frozen=True)
class Product:
    sku: str
    asin: str
    title: str
    product_type: str
    eur_price: Decimal
    reduced_vat: bool
    fulfilled_by_amazon: bool
    gtin: str

    def price(self, currency: str) -> Decimal:
        """The shop price in ``currency``: converted and ending in .90/.99 like a real price."""
        if currency == "EUR":
            return self.eur_price
        raw = self.eur_price * EXCHANGE_RATES[currency]
        whole = raw.to_integral_value(rounding=ROUND_HALF_UP)
        return max(whole - Decimal("0.01"), Decimal("0.99"))


def _ean13(random_: random.Random) -> str:
    digits = "400" + "".join(random_.choice("0123456789") for _ in range(9))
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


def catalogue(seed: int, seller_id: str) -> tuple[Product, ...]:
    """The products of ``seller_id``; the same seed and seller give the same catalogue."""
    random_ = random.Random(f"{seed}:{seller_id}:catalogue")
    products: list[Product] = []
    for index, (title, price, reduced, product_type) in enumerate(_PRODUCTS, start=1):
        asin = "B0" + "".join(
            random_.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8)
        )
        base = Product(
            sku=f"SB-{index:04d}",
            asin=asin,
            title=title,
            product_type=product_type,
            eur_price=Decimal(price),
            reduced_vat=reduced,
            fulfilled_by_amazon=False,
            gtin=_ean13(random_),
        )
        products.append(base)
        if index % 3 == 0:  # every third product is also stocked at Amazon
            products.append(
                Product(
                    sku=f"SB-{index:04d}-FBA",
                    asin=asin,
                    title=title,
                    product_type=product_type,
                    eur_price=Decimal(price),
                    reduced_vat=reduced,
                    fulfilled_by_amazon=True,
                    gtin=base.gtin,
                )
            )
    return tuple(products)
