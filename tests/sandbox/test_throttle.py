"""Usage plans: Amazon's default rate and burst per (seller, operation), sped up by time scale."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sellerbridge.sandbox import spec
from sellerbridge.sandbox.errors import ApiError
from sellerbridge.sandbox.throttle import Throttle
from tests.sandbox.harness import LiveSandbox, assert_conforms

SEARCH = "/orders/2026-01-01/orders"


def search(live: LiveSandbox, rate: str = "0.0056") -> int:
    response = live.call(
        "GET", SEARCH, params={"createdAfter": "2026-01-01T00:00:00Z",
                               "marketplaceIds": "A1PA6795UKMFR9"},
    )  # fmt: skip
    if response.status_code == 429:
        assert_conforms("orders.searchOrders", response)
        assert response.json()["errors"][0]["code"] == "QuotaExceeded"
    else:
        assert response.headers["x-amzn-RateLimit-Limit"] == rate  # the applied, scaled rate
    return response.status_code


def test_twenty_five_rapid_searches_at_amazons_pace(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(time_scale=1)
    statuses = Counter(search(live) for _ in range(25))
    assert statuses == Counter({200: 20, 429: 5})
    time.sleep(0.5)  # at 0.0056 requests/s the next token is three minutes away
    assert search(live) == 429


def test_at_time_scale_600_the_bucket_refills_600_times_faster(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(time_scale=600)
    assert Counter(search(live, "3.36") for _ in range(25)) == Counter({200: 20, 429: 5})
    response = live.call(
        "GET", SEARCH, params={"createdAfter": "2026-01-01T00:00:00Z",
                               "marketplaceIds": "A1PA6795UKMFR9"},
    )  # fmt: skip
    assert response.status_code == 429
    time.sleep(1.0)  # 0.0056 × 600 = 3.36 tokens a second
    assert Counter(search(live, "3.36") for _ in range(3)) == Counter({200: 3})


def test_the_bucket_refills_at_the_documented_rate() -> None:
    now = [0.0]
    throttle = Throttle(time_scale=1, clock=lambda: now[0])
    operation = spec.operation("orders.searchOrders")

    def allowed() -> bool:
        try:
            throttle.take("SELLER", operation)
        except ApiError as error:
            if error.status != 429:
                raise
            return False
        return True

    assert [allowed() for _ in range(21)] == [True] * 20 + [False]
    now[0] += 1 / 0.0056 - 1  # a second short of one token
    assert not allowed()
    now[0] += 1
    assert allowed()
    assert not allowed()
    throttle_600 = Throttle(time_scale=600, clock=lambda: now[0])
    assert throttle_600.plan(operation) == (0.0056 * 600, 20)


def test_buckets_are_per_seller_and_operation(live: LiveSandbox) -> None:
    other = live.admin("POST", "/sellers", json={"name": "Zweiter Händler", "marketplaces": ["DE"]})
    other_seller = live.sandbox.state.sellers[other["seller_id"]]
    for _ in range(15):  # getMarketplaceParticipations: burst 15
        assert live.call("GET", "/sellers/v1/marketplaceParticipations").status_code == 200
    assert live.call("GET", "/sellers/v1/marketplaceParticipations").status_code == 429
    assert live.call("GET", "/sellers/v1/account").status_code == 200  # another operation
    other_token = live.token(other_seller)
    response = live.call("GET", "/sellers/v1/marketplaceParticipations", token=other_token)
    assert response.status_code == 200  # another seller


def test_a_raised_usage_plan_applies_and_shows_in_the_header(live: LiveSandbox) -> None:
    live.admin("PUT", "/usage-plans/sellers.getAccount", json={"rate": 5, "burst": 40})
    responses = [live.call("GET", "/sellers/v1/account") for _ in range(40)]
    assert all(response.status_code == 200 for response in responses)
    assert responses[0].headers["x-amzn-RateLimit-Limit"] == "5"
