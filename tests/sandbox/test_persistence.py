"""With ``--state FILE`` a restarted sandbox carries on where it stopped."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from sellerbridge.sandbox import SandboxConfig
from tests.sandbox.harness import LiveSandbox, serve

FEEDS = "/feeds/2021-06-30"
DE = "A1PA6795UKMFR9"


def submit_feed(live: LiveSandbox, sku: str, quantity: int) -> str:
    document = live.call(
        "POST", f"{FEEDS}/documents", json={"contentType": "application/json; charset=UTF-8"}
    ).json()
    feed = {
        "header": {"sellerId": live.seller.seller_id, "version": "2.0"},
        "messages": [{
            "messageId": 1, "sku": sku, "operationType": "PATCH", "productType": "PRODUCT",
            "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                         "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}],
        }],
    }  # fmt: skip
    httpx.put(
        document["url"],
        json=feed,
        headers={"Content-Type": "application/json; charset=UTF-8"},
    ).raise_for_status()
    created = live.call(
        "POST",
        f"{FEEDS}/feeds",
        json={"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [DE],
              "inputFeedDocumentId": document["feedDocumentId"]},
    )  # fmt: skip
    feed_id: str = created.json()["feedId"]
    return feed_id


def test_everything_survives_a_restart_and_nothing_is_drawn_twice(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    config = SandboxConfig(seed=3, orders=40, state_file=state_file, time_scale=10_000)
    with serve(config) as first:
        created = first.admin("POST", "/sellers", json={"name": "Händler Zwei"})
        token = first.token()
        feed_id = submit_feed(first, "SB-0001", 17)
        while first.call("GET", f"{FEEDS}/feeds/{feed_id}").json()["processingStatus"] != "DONE":
            time.sleep(0.05)
        orders = first.admin("GET", "/orders")
        state_before = first.admin("GET", "/state")
    with serve(config) as second:
        assert second.admin("GET", "/orders") == orders
        assert second.admin("GET", "/state") == state_before
        assert len(second.admin("GET", "/sellers")) == 2  # no second default seller
        assert second.call("GET", "/sellers/v1/account", token=token).status_code == 200
        feed = second.call("GET", f"{FEEDS}/feeds/{feed_id}").json()
        document = second.call("GET", f"{FEEDS}/documents/{feed['resultFeedDocumentId']}")
        assert httpx.get(document.json()["url"]).json()["summary"]["messagesAccepted"] == 1
        # The seeded generator goes on where it stopped: new draws, not the old ones again.
        third = second.admin("POST", "/sellers", json={"name": "Händler Drei"})
        assert third["refresh_token"] != created["refresh_token"]
        assert third["seller_id"] != created["seller_id"]
        new_token = second.lwa(
            grant_type="refresh_token", refresh_token=third["refresh_token"],
            client_id=third["client_id"], client_secret=third["client_secret"],
        ).json()["access_token"]  # fmt: skip
        assert new_token != token
        assert second.call("GET", "/sellers/v1/account", token=token).status_code == 200


def test_the_admin_api_saves_on_demand(
    tmp_path: Path, start_sandbox: Callable[..., LiveSandbox]
) -> None:
    state_file = tmp_path / "sandbox.json"
    live = start_sandbox(state_file=state_file)
    assert live.admin("POST", "/save") == {"saved": str(state_file)}
    assert '"sellers"' in state_file.read_text()
    without = start_sandbox()
    response = without.http.post("/_sandbox/save")
    assert response.status_code == 409


def test_a_restart_draws_what_an_uninterrupted_run_would_draw(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with serve(SandboxConfig(seed=11, state_file=state_file)) as before_restart:
        before_restart.admin("POST", "/sellers", json={"name": "Zwei"})
    with serve(SandboxConfig(seed=11, state_file=state_file)) as after_restart:
        restarted = after_restart.admin("POST", "/sellers", json={"name": "Drei"})
    with serve(SandboxConfig(seed=11)) as uninterrupted:
        uninterrupted.admin("POST", "/sellers", json={"name": "Zwei"})
        straight = uninterrupted.admin("POST", "/sellers", json={"name": "Drei"})
    assert restarted["seller_id"] == straight["seller_id"]
    assert restarted["refresh_token"] == straight["refresh_token"]
