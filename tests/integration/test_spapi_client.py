"""The SP-API client against a real sandbox over HTTP, and its shared stores on real backends.

Each test starts its own sandbox (``tests/sandbox/harness.py``); what Amazon would have seen is
read from the sandbox's request log. Database tests run on SQLite and PostgreSQL (the
``engine`` fixture), Redis tests on the local Redis with a key prefix of their own.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import redis
from sqlalchemy import Engine, select

from sellerbridge import logs
from sellerbridge.channels.amazon.spapi import (
    AmbiguousError,
    AuthError,
    AuthReason,
    BucketStore,
    Credentials,
    DatabaseBucketStore,
    DatabaseCallRecorder,
    Endpoint,
    MemoryBucketStore,
    RedisBucketStore,
    RejectedError,
    RetryableError,
    RetryPolicy,
    SpApiClient,
    ThrottledError,
    TokenCache,
    UnreachableError,
)
from sellerbridge.db.models import SpApiCall
from sellerbridge.sandbox import SandboxConfig
from tests.sandbox.harness import LiveSandbox, serve
from tests.unit.test_spapi_ratelimit import CONTRACT, OP, SELLER, StoreFactory

PARTICIPATIONS = "sellers.getMarketplaceParticipations"
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05, throttled=4)
"""Retries as the defaults, minus the waiting."""


@pytest.fixture
def start() -> Iterator[Callable[..., LiveSandbox]]:
    """Start sandboxes (time scale 600 unless told otherwise); all stop after the test."""
    with ExitStack() as stack:

        def run(**config: Any) -> LiveSandbox:
            config.setdefault("time_scale", 600)
            return stack.enter_context(serve(SandboxConfig(**config)))

        yield run


@pytest.fixture
def live(start: Callable[..., LiveSandbox]) -> LiveSandbox:
    return start()


def credentials(live: LiveSandbox, **changes: str) -> Credentials:
    values = {
        "client_id": live.app.client_id,
        "client_secret": live.app.client_secret,
        "refresh_token": live.seller.refresh_token,
    }
    return Credentials(**(values | changes))


def client_for(
    live: LiveSandbox,
    *,
    buckets: BucketStore | None = None,
    creds: Credentials | None = None,
    **options: Any,
) -> SpApiClient:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 5.0)
    options.setdefault("tokens", TokenCache())
    return SpApiClient(
        live.seller.seller_id,
        creds or credentials(live),
        Endpoint.custom(live.base_url),
        buckets if buckets is not None else MemoryBucketStore(),
        **options,
    )


def requests(live: LiveSandbox, operation: str) -> list[dict[str, Any]]:
    logged: list[dict[str, Any]] = live.admin("GET", "/requests", params={"operation": operation})
    return logged


def settled_requests(live: LiveSandbox, operation: str, count: int) -> list[dict[str, Any]]:
    """The request log once it has ``count`` entries: a hung request is logged when the
    sandbox gives up on it, after the client has."""
    deadline = time.monotonic() + 10
    while len(logged := requests(live, operation)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return logged


def faults(live: LiveSandbox, *rules: dict[str, Any]) -> None:
    live.admin("PUT", "/faults", json=list(rules))


def an_order_id(live: LiveSandbox) -> str:
    return next(iter(live.sandbox.state.orders.orders.values())).order_id


# --- Login with Amazon -----------------------------------------------------------------------


def test_one_token_exchange_serves_many_calls(live: LiveSandbox) -> None:
    with client_for(live) as client:
        for _ in range(5):
            participations = client.get_marketplace_participations()

    assert len(requests(live, "lwa.token")) == 1
    assert len(requests(live, PARTICIPATIONS)) == 5
    countries = {p.marketplace.country_code for p in participations}
    assert {"DE", "FR", "IT", "ES", "PL", "SE"} <= countries
    assert all(p.participation.is_participating for p in participations)


def test_an_expired_token_is_refreshed_without_the_caller_noticing(live: LiveSandbox) -> None:
    with client_for(live) as client:
        client.get_marketplace_participations()
        live.admin("POST", "/tokens/expire")
        client.get_marketplace_participations()

    assert [r["status"] for r in requests(live, PARTICIPATIONS)] == [200, 403, 200]
    assert len(requests(live, "lwa.token")) == 2


def test_a_revoked_authorisation_is_an_auth_error_that_says_what_to_do(live: LiveSandbox) -> None:
    with client_for(live) as client:
        client.get_marketplace_participations()
        live.admin("POST", f"/sellers/{live.seller.seller_id}/revoke")
        with pytest.raises(AuthError) as raised:
            client.get_marketplace_participations()

    assert raised.value.reason is AuthReason.AUTHORISATION_REVOKED
    message = str(raised.value)
    assert f"seller {live.seller.seller_id}" in message
    assert "authorise the app again" in message
    assert live.seller.refresh_token not in message
    assert live.app.client_secret not in message
    # The token was refused, a new one was asked for once, and Login with Amazon said no.
    assert [r["status"] for r in requests(live, "lwa.token")] == [200, 400]


def test_a_wrong_client_secret_is_named_and_not_retried(live: LiveSandbox) -> None:
    wrong = credentials(live, client_secret="amzn1.oa2-cs.v1.WRONG")
    with client_for(live, creds=wrong) as client, pytest.raises(AuthError) as raised:
        client.get_marketplace_participations()

    assert raised.value.reason is AuthReason.WRONG_CLIENT_CREDENTIALS
    assert "client secret is wrong" in str(raised.value)
    assert "WRONG" not in str(raised.value)
    assert [r["status"] for r in requests(live, "lwa.token")] == [401]
    assert requests(live, PARTICIPATIONS) == []


def test_restricted_calls_get_a_restricted_data_token_once_per_path(live: LiveSandbox) -> None:
    path = "/mfn/v0/shipments/no-such-shipment"
    with client_for(live) as client:
        with pytest.raises(AuthError) as raised:
            client.call("mfn.getShipment", "GET", path)
        assert raised.value.reason is AuthReason.RESTRICTED_DATA

        for _ in range(2):  # past authentication: the shipment does not exist
            with pytest.raises(RejectedError) as rejected:
                client.call("mfn.getShipment", "GET", path, restricted=True)
            assert rejected.value.status == 400  # InvalidInput: no such shipment

    assert len(requests(live, "tokens.createRestrictedDataToken")) == 1
    assert [r["status"] for r in requests(live, "mfn.getShipment")] == [403, 400, 400]


# --- faults ----------------------------------------------------------------------------------

FAULT_KINDS = ["throttle", "error500", "error503", "hang", "reset", "malformed", "lost_response"]


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_a_fault_that_stops_is_retried_to_success(
    start: Callable[..., LiveSandbox], kind: str
) -> None:
    live = start(hang_seconds=1)
    with client_for(live, timeout=0.3) as client:
        client.get_marketplace_participations()  # learns the sandbox's rate
        faults(live, {"operation": PARTICIPATIONS, "kind": kind, "remaining": 2})
        participations = client.get_marketplace_participations()

    assert participations
    logged = settled_requests(live, PARTICIPATIONS, 4)
    assert Counter(r["fault"] for r in logged) == {None: 2, kind: 2}


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("throttle", ThrottledError),
        ("error500", RetryableError),
        ("error503", RetryableError),
        ("hang", RetryableError),
        ("reset", RetryableError),
        ("malformed", RetryableError),
        ("lost_response", RetryableError),
    ],
)
def test_a_fault_that_does_not_stop_gives_its_error(
    start: Callable[..., LiveSandbox], kind: str, error: type[Exception]
) -> None:
    live = start(hang_seconds=1)
    with client_for(live, timeout=0.3) as client:
        client.get_marketplace_participations()
        faults(live, {"operation": PARTICIPATIONS, "kind": kind})
        with pytest.raises(error) as raised:
            client.get_marketplace_participations()

    assert type(raised.value) is error  # neither unreachable nor ambiguous: a GET may repeat
    attempts = FAST.throttled + 1 if kind == "throttle" else FAST.attempts
    assert len(settled_requests(live, PARTICIPATIONS, 1 + attempts)) == 1 + attempts


def test_a_lost_response_to_a_call_that_must_not_repeat_is_ambiguous(live: LiveSandbox) -> None:
    operation = "feeds.createFeedDocument"
    documents = live.sandbox.state.documents.documents
    with client_for(live) as client:
        faults(live, {"operation": operation, "kind": "lost_response"})
        with pytest.raises(AmbiguousError) as raised:
            client.call(
                operation,
                "POST",
                "/feeds/2021-06-30/documents",
                json={"contentType": "application/json; charset=UTF-8"},
                idempotent=False,
            )

    assert len(requests(live, operation)) == 1
    assert len(documents) == 1  # Amazon did create it: repeating would have made two
    assert "check its effect on Amazon before trying again" in str(raised.value)


def test_a_bad_request_is_sent_once(live: LiveSandbox) -> None:
    with client_for(live) as client, pytest.raises(RejectedError) as raised:
        client.search_orders(created_after="last tuesday", marketplace_ids=["A1PA6795UKMFR9"])

    assert raised.value.status == 400
    assert raised.value.codes == ("InvalidInput",)
    assert raised.value.request_id == requests(live, "orders.searchOrders")[0]["request_id"]
    assert len(requests(live, "orders.searchOrders")) == 1


def test_no_server_is_unreachable(live: LiveSandbox) -> None:
    client = SpApiClient(
        live.seller.seller_id,
        credentials(live),
        Endpoint.custom("http://127.0.0.1:9"),
        MemoryBucketStore(),
        retry=FAST,
        timeout=1.0,
        tokens=TokenCache(),
    )
    with client, pytest.raises(UnreachableError, match=r"could not connect to 127\.0\.0\.1:9"):
        client.get_marketplace_participations()


# --- typed operations ------------------------------------------------------------------------


def test_orders_read_through_the_typed_operations(start: Callable[..., LiveSandbox]) -> None:
    live = start(orders=30)
    marketplaces = live.seller.marketplace_ids
    with client_for(live) as client:
        page = client.search_orders(
            created_after="2020-01-01T00:00:00Z",
            marketplace_ids=marketplaces,
            max_results_per_page=10,
            included_data=["PROCEEDS", "FULFILLMENT"],
        )
        assert page.pagination is not None
        assert page.pagination.next_token is not None
        following = client.search_orders(
            created_after="2020-01-01T00:00:00Z",
            marketplace_ids=marketplaces,
            max_results_per_page=10,
            included_data=["PROCEEDS", "FULFILLMENT"],
            pagination_token=page.pagination.next_token,
        )
        order = client.get_order(page.orders[0].order_id, ["PROCEEDS"])

    assert len(page.orders) == len(following.orders) == 10
    assert not {o.order_id for o in page.orders} & {o.order_id for o in following.orders}
    assert order.order_id == page.orders[0].order_id
    assert order.proceeds is not None
    assert order.proceeds.grand_total is not None


# --- rate limits shared by processes ---------------------------------------------------------


def test_a_storm_from_three_processes_stays_within_the_usage_plan(
    start: Callable[..., LiveSandbox], engine: Engine
) -> None:
    live = start()
    # A raised plan (as a seller may have): 0.05/s, burst 15; at time scale 600, 30 calls/s.
    live.admin("PUT", f"/usage-plans/{PARTICIPATIONS}", json={"rate": 0.05, "burst": 15})
    calls_each, processes = 20, 3

    def process() -> None:
        # Each "process" has its own client, store object and token cache; only the database
        # is shared, as between worker processes.
        with client_for(live, buckets=DatabaseBucketStore(engine)) as client:
            for _ in range(calls_each):
                client.get_marketplace_participations()

    started = time.monotonic()
    workers = [threading.Thread(target=process) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    elapsed = time.monotonic() - started

    statuses = [r["status"] for r in requests(live, PARTICIPATIONS)]
    assert statuses == [200] * calls_each * processes  # not a single 429
    # The quota allows 15 at once, then 30 per second; the client keeps one token back.
    quota_bound = (calls_each * processes - 14) / 30
    assert quota_bound * 0.9 <= elapsed < quota_bound * 4


def granted_by_racing_stores(stores: list[BucketStore], *, tries: int, burst: int) -> int:
    """Tokens granted when each store, in its own thread, tries ``tries`` takes at once."""
    barrier = threading.Barrier(len(stores))
    granted: list[int] = []

    def run(store: BucketStore) -> None:
        barrier.wait()
        granted.append(sum(store.take(SELLER, OP, 0.0001, burst) == 0.0 for _ in range(tries)))

    workers = [threading.Thread(target=run, args=(store,)) for store in stores]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(granted) == len(stores)
    return sum(granted)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
def test_database_store(engine: Engine, check: Callable[[StoreFactory], None]) -> None:
    check(lambda clock: DatabaseBucketStore(engine, clock=clock))


@pytest.mark.parametrize("shared", [True, False], ids=["one-store", "store-per-thread"])
def test_two_threads_sharing_the_database_never_exceed_the_burst(
    engine: Engine, shared: bool
) -> None:
    first = DatabaseBucketStore(engine)
    stores: list[BucketStore] = [first, first if shared else DatabaseBucketStore(engine)]
    assert granted_by_racing_stores(stores, tries=25, burst=7) == 7


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client = redis.Redis(host="127.0.0.1", port=6379)
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client: redis.Redis) -> Iterator[str]:
    prefix = f"sellerbridge-test:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=f"{prefix}*"))
    if keys:
        redis_client.delete(*keys)


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
def test_redis_store(
    redis_client: redis.Redis, redis_prefix: str, check: Callable[[StoreFactory], None]
) -> None:
    check(lambda clock: RedisBucketStore(redis_client, prefix=redis_prefix, clock=clock))


def test_two_threads_sharing_redis_never_exceed_the_burst(
    redis_client: redis.Redis, redis_prefix: str
) -> None:
    stores: list[BucketStore] = [
        RedisBucketStore(redis.Redis(host="127.0.0.1", port=6379), prefix=redis_prefix)
        for _ in range(2)
    ]
    assert granted_by_racing_stores(stores, tries=25, burst=7) == 7
    assert redis_client.exists(f"{redis_prefix}{SELLER}:{OP}")


# --- what is written down --------------------------------------------------------------------


def secrets_of(live: LiveSandbox) -> list[str]:
    """Everything secret the calls used: app secret, refresh token, every token issued."""
    return [live.app.client_secret, live.seller.refresh_token, *live.sandbox.state.tokens]


def some_calls(live: LiveSandbox, client: SpApiClient) -> None:
    """Calls that use every kind of token and meet an error, a retry and a refresh."""
    client.get_marketplace_participations()
    faults(live, {"operation": PARTICIPATIONS, "kind": "error503", "remaining": 1})
    client.get_marketplace_participations()
    live.admin("POST", "/tokens/expire")
    client.get_marketplace_participations()
    with pytest.raises(RejectedError):
        client.call("mfn.getShipment", "GET", "/mfn/v0/shipments/S-1", restricted=True)


def test_call_records_tell_the_story_without_a_secret(live: LiveSandbox, engine: Engine) -> None:
    with client_for(live, recorder=DatabaseCallRecorder(engine)) as client:
        some_calls(live, client)

    with engine.connect() as connection:
        rows = connection.execute(select(SpApiCall).order_by(SpApiCall.id)).all()
    assert [(r.operation, r.status, r.attempt, r.error) for r in rows] == [
        ("lwa.token", 200, 1, None),
        (PARTICIPATIONS, 200, 1, None),
        (PARTICIPATIONS, 503, 1, "HTTP 503 ServiceUnavailable"),
        (PARTICIPATIONS, 200, 2, None),
        (PARTICIPATIONS, 403, 1, "HTTP 403 Unauthorized"),
        ("lwa.token", 200, 1, None),
        (PARTICIPATIONS, 200, 2, None),
        ("tokens.createRestrictedDataToken", 200, 1, None),
        ("mfn.getShipment", 400, 1, "HTTP 400 InvalidInput"),
    ]
    logged = {r["request_id"] for r in live.admin("GET", "/requests") if r["operation"]}
    assert {r.request_id for r in rows if r.operation != "lwa.token"} <= logged
    assert all(r.at.tzinfo is not None and r.seller_id == live.seller.seller_id for r in rows)
    written = " ".join(str(value) for row in rows for value in row)
    for secret in secrets_of(live):
        assert secret not in written


def test_log_lines_carry_no_token(live: LiveSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure(json=True)  # here, not in a fixture: pytest swaps stderr after setup
    with client_for(live) as client:
        some_calls(live, client)
        client.call(
            "orders.searchOrders",
            "GET",
            "/orders/2026-01-01/orders",
            params={
                "createdAfter": "2020-01-01T00:00:00Z",
                "marketplaceIds": live.seller.marketplace_ids,
            },
        )

    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [(line["event"], line["operation"]) for line in lines][:2] == [
        ("spapi.call", "lwa.token"),
        ("spapi.call", PARTICIPATIONS),
    ]
    search = lines[-1]
    assert search["path"] == "/orders/2026-01-01/orders"  # no query string
    assert search["status"] == 200
    assert search["request_id"] == requests(live, "orders.searchOrders")[0]["request_id"]
    assert {"method", "duration_ms", "attempt", "seller_id"} <= set(search)
    failed = [line for line in lines if line["event"] == "spapi.call_failed"]
    assert [(line["operation"], line["status"]) for line in failed] == [("mfn.getShipment", 400)]
    written = json.dumps(lines)
    for secret in secrets_of(live):
        assert secret not in written
