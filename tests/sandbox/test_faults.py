"""Every kind of injected fault, switched on and seen from a client's side of the wire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.sandbox.harness import LiveSandbox, assert_conforms

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"
OPERATION = "sellers.getMarketplaceParticipations"


def faults(live: LiveSandbox, *rules: dict[str, Any]) -> None:
    live.admin("PUT", "/faults", json=list(rules))


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("throttle", 429, "QuotaExceeded"),
        ("error500", 500, "InternalFailure"),
        ("error503", 503, "ServiceUnavailable"),
    ],
)
def test_error_faults_answer_like_amazon(
    live: LiveSandbox, kind: str, status: int, code: str
) -> None:
    faults(live, {"operation": OPERATION, "kind": kind})
    response = live.call("GET", PARTICIPATIONS)
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert_conforms(OPERATION, response)


def test_a_hang_keeps_the_client_waiting_until_its_timeout(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(hang_seconds=5)
    faults(live, {"operation": OPERATION, "kind": "hang"})
    with pytest.raises(httpx.ReadTimeout):
        live.call("GET", PARTICIPATIONS, timeout=0.5)


def test_a_reset_breaks_the_connection(live: LiveSandbox) -> None:
    faults(live, {"operation": OPERATION, "kind": "reset"})
    with pytest.raises(httpx.RemoteProtocolError):
        live.call("GET", PARTICIPATIONS)


def test_a_malformed_body_is_not_json(live: LiveSandbox) -> None:
    faults(live, {"operation": OPERATION, "kind": "malformed"})
    response = live.call("GET", PARTICIPATIONS)
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        response.json()


def test_a_lost_response_was_applied_all_the_same(live: LiveSandbox) -> None:
    operation = "tokens.createRestrictedDataToken"
    faults(live, {"operation": operation, "kind": "lost_response"})
    before = sum(t.kind == "rdt" for t in live.sandbox.state.tokens.values())
    with pytest.raises(httpx.RemoteProtocolError):
        live.call(
            "POST",
            "/tokens/2021-03-01/restrictedDataToken",
            json={"restrictedResources": [{"method": "GET", "path": "/mfn/v0/shipments/{id}"}]},
        )
    after = sum(t.kind == "rdt" for t in live.sandbox.state.tokens.values())
    assert after == before + 1  # the token was issued; the client never heard of it
    logged = live.admin("GET", "/requests", params={"operation": operation})
    assert logged[-1]["fault"] == "lost_response"
    assert logged[-1]["status"] == 200


def test_rules_hit_a_limited_number_of_requests_of_their_operation(live: LiveSandbox) -> None:
    faults(live, {"operation": OPERATION, "kind": "error503", "remaining": 2})
    statuses = [live.call("GET", PARTICIPATIONS).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert live.call("GET", "/sellers/v1/account").status_code == 200  # other operations unhurt


def test_a_probability_gives_a_storm_not_a_wall(start_sandbox: Callable[..., LiveSandbox]) -> None:
    live = start_sandbox()
    live.admin("PUT", f"/usage-plans/{OPERATION}", json={"rate": 1000, "burst": 1000})
    faults(live, {"operation": "*", "kind": "throttle", "probability": 0.3})
    statuses = [live.call("GET", PARTICIPATIONS).status_code for _ in range(200)]
    throttled = statuses.count(429)
    assert 30 < throttled < 90  # about 60 expected
    assert statuses.count(200) == 200 - throttled


def test_the_same_seed_meets_the_same_faults(start_sandbox: Callable[..., LiveSandbox]) -> None:
    def run() -> list[int]:
        live = start_sandbox(seed=42)
        live.admin("PUT", f"/usage-plans/{OPERATION}", json={"rate": 1000, "burst": 1000})
        faults(live, {"operation": OPERATION, "kind": "error500", "probability": 0.5})
        return [live.call("GET", PARTICIPATIONS).status_code for _ in range(30)]

    assert run() == run()


def test_bad_rules_are_refused(live: LiveSandbox) -> None:
    response = live.http.put("/_sandbox/faults", json=[{"kind": "meteor"}])
    assert response.status_code == 400
    assert "Invalid fault rules" in response.json()["errors"][0]["message"]
