"""Sellers API v1: the marketplaces a seller takes part in, and its account."""

from __future__ import annotations

from typing import Any

from sellerbridge.sandbox.core import Seller
from sellerbridge.sandbox.framework import Api, Call, Reply
from sellerbridge.sandbox.marketplaces import BY_ID

api = Api()


def _participations(seller: Seller) -> list[dict[str, Any]]:
    participations = []
    for marketplace_id in seller.marketplace_ids:
        marketplace = BY_ID[marketplace_id]
        suspended = marketplace_id in seller.suspended_marketplace_ids
        participations.append(
            {
                "marketplace": {
                    "id": marketplace.id,
                    "name": marketplace.name,
                    "countryCode": marketplace.country_code,
                    "defaultCurrencyCode": marketplace.currency,
                    "defaultLanguageCode": marketplace.language,
                    "domainName": marketplace.domain,
                },
                "participation": {
                    "isParticipating": not suspended,
                    "hasSuspendedListings": suspended,
                },
                "storeName": seller.name,
            }
        )
    return participations


@api.operation("sellers.getMarketplaceParticipations")
def get_marketplace_participations(call: Call) -> Reply:
    return Reply(body={"payload": _participations(call.seller)})


@api.operation("sellers.getAccount")
def get_account(call: Call) -> Reply:
    account = {
        "marketplaceParticipationList": _participations(call.seller),
        "businessType": "PRIVATE_LIMITED",
        "sellingPlan": "PROFESSIONAL",
        "business": {
            "name": call.seller.name,
            "registeredBusinessAddress": {
                "addressLine1": "Musterstraße 1",
                "city": "Berlin",
                "countryCode": "DE",
                "postalCode": "10115",
            },
        },
    }
    return Reply(body={"payload": account})
