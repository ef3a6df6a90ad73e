"""Amazon's marketplaces the sandbox serves (ids from Amazon's marketplace table)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marketplace:
    id: str
    country_code: str  # ISO 3166-1, as Amazon reports it (the UK marketplace says GB)
    code: str  # Amazon's short code (UK, not GB)
    name: str
    domain: str
    currency: str
    language: str
    region: str


MARKETPLACES: tuple[Marketplace, ...] = (
    Marketplace("A1PA6795UKMFR9", "DE", "DE", "Amazon.de", "www.amazon.de", "EUR", "de_DE", "EU"),
    Marketplace("A13V1IB3VIYZZH", "FR", "FR", "Amazon.fr", "www.amazon.fr", "EUR", "fr_FR", "EU"),
    Marketplace("APJ6JRA9NG5V4", "IT", "IT", "Amazon.it", "www.amazon.it", "EUR", "it_IT", "EU"),
    Marketplace("A1RKKUPIHCS9HS", "ES", "ES", "Amazon.es", "www.amazon.es", "EUR", "es_ES", "EU"),
    Marketplace("A1805IZSGTT6HS", "NL", "NL", "Amazon.nl", "www.amazon.nl", "EUR", "nl_NL", "EU"),
    Marketplace(
        "AMEN7PMS3EDWL", "BE", "BE", "Amazon.com.be", "www.amazon.com.be", "EUR", "fr_BE", "EU"
    ),
    Marketplace("A1C3SOZRARQ6R3", "PL", "PL", "Amazon.pl", "www.amazon.pl", "PLN", "pl_PL", "EU"),
    Marketplace("A2NODRKZP88ZB9", "SE", "SE", "Amazon.se", "www.amazon.se", "SEK", "sv_SE", "EU"),
    Marketplace("A28R8C7NBKEWEA", "IE", "IE", "Amazon.ie", "www.amazon.ie", "EUR", "en_IE", "EU"),
    Marketplace(
        "A1F83G8C2ARO7P", "GB", "UK", "Amazon.co.uk", "www.amazon.co.uk", "GBP", "en_GB", "EU"
    ),
    Marketplace("ATVPDKIKX0DER", "US", "US", "Amazon.com", "www.amazon.com", "USD", "en_US", "NA"),
)

BY_ID = {marketplace.id: marketplace for marketplace in MARKETPLACES}
BY_CODE = {marketplace.code: marketplace for marketplace in MARKETPLACES}
EUROPE = tuple(marketplace for marketplace in MARKETPLACES if marketplace.region == "EU")

EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
"""The member states of the European Union (for VAT: Great Britain is not one of them)."""
