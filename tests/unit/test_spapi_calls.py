"""How the SP-API client retries, waits and classifies, against a scripted Amazon.

Amazon is an ``httpx.MockTransport`` that answers Login with Amazon with a fresh token and each
API request with the next scripted answer; time is a fake clock whose ``sleep`` only moves it
on. So every wait the client makes is visible and exact, and no test sleeps.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from sellerbridge.channels.amazon.spapi import (
    AmbiguousError,
    AuthError,
    AuthReason,
    Credentials,
    Endpoint,
    MemoryBucketStore,
    RejectedError,
    RetryableError,
    RetryPolicy,
    SpApiClient,
    SpApiError,
    ThrottledError,
    TokenCache,
    UnreachableError,
)

CREDENTIALS = Credentials(
    client_id="amzn1.application-oa2-client.fake",
    client_secret="amzn1.oa2-cs.v1.SECRET-CANARY",
    refresh_token="Atzr|REFRESH-CANARY",
)
SECRETS = (CREDENTIALS.client_secret, CREDENTIALS.refresh_token, "Atza|")
CANARY = "Erika Mustermann, Hauptstraße 5"
"""Personal data Amazon might quote in an error message: it must never reach a message."""
SELLER = "A1SELLER"
ORDER_PATH = "/orders/2026-01-01/orders/028-1234567-1234567"

Answer = httpx.Response | type[httpx.HTTPError] | Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """Wall clock, monotonic clock and sleep in one: sleeping moves time on, instantly."""

    EPOCH = 1_800_000_000.0

    def __init__(self) -> None:
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.EPOCH + self.elapsed

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds


class FakeAmazon:
    """LWA issues numbered tokens; the API gives the scripted answers, then 200 ``{}``."""

    def __init__(self, *answers: Answer) -> None:
        self.answers: list[Answer] = list(answers)
        self.lwa_answers: list[httpx.Response] = []
        self.requests: list[httpx.Request] = []
        self.issued: list[str] = []

    @property
    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/auth/o2/token"]

    @property
    def lwa_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/auth/o2/token"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/auth/o2/token":
            if self.lwa_answers:
                return self.lwa_answers.pop(0)
            self.issued.append(f"Atza|token-{len(self.issued) + 1}")
            return httpx.Response(
                200,
                json={"access_token": self.issued[-1], "token_type": "bearer", "expires_in": 3600},
            )
        answer = self.answers.pop(0) if self.answers else ok()
        if isinstance(answer, httpx.Response):
            return answer
        if isinstance(answer, type):
            raise answer("scripted failure", request=request)
        return answer(request)


def ok(body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(200, json={} if body is None else body, headers=headers)


def error(status: int, code: str, message: str = CANARY, details: str = "") -> httpx.Response:
    body = {"errors": [{"code": code, "message": message, "details": details}]}
    return httpx.Response(status, json=body, headers={"x-amzn-RequestId": f"req-{status}"})


def not_json() -> httpx.Response:
    return httpx.Response(
        200, content=b'{"orders": [{"orderId": "', headers={"x-amzn-RequestId": "r"}
    )


class FreeBuckets(MemoryBucketStore):
    """Buckets that never make anyone wait: isolates backoff from rate limiting."""

    def take(self, partner: str, operation: str, rate: float, burst: int) -> float:
        return 0.0


def make_client(
    amazon: FakeAmazon,
    clock: FakeClock,
    *,
    buckets: MemoryBucketStore | None = None,
    **options: Any,
) -> SpApiClient:
    return SpApiClient(
        SELLER,
        CREDENTIALS,
        Endpoint.custom("https://sp.example"),
        buckets if buckets is not None else MemoryBucketStore(clock=clock.time),
        transport=httpx.MockTransport(amazon.handle),
        sleep=clock.sleep,
        clock=clock.monotonic,
        tokens=TokenCache(clock=clock.monotonic),
        **options,
    )


def get_order(client: SpApiClient, **options: Any) -> Any:
    return client.call("orders.getOrder", "GET", ORDER_PATH, **options)


def assert_clean(error: SpApiError) -> None:
    text = str(error)
    for secret in (*SECRETS, CANARY):
        assert secret not in text, text


# --- backoff and jitter ----------------------------------------------------------------------


def test_backoff_ceilings_double_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=8, base=0.5, cap=5.0)
    assert [policy.ceiling(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_backoff_is_full_jitter_between_zero_and_the_ceiling() -> None:
    policy = RetryPolicy(base=1.0, cap=8.0)
    draws = [policy.delay(4) for _ in range(2000)]
    assert all(0.0 <= draw <= 8.0 for draw in draws)
    # Full jitter spreads over the whole range, not around the ceiling (equal jitter would
    # never go below 4) nor at one value (no jitter).
    assert min(draws) < 0.5
    assert max(draws) > 7.5
    assert 3.5 < statistics.mean(draws) < 4.5


def test_server_errors_are_retried_with_growing_jittered_waits() -> None:
    clock = FakeClock()
    amazon = FakeAmazon(*(error(500, "InternalFailure") for _ in range(5)))
    policy = RetryPolicy(attempts=5, base=1.0, cap=4.0)
    client = make_client(amazon, clock, buckets=FreeBuckets(), retry=policy)

    with pytest.raises(RetryableError) as raised:
        get_order(client)

    assert type(raised.value) is RetryableError
    assert len(amazon.api_requests) == 5
    assert len(clock.sleeps) == 4  # between attempts, none after the last
    for failure, waited in enumerate(clock.sleeps, start=1):
        assert 0.0 <= waited <= policy.ceiling(failure)
    assert raised.value.status == 500
    assert raised.value.attempts == 5
    assert "server error 5 times" in str(raised.value)
    assert_clean(raised.value)


def test_a_failure_that_passes_is_forgotten() -> None:
    clock = FakeClock()
    amazon = FakeAmazon(
        error(503, "ServiceUnavailable"), httpx.ReadTimeout, httpx.RemoteProtocolError, not_json()
    )
    client = make_client(amazon, clock, buckets=FreeBuckets(), retry=RetryPolicy(attempts=5))

    assert get_order(client).status == 200
    assert len(amazon.api_requests) == 5


# --- 429 and the buckets ---------------------------------------------------------------------


def test_a_429_drains_the_bucket_and_waits_for_its_refill_without_using_the_failure_budget() -> (
    None
):
    clock = FakeClock()
    amazon = FakeAmazon(
        error(429, "QuotaExceeded"),
        error(429, "QuotaExceeded"),
        error(429, "QuotaExceeded"),
        error(500, "InternalFailure"),
    )
    client = make_client(amazon, clock, retry=RetryPolicy(attempts=2, base=0.1, throttled=3))

    assert get_order(client).status == 200

    assert len(amazon.api_requests) == 5
    # getOrder refills at 0.5 per second: each drained bucket gives its next token in 2 s.
    # Then one backoff after the 500 (within the first ceiling), the only failure counted.
    assert clock.sleeps[:3] == pytest.approx([2.0, 2.0, 2.0])
    assert 0.0 <= clock.sleeps[3] <= 0.1


def test_throttling_that_does_not_end_is_capped() -> None:
    clock = FakeClock()
    amazon = FakeAmazon(*(error(429, "QuotaExceeded") for _ in range(10)))
    client = make_client(amazon, clock, retry=RetryPolicy(throttled=3))

    with pytest.raises(ThrottledError) as raised:
        get_order(client)

    assert len(amazon.api_requests) == 4
    assert raised.value.status == 429
    assert "throttled orders.getOrder for seller A1SELLER 4 times" in str(raised.value)
    assert_clean(raised.value)


def test_the_bucket_paces_calls_and_long_waits_are_reported() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    waits: list[tuple[str, float]] = []
    client = make_client(amazon, clock, on_wait=lambda operation, s: waits.append((operation, s)))

    for _ in range(32):
        client.call("orders.searchOrders", "GET", "/orders/2026-01-01/orders")

    # Burst 20 with one token held back: 19 calls at once, then one per 1 / 0.0056 s.
    assert clock.sleeps[0] == pytest.approx(1 / 0.0056)
    assert len(clock.sleeps) == 32 - 19
    assert [operation for operation, _ in waits] == ["orders.searchOrders"] * (32 - 19)
    assert waits[0][1] == pytest.approx(1 / 0.0056)


def test_the_rate_amazon_reports_replaces_the_default_plan() -> None:
    clock = FakeClock()
    amazon = FakeAmazon(*(ok(**{"x-amzn-RateLimit-Limit": "10.0"}) for _ in range(40)))
    client = make_client(amazon, clock)

    for _ in range(39):
        get_order(client)

    # getOrder's default is 0.5/s; Amazon says this seller has 10/s: 29 at once, then 0.1 s.
    assert clock.sleeps == pytest.approx([0.1] * 10, abs=1e-5)


def test_a_call_counts_against_every_limit_it_names() -> None:
    clock = FakeClock()
    buckets = MemoryBucketStore(clock=clock.time)
    client = make_client(FakeAmazon(), clock, buckets=buckets)

    for _ in range(5):
        client.call(
            "feeds.createFeed",
            "POST",
            "/feeds/2021-06-30/feeds",
            json={},
            idempotent=False,
            also_limited_by=("feeds.createFeed.JSON_LISTINGS_FEED",),
        )

    # JSON_LISTINGS_FEED: 5 per 5 minutes, one held back: the fifth waits a minute.
    assert clock.sleeps == pytest.approx([60.0])
    feed_bucket = buckets.state(SELLER, "feeds.createFeed")
    assert feed_bucket is not None
    assert feed_bucket.tokens == pytest.approx(14 - 5 + 60 * 0.0083)


# --- calls that must not be repeated ---------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        httpx.ReadTimeout,
        httpx.RemoteProtocolError,
        httpx.WriteTimeout,
        error(500, "InternalFailure"),
        not_json(),
    ],
    ids=["read-timeout", "reset", "write-timeout", "500", "malformed"],
)
def test_a_non_idempotent_call_with_an_unknown_outcome_is_not_repeated(answer: Answer) -> None:
    clock = FakeClock()
    amazon = FakeAmazon(answer)
    client = make_client(amazon, clock)

    with pytest.raises(AmbiguousError) as raised:
        client.call(
            "feeds.createFeedDocument",
            "POST",
            "/feeds/2021-06-30/documents",
            json={},
            idempotent=False,
        )

    assert len(amazon.api_requests) == 1
    assert "may or may not have been applied" in str(raised.value)
    assert isinstance(raised.value, RetryableError)
    assert_clean(raised.value)


@pytest.mark.parametrize(
    "answer",
    [httpx.ConnectError, httpx.ConnectTimeout, error(503, "ServiceUnavailable")],
    ids=["connect-error", "connect-timeout", "503"],
)
def test_a_non_idempotent_call_that_never_reached_amazon_is_retried(answer: Answer) -> None:
    clock = FakeClock()
    amazon = FakeAmazon(answer)
    client = make_client(amazon, clock)

    response = client.call(
        "feeds.createFeedDocument", "POST", "/feeds/2021-06-30/documents", json={}, idempotent=False
    )

    assert response.status == 200
    assert len(amazon.api_requests) == 2


def test_no_connection_at_all_is_unreachable() -> None:
    clock = FakeClock()
    amazon = FakeAmazon(*([httpx.ConnectError] * 3))
    client = make_client(amazon, clock, retry=RetryPolicy(attempts=3))

    with pytest.raises(UnreachableError) as raised:
        get_order(client)

    assert "could not connect to sp.example" in str(raised.value)
    assert raised.value.attempts == 3


def test_broken_connections_after_connecting_are_retryable_not_unreachable() -> None:
    clock = FakeClock()
    amazon = FakeAmazon(httpx.ConnectError, httpx.ReadTimeout, httpx.ReadTimeout)
    client = make_client(amazon, clock, retry=RetryPolicy(attempts=3))

    with pytest.raises(RetryableError) as raised:
        get_order(client)

    assert type(raised.value) is RetryableError
    assert "ReadTimeout" in str(raised.value)


# --- 4xx and authentication ------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 409, 413, 422])
def test_other_client_errors_are_rejected_at_once(status: int) -> None:
    clock = FakeClock()
    amazon = FakeAmazon(error(status, "InvalidInput", details=CANARY))
    client = make_client(amazon, clock)

    with pytest.raises(RejectedError) as raised:
        get_order(client)

    assert len(amazon.api_requests) == 1
    assert clock.sleeps == []
    assert str(raised.value) == (
        f"Amazon rejected orders.getOrder (HTTP {status} InvalidInput; Amazon request id "
        f"req-{status}). The request was not repeated, as it would be rejected again; if it "
        "keeps happening, report it with the request id."
    )
    assert raised.value.errors[0].message == CANARY  # for code that knows what it may show


def test_an_expired_token_is_replaced_once() -> None:
    clock = FakeClock()
    expired = error(
        403,
        "Unauthorized",
        "Access to requested resource is denied.",
        "The access token you provided has expired.",
    )
    amazon = FakeAmazon(expired)
    client = make_client(amazon, clock)

    assert get_order(client).status == 200

    assert len(amazon.lwa_requests) == 2
    sent = [request.headers["x-amz-access-token"] for request in amazon.api_requests]
    assert sent == ["Atza|token-1", "Atza|token-2"]


def test_a_token_refused_again_after_a_refresh_is_an_auth_error() -> None:
    clock = FakeClock()
    refused = error(
        403,
        "Unauthorized",
        "Access to requested resource is denied.",
        "The access token you provided is revoked, malformed or invalid.",
    )
    amazon = FakeAmazon(refused, refused)
    client = make_client(amazon, clock)

    with pytest.raises(AuthError) as raised:
        get_order(client)

    assert raised.value.reason is AuthReason.AUTHORISATION_REVOKED
    assert len(amazon.lwa_requests) == 2
    assert_clean(raised.value)


@pytest.mark.parametrize(
    ("details", "reason"),
    [
        ("", AuthReason.ACCESS_DENIED),
        (
            "This operation returns restricted data: call it with a Restricted Data Token.",
            AuthReason.RESTRICTED_DATA,
        ),
    ],
)
def test_a_denied_call_says_what_to_fix(details: str, reason: AuthReason) -> None:
    clock = FakeClock()
    amazon = FakeAmazon(
        error(403, "Unauthorized", "Access to requested resource is denied.", details)
    )
    client = make_client(amazon, clock)

    with pytest.raises(AuthError) as raised:
        get_order(client)

    assert raised.value.reason is reason
    assert len(amazon.lwa_requests) == 1  # a new token would not help
    assert "Developer Central" in str(raised.value) or "Restricted Data Token" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "code", "reason", "advice"),
    [
        (400, "invalid_grant", AuthReason.AUTHORISATION_REVOKED, "authorise the app again"),
        (401, "invalid_client", AuthReason.WRONG_CLIENT_CREDENTIALS, "client secret is wrong"),
    ],
)
def test_login_with_amazon_refusals_name_the_reason(
    status: int, code: str, reason: AuthReason, advice: str
) -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    amazon.lwa_answers.append(
        httpx.Response(status, json={"error": code, "error_description": CANARY})
    )
    client = make_client(amazon, clock)

    with pytest.raises(AuthError) as raised:
        get_order(client)

    assert raised.value.reason is reason
    assert advice in str(raised.value)
    assert "seller A1SELLER" in str(raised.value)
    assert len(amazon.lwa_requests) == 1
    assert amazon.api_requests == []
    assert_clean(raised.value)


def test_login_with_amazon_server_errors_are_retried() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    amazon.lwa_answers += [httpx.Response(500), httpx.Response(429)]
    client = make_client(amazon, clock)

    assert get_order(client).status == 200
    assert len(amazon.lwa_requests) == 3


def test_a_malformed_token_request_is_rejected_not_blamed_on_the_credentials() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    amazon.lwa_answers.append(httpx.Response(400, json={"error": "invalid_request"}))
    client = make_client(amazon, clock)

    with pytest.raises(RejectedError, match="defect of sellerbridge's request"):
        get_order(client)


def test_the_token_request_is_a_form_and_tokens_are_reused() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    client = make_client(amazon, clock)

    for _ in range(10):
        get_order(client)

    (login,) = amazon.lwa_requests
    assert login.headers["content-type"] == "application/x-www-form-urlencoded"
    assert b"grant_type=refresh_token" in login.content
    assert {r.headers["x-amz-access-token"] for r in amazon.api_requests} == {"Atza|token-1"}


def test_a_connection_check_gets_the_token_the_calls_then_use() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    client = make_client(amazon, clock)

    assert client.access_token() == "Atza|token-1"
    get_order(client)

    assert len(amazon.lwa_requests) == 1
    assert amazon.api_requests[0].headers["x-amz-access-token"] == "Atza|token-1"


def test_a_token_is_renewed_a_minute_before_it_expires() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    client = make_client(amazon, clock)

    get_order(client)
    clock.elapsed += 3600 - 61
    get_order(client)
    clock.elapsed += 2
    get_order(client)

    assert len(amazon.lwa_requests) == 2


def test_restricted_calls_carry_one_rdt_per_path() -> None:
    clock = FakeClock()
    rdt = {"restrictedDataToken": "Atz.sprdt|rdt-1", "expiresIn": 3600}
    amazon = FakeAmazon(ok(rdt))
    client = make_client(amazon, clock)

    for _ in range(3):
        client.call("mfn.getShipment", "GET", "/mfn/v0/shipments/S1", restricted=True)

    token_call, *shipments = amazon.api_requests
    assert token_call.url.path == "/tokens/2021-03-01/restrictedDataToken"
    assert b'"path":"/mfn/v0/shipments/S1"' in token_call.content.replace(b" ", b"")
    assert [r.headers["x-amz-access-token"] for r in shipments] == ["Atz.sprdt|rdt-1"] * 3


# --- requests and answers --------------------------------------------------------------------


def test_query_parameters_are_encoded_as_sp_api_reads_them() -> None:
    clock = FakeClock()
    amazon = FakeAmazon(ok({"orders": []}))
    client = make_client(amazon, clock)
    berlin = timezone(timedelta(hours=1))

    client.search_orders(
        last_updated_after=datetime(2026, 11, 2, 10, 30, tzinfo=berlin),
        marketplaceIds=["A1PA6795UKMFR9", "A13V1IB3VIYZZH"],
        max_results_per_page=50,
        pagination_token=None,
    )

    params = amazon.api_requests[0].url.params
    assert params["lastUpdatedAfter"] == "2026-11-02T09:30:00Z"
    assert params["marketplaceIds"] == "A1PA6795UKMFR9,A13V1IB3VIYZZH"
    assert params["maxResultsPerPage"] == "50"
    assert "paginationToken" not in params


def test_naive_times_and_unknown_parameters_are_refused_before_calling() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    client = make_client(amazon, clock)

    with pytest.raises(ValueError, match="time zone"):
        client.search_orders(created_after=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(TypeError, match="lastUpdatedAftr"):
        client.search_orders(lastUpdatedAftr=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="no usage plan"):
        client.call("orders.getOrders", "GET", "/orders/v0/orders")
    with pytest.raises(ValueError, match="params"):
        client.call("orders.getOrder", "GET", ORDER_PATH + "?includedData=BUYER")
    assert amazon.requests == []


def test_an_answer_that_does_not_fit_the_model_names_fields_not_values() -> None:
    clock = FakeClock()
    order = {"orderId": "028-1", "createdTime": "yesterday", "buyer": {"buyerName": CANARY}}
    amazon = FakeAmazon(ok({"order": order}))
    client = make_client(amazon, clock)

    with pytest.raises(RetryableError) as raised:
        client.get_order("028-1")

    message = str(raised.value)
    assert "order.createdTime" in message
    assert "order.orderItems: missing" in message
    assert "yesterday" not in message
    assert raised.value.__cause__ is None
    assert_clean(raised.value)


def test_credentials_never_show_their_secrets() -> None:
    shown = repr(CREDENTIALS)
    assert "amzn1.application-oa2-client.fake" in shown
    assert CREDENTIALS.client_secret not in shown
    assert CREDENTIALS.refresh_token not in shown


def test_a_fresh_token_asks_login_with_amazon_even_with_one_cached() -> None:
    clock = FakeClock()
    amazon = FakeAmazon()
    client = make_client(amazon, clock)

    assert client.access_token() == "Atza|token-1"
    assert client.access_token(fresh=True) == "Atza|token-2"
    get_order(client)

    assert len(amazon.lwa_requests) == 2
    assert amazon.api_requests[0].headers["x-amz-access-token"] == "Atza|token-2"
