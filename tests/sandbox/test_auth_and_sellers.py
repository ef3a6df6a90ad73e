"""Login with Amazon, access tokens, Restricted Data Tokens and the Sellers API."""

from __future__ import annotations

import httpx

from tests.sandbox.harness import LiveSandbox, assert_conforms

PARTICIPATIONS = "/sellers/v1/marketplaceParticipations"


def test_a_refresh_token_buys_an_hour_of_access(live: LiveSandbox) -> None:
    seller = live.seller
    response = live.lwa(
        grant_type="refresh_token",
        refresh_token=seller.refresh_token,
        client_id=live.app.client_id,
        client_secret=live.app.client_secret,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"].startswith("Atza|")
    participations = live.call("GET", PARTICIPATIONS, token=body["access_token"])
    assert_conforms("sellers.getMarketplaceParticipations", participations)
    countries = {p["marketplace"]["countryCode"] for p in participations.json()["payload"]}
    assert countries == {"DE", "FR", "IT", "ES", "NL", "BE", "PL", "SE", "IE", "GB"}


def test_wrong_credentials_get_the_lwa_errors(live: LiveSandbox) -> None:
    seller = live.seller
    bad_secret = live.lwa(
        grant_type="refresh_token", refresh_token=seller.refresh_token,
        client_id=live.app.client_id, client_secret="wrong",
    )  # fmt: skip
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"
    bad_grant = live.lwa(
        grant_type="refresh_token", refresh_token="Atzr|nope",
        client_id=live.app.client_id, client_secret=live.app.client_secret,
    )  # fmt: skip
    assert bad_grant.status_code == 400
    assert bad_grant.json()["error"] == "invalid_grant"
    assert live.lwa(grant_type="password").json()["error"] == "unsupported_grant_type"


def test_one_app_serves_every_seller_that_authorised_it(live: LiveSandbox) -> None:
    other = live.admin("POST", "/sellers", json={"name": "Zweiter Shop", "marketplaces": ["PL"]})
    assert (other["client_id"], other["client_secret"]) == (
        live.app.client_id,
        live.app.client_secret,
    )
    response = live.lwa(
        grant_type="refresh_token", refresh_token=other["refresh_token"],
        client_id=live.app.client_id, client_secret=live.app.client_secret,
    )  # fmt: skip
    token = response.json()["access_token"]
    payload = live.call("GET", PARTICIPATIONS, token=token).json()["payload"]
    assert [p["marketplace"]["countryCode"] for p in payload] == ["PL"]
    logged = live.admin("GET", "/requests", params={"operation": "lwa.token"})
    assert logged[-1]["seller_id"] == other["seller_id"]
    assert logged[-1]["status"] == 200


def test_grantless_tokens_cannot_read_seller_data(live: LiveSandbox) -> None:
    response = live.lwa(
        grant_type="client_credentials", scope="sellingpartnerapi::notifications",
        client_id=live.app.client_id, client_secret=live.app.client_secret,
    )  # fmt: skip
    assert response.status_code == 200
    denied = live.call("GET", PARTICIPATIONS, token=response.json()["access_token"])
    assert denied.status_code == 403
    assert_conforms("sellers.getMarketplaceParticipations", denied)


def test_expired_revoked_and_missing_tokens_are_refused_with_403(live: LiveSandbox) -> None:
    token = live.token()
    assert live.call("GET", PARTICIPATIONS, token=token).status_code == 200
    live.admin("POST", "/tokens/expire")
    expired = live.call("GET", PARTICIPATIONS, token=token)
    assert expired.status_code == 403
    assert expired.json()["errors"][0]["details"] == "The access token you provided has expired."
    assert_conforms("sellers.getMarketplaceParticipations", expired)

    fresh = live.lwa(
        grant_type="refresh_token", refresh_token=live.seller.refresh_token,
        client_id=live.app.client_id, client_secret=live.app.client_secret,
    ).json()["access_token"]  # fmt: skip
    live.admin("POST", f"/sellers/{live.seller.seller_id}/revoke")
    assert live.call("GET", PARTICIPATIONS, token=fresh).status_code == 403
    refused = live.lwa(
        grant_type="refresh_token", refresh_token=live.seller.refresh_token,
        client_id=live.app.client_id, client_secret=live.app.client_secret,
    )  # fmt: skip
    assert refused.json()["error"] == "invalid_grant"
    missing = live.http.get(PARTICIPATIONS)
    assert missing.status_code == 403
    assert missing.headers["x-amzn-RequestId"]


def test_authorising_again_gives_a_new_refresh_token_and_the_old_one_stays_dead(
    live: LiveSandbox,
) -> None:
    old = live.seller.refresh_token
    live.admin("POST", f"/sellers/{live.seller.seller_id}/revoke")
    renewed = live.admin("POST", f"/sellers/{live.seller.seller_id}/authorise")

    def grant(refresh_token: str) -> httpx.Response:
        return live.lwa(
            grant_type="refresh_token", refresh_token=refresh_token,
            client_id=live.app.client_id, client_secret=live.app.client_secret,
        )  # fmt: skip

    assert renewed["refresh_token"] != old
    assert grant(old).json()["error"] == "invalid_grant"
    token = grant(renewed["refresh_token"]).json()["access_token"]
    assert live.call("GET", PARTICIPATIONS, token=token).status_code == 200


def test_a_suspended_marketplace_shows_in_the_participations(live: LiveSandbox) -> None:
    live.admin("POST", f"/sellers/{live.seller.seller_id}/marketplaces/FR/suspend")
    payload = live.call("GET", PARTICIPATIONS).json()["payload"]
    france = next(p for p in payload if p["marketplace"]["countryCode"] == "FR")
    assert france["participation"] == {"isParticipating": False, "hasSuspendedListings": True}
    account = live.call("GET", "/sellers/v1/account")
    assert_conforms("sellers.getAccount", account)


def test_restricted_data_tokens_are_issued_for_restricted_paths_only(live: LiveSandbox) -> None:
    path = "/tokens/2021-03-01/restrictedDataToken"
    granted = live.call(
        "POST", path,
        json={"restrictedResources": [{"method": "GET", "path": "/mfn/v0/shipments/{shipmentId}"}]},
    )  # fmt: skip
    assert_conforms("tokens.createRestrictedDataToken", granted)
    assert granted.json()["restrictedDataToken"].startswith("Atz.sprdt|")
    assert granted.json()["expiresIn"] == 3600
    refused = live.call(
        "POST",
        path,
        json={"restrictedResources": [{"method": "GET", "path": "/sellers/v1/account"}]},
    )
    assert refused.status_code == 400
    assert_conforms("tokens.createRestrictedDataToken", refused)
    malformed = live.call("POST", path, json={"restrictedResources": [{"method": "FETCH"}]})
    assert malformed.status_code == 400
    assert_conforms("tokens.createRestrictedDataToken", malformed)


def test_the_account_needs_a_valid_token(live: LiveSandbox) -> None:
    refused = live.call("GET", "/sellers/v1/account", token="Atza|forged")
    assert refused.status_code == 403
    assert_conforms("sellers.getAccount", refused)
