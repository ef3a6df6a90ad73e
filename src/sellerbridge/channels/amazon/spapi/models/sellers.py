"""Sellers API v1: ``getMarketplaceParticipations`` as sellerbridge reads it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class Marketplace(_Model):
    id: str
    name: str
    country_code: str = Field(alias="countryCode")
    default_currency_code: str = Field(alias="defaultCurrencyCode")
    default_language_code: str = Field(alias="defaultLanguageCode")
    domain_name: str = Field(alias="domainName")


class Participation(_Model):
    is_participating: bool = Field(alias="isParticipating")
    has_suspended_listings: bool = Field(alias="hasSuspendedListings")


class MarketplaceParticipation(_Model):
    marketplace: Marketplace
    participation: Participation
    store_name: str = Field(alias="storeName")


class GetMarketplaceParticipationsResponse(_Model):
    payload: list[MarketplaceParticipation] = Field(default_factory=list)
