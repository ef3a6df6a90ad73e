"""Amazon's default usage plans for the operations sellerbridge calls.

A plan is (rate in requests per second, burst). Amazon states it in each operation's description
in its official models; ``tests/unit/test_spapi_usage_plans.py`` holds every entry here equal to
the vendored models, so a changed plan fails a test instead of provoking 429s. The plans seed
the token buckets (:mod:`.ratelimit`); a seller with a raised plan is recognised from the
``x-amzn-RateLimit-Limit`` header of the first successful answer.

Operations are named ``<api>.<operationId>`` as in the sandbox, where ``orders`` is the Orders
API v2026-01-01 and ``ordersV0`` the Orders API v0.
"""

from __future__ import annotations

DEFAULT_PLANS: dict[str, tuple[float, int]] = {
    # Orders API v2026-01-01 (reading) and v0 (shipment confirmation, FBA buyers' addresses)
    "orders.searchOrders": (0.0056, 20),
    "orders.getOrder": (0.5, 30),
    "ordersV0.confirmShipment": (2.0, 10),
    "ordersV0.getOrderBuyerInfo": (0.5, 30),
    # Sellers
    "sellers.getMarketplaceParticipations": (0.016, 15),
    "sellers.getAccount": (0.016, 15),
    # Tokens (Restricted Data Tokens)
    "tokens.createRestrictedDataToken": (1.0, 10),
    # Feeds 2021-06-30
    "feeds.createFeedDocument": (0.5, 15),
    "feeds.createFeed": (0.0083, 15),
    "feeds.getFeed": (2.0, 15),
    "feeds.getFeeds": (0.0222, 10),
    "feeds.cancelFeed": (2.0, 15),
    "feeds.getFeedDocument": (0.0222, 10),
    # Reports 2021-06-30
    "reports.createReport": (0.0167, 15),
    "reports.getReport": (2.0, 15),
    "reports.getReports": (0.0222, 10),
    "reports.cancelReport": (0.0222, 10),
    "reports.getReportDocument": (0.0167, 15),
    # Listings Items 2021-08-01
    "listings.getListingsItem": (5.0, 10),
    "listings.patchListingsItem": (5.0, 5),
    "listings.searchListingsItems": (5.0, 5),
    # FBA Inventory v1
    "fbaInventory.getInventorySummaries": (2.0, 2),
    # Merchant Fulfillment v0
    "mfn.getEligibleShipmentServices": (6.0, 12),
    "mfn.createShipment": (2.0, 2),
    "mfn.getShipment": (1.0, 1),
    "mfn.cancelShipment": (1.0, 1),
    # Finances v0
    "finances.listFinancialEventsByOrderId": (0.5, 30),
    "finances.listFinancialEvents": (0.5, 30),
}

SUBMISSION_LIMITS: dict[str, tuple[float, int]] = {
    "feeds.createFeed.JSON_LISTINGS_FEED": (5 / 300, 5),
}
"""Limits some calls count against besides their operation's plan.

Since 2025-05-06 Amazon accepts at most 5 ``JSON_LISTINGS_FEED`` submissions per 5 minutes per
selling partner, whatever ``createFeed``'s plan (which allows a burst of 15) would allow
(developer-docs.amazon.com, "Update: Feed size and rate limit changes for the
JSON_LISTINGS_FEED"). It is not in the models, so it is kept here; a ``createFeed`` of that type
passes ``also_limited_by=("feeds.createFeed.JSON_LISTINGS_FEED",)``.
"""


def plan(name: str) -> tuple[float, int]:
    """The default (rate, burst) of an operation or submission limit."""
    found = DEFAULT_PLANS.get(name) or SUBMISSION_LIMITS.get(name)
    if found is None:
        raise ValueError(
            f"no usage plan is known for {name!r}: add Amazon's default plan to "
            "sellerbridge.channels.amazon.spapi.usage_plans before calling it"
        )
    return found
