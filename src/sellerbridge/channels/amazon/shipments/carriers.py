"""Which Amazon carrier code an ERP carrier name goes out as.

Amazon accepts a shipment confirmation only with a ``carrierCode`` from its own list (required
in every marketplace since 2021-08 in Europe); a carrier it does not list goes out as ``Other``
with the carrier's name in ``carrierName``. A wrong code costs more than ``Other``: Amazon
refuses the confirmation (400), or — reported for 2026 — accepts it and drops the carrier, and a
package without a valid carrier counts against the seller's valid-tracking rate.

Amazon publishes the list only in Seller Central's shipping-confirmation template; no current
official copy was found (``shared/reference/spapi.md`` §6.4). The built-in table therefore maps
only to codes of the known list (the one the sandbox follows): note ``Hermes Logistik Gruppe``,
not ``Hermes``; ``La Poste`` for Colissimo; ``Seur`` as Spanish clients send it. Carriers
missing from that list — PostNL, InPost, PostNord, Evri, Bpost, Österreichische Post — are left
out on purpose and go as ``Other`` with their name, which is what Amazon asks for unlisted
carriers. Where Amazon's current template does list one (or refuses a code of ours), the
``amazon_carrier_codes`` setting maps it, and wins over the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sellerbridge.channels.amazon.spapi.models.orders_v0 import OTHER_CARRIER

_BUILT_IN: dict[str, str] = {
    "DHL": "DHL",
    "DHL Paket": "DHL",
    "DHL Express": "DHL",
    "DHL Parcel": "DHL",
    "DHL eCommerce": "DHL eCommerce",
    "DHL Global Mail": "DHL Global Mail",
    "Deutsche Post": "Deutsche Post",
    "DP": "Deutsche Post",
    "DPD": "DPD",
    "GLS": "GLS",
    "Hermes": "Hermes Logistik Gruppe",
    "Hermes Germany": "Hermes Logistik Gruppe",
    "Hermes Logistik Gruppe": "Hermes Logistik Gruppe",
    "UPS": "UPS",
    "FedEx": "FedEx",
    "Fed Ex": "FedEx",
    "TNT": "TNT",
    "GO!": "GO!",
    "GO Express": "GO!",
    "Royal Mail": "Royal Mail",
    "Parcelforce": "Parcelforce",
    "Yodel": "Yodel",
    "La Poste": "La Poste",
    "Colissimo": "La Poste",
    "Chronopost": "Chronopost",
    "Poste Italiane": "Poste Italiane",
    "SDA": "SDA",
    "SEUR": "Seur",
    "Correos": "Correos",
    "MRW": "MRW",
    "Nacex": "Nacex",
}
"""ERP carrier name → Amazon carrier code (names compared by :func:`carrier_key`)."""


def carrier_key(name: str) -> str:
    """A carrier name as it is compared: case, spaces, hyphens and dots do not matter
    (``"dhl-paket"``, ``"DHL Paket"`` and ``"DHL  paket"`` are one carrier)."""
    return re.sub(r"[\s.\-_]+", " ", name).strip().casefold()


BUILT_IN_CODES: Mapping[str, str] = {carrier_key(name): code for name, code in _BUILT_IN.items()}


@dataclass(frozen=True)
class AmazonCarrier:
    """A carrier as ``confirmShipment`` names it."""

    code: str
    name: str | None = None
    """The carrier's name, sent only with ``Other``."""
    configured: bool = False
    """Whether the code came from the ``amazon_carrier_codes`` setting (not the table)."""

    @property
    def shown_as(self) -> str:
        """How Amazon shows the carrier on the order: the name with ``Other``, else the code."""
        return self.name if self.code == OTHER_CARRIER and self.name else self.code


def amazon_carrier(erp_carrier: str, overrides: Mapping[str, str] | None = None) -> AmazonCarrier:
    """The Amazon carrier code for ``erp_carrier``: the setting's, the table's, or ``Other``."""
    key = carrier_key(erp_carrier)
    configured = {carrier_key(name): code.strip() for name, code in (overrides or {}).items()}
    code, from_setting = configured.get(key), True
    if not code:
        code, from_setting = BUILT_IN_CODES.get(key), False
    if not code or code.casefold() == OTHER_CARRIER.casefold():
        return AmazonCarrier(OTHER_CARRIER, erp_carrier.strip(), configured=from_setting)
    return AmazonCarrier(code, configured=from_setting)


__all__ = ["BUILT_IN_CODES", "AmazonCarrier", "amazon_carrier", "carrier_key"]
