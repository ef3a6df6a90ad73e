"""The edges of the HTTP surface: unserved paths, odd SKUs, broken input, plan overrides."""

from __future__ import annotations

from tests.sandbox.harness import LiveSandbox


def test_paths_and_methods_the_sandbox_does_not_serve_answer_in_sp_api_format(
    live: LiveSandbox,
) -> None:
    missing = live.call("GET", "/orders/v0/orders")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NotFound"
    assert missing.headers["x-amzn-RequestId"]
    wrong = live.call("DELETE", "/sellers/v1/account")
    assert wrong.status_code == 405
    assert wrong.json()["errors"][0]["code"] == "MethodNotAllowed"


def test_a_sku_with_a_slash_is_reachable(live: LiveSandbox) -> None:
    seller = live.seller.seller_id
    live.admin("PUT", f"/listings/{seller}/MUG%2FRED", json={"quantity": 3})
    response = live.call(
        "GET",
        f"/listings/2021-08-01/items/{seller}/MUG%2FRED",
        params={"marketplaceIds": "A1PA6795UKMFR9", "includedData": "fulfillmentAvailability"},
    )
    assert response.status_code == 200
    assert response.json()["sku"] == "MUG/RED"
    assert response.json()["fulfillmentAvailability"][0]["quantity"] == 3


def test_broken_input_gets_a_400_not_a_crash(live: LiveSandbox) -> None:
    ancient = live.call(
        "GET",
        "/orders/2026-01-01/orders",
        params={"createdAfter": "0001-01-01T00:00:00+01:00", "marketplaceIds": "A1PA6795UKMFR9"},
    )
    assert ancient.status_code == 400
    forged = live.call(
        "GET", "/reports/2021-06-30/reports", params={"nextToken": "eyJzaW5jZSI6MX0"}
    )
    assert forged.status_code == 400
    not_a_number = live.call(
        "POST",
        "/mfn/v0/eligibleShippingServices",
        content=b'{"ShipmentRequestDetails": {"Weight": {"Value": NaN, "Unit": "g"}}}',
        headers={"content-type": "application/json"},
    )
    assert not_a_number.status_code == 400
    assert "NaN is not a JSON number" in not_a_number.json()["errors"][0]["details"]
    assert live.http.post("/_sandbox/sellers", json=["not", "an", "object"]).status_code == 400
    assert live.call("GET", "/sellers/v1/account").status_code == 200  # still serving


def test_admin_routes_name_unknown_sellers_with_404(live: LiveSandbox) -> None:
    response = live.http.put("/_sandbox/sellers/NOPE/account-health", json={})
    assert response.status_code == 404
    assert "NOPE" in response.json()["errors"][0]["message"]


def test_a_plan_override_leaves_other_operations_buckets_alone(live: LiveSandbox) -> None:
    for _ in range(15):  # getAccount: burst 15
        assert live.call("GET", "/sellers/v1/account").status_code == 200
    live.admin(
        "PUT", "/usage-plans/sellers.getMarketplaceParticipations", json={"rate": 9, "burst": 9}
    )
    assert live.call("GET", "/sellers/v1/account").status_code == 429  # still empty
