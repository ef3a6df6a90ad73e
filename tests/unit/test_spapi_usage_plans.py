"""The client's usage plans are Amazon's: equal to the plans in the vendored official models."""

from __future__ import annotations

import pytest

from sellerbridge.channels.amazon.spapi.usage_plans import DEFAULT_PLANS, SUBMISSION_LIMITS, plan
from sellerbridge.sandbox import spec

CALLED = {
    "orders.searchOrders",
    "orders.getOrder",
    "ordersV0.confirmShipment",
    "ordersV0.getOrderBuyerInfo",
    "sellers.getMarketplaceParticipations",
    "sellers.getAccount",
    "tokens.createRestrictedDataToken",
    "feeds.createFeedDocument",
    "feeds.createFeed",
    "feeds.getFeed",
    "feeds.getFeeds",
    "feeds.cancelFeed",
    "feeds.getFeedDocument",
    "reports.createReport",
    "reports.getReport",
    "reports.getReports",
    "reports.cancelReport",
    "reports.getReportDocument",
    "listings.getListingsItem",
    "listings.patchListingsItem",
    "listings.searchListingsItems",
    "fbaInventory.getInventorySummaries",
    "mfn.getEligibleShipmentServices",
    "mfn.createShipment",
    "mfn.getShipment",
    "mfn.cancelShipment",
    "finances.listFinancialEventsByOrderId",
    "finances.listFinancialEvents",
}
"""Every operation sellerbridge calls (issue 4 and the exporters that follow it)."""


@pytest.mark.parametrize("operation", sorted(DEFAULT_PLANS))
def test_each_plan_equals_amazons_model(operation: str) -> None:
    model = spec.operation(operation)
    assert DEFAULT_PLANS[operation] == (model.rate, model.burst)


def test_every_operation_sellerbridge_calls_has_a_plan() -> None:
    assert set(DEFAULT_PLANS) == CALLED


def test_the_listings_feed_limit_is_five_per_five_minutes_and_stricter_than_create_feed() -> None:
    rate, burst = SUBMISSION_LIMITS["feeds.createFeed.JSON_LISTINGS_FEED"]
    assert rate * 300 == pytest.approx(5.0)
    assert burst == 5
    assert burst < DEFAULT_PLANS["feeds.createFeed"][1]


def test_an_operation_without_a_plan_is_refused() -> None:
    with pytest.raises(ValueError, match=r"ordersV0\.getOrders"):
        plan("ordersV0.getOrders")
