"""Feeds API: upload, asynchronous processing and processing reports, over real HTTP."""

from __future__ import annotations

import copy
import gzip
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import best_match

from sellerbridge.sandbox import feeds, spec
from tests.sandbox.harness import LiveSandbox, assert_conforms

DE, FR, US = "A1PA6795UKMFR9", "A13V1IB3VIYZZH", "ATVPDKIKX0DER"
FEEDS = "/feeds/2021-06-30"
JSON_TYPE = "application/json; charset=UTF-8"
REPORT_SCHEMA = "feeds/listings-feed-processing-report-schema-v2"
TERMINAL = ("DONE", "FATAL", "CANCELLED")


@pytest.fixture
def fast(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """Feeds are processed (and usage plans refill) 1000 times faster than at Amazon."""
    return start_sandbox(time_scale=1000)


def create_document(live: LiveSandbox, content_type: str = JSON_TYPE) -> dict[str, str]:
    response = live.call("POST", f"{FEEDS}/documents", json={"contentType": content_type})
    assert response.status_code == 201
    assert_conforms("feeds.createFeedDocument", response)
    body: dict[str, str] = response.json()
    return body


def upload(live: LiveSandbox, content: bytes, content_type: str = JSON_TYPE) -> str:
    """createFeedDocument, then PUT the file to the pre-signed URL (no SP-API token)."""
    document = create_document(live, content_type)
    put = httpx.put(document["url"], content=content, headers={"Content-Type": content_type})
    assert put.status_code == 200, put.text
    return document["feedDocumentId"]


def create_feed(
    live: LiveSandbox, feed_type: str, document_id: str, marketplaces: tuple[str, ...] = (DE,)
) -> httpx.Response:
    response = live.call(
        "POST",
        f"{FEEDS}/feeds",
        json={
            "feedType": feed_type,
            "marketplaceIds": list(marketplaces),
            "inputFeedDocumentId": document_id,
        },
    )
    assert_conforms("feeds.createFeed", response)
    return response


def submit(
    live: LiveSandbox, feed_type: str, content: bytes, marketplaces: tuple[str, ...] = (DE,)
) -> str:
    response = create_feed(live, feed_type, upload(live, content), marketplaces)
    assert response.status_code == 202, response.text
    feed_id: str = response.json()["feedId"]
    return feed_id


def get_feed(live: LiveSandbox, feed_id: str) -> dict[str, Any]:
    response = live.call("GET", f"{FEEDS}/feeds/{feed_id}")
    assert response.status_code == 200
    assert_conforms("feeds.getFeed", response)
    feed: dict[str, Any] = response.json()
    return feed


def poll_often(live: LiveSandbox) -> None:
    """A raised getFeed plan, so a test can poll faster than Amazon's 2 per second."""
    live.admin("PUT", "/usage-plans/feeds.getFeed", json={"rate": 100, "burst": 100})


def wait(live: LiveSandbox, feed_id: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (feed := get_feed(live, feed_id))["processingStatus"] not in TERMINAL:
        assert time.monotonic() < deadline, feed
        time.sleep(0.02)
    return feed


def result(live: LiveSandbox, feed: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The processing report of a finished feed as a client downloads it, gunzipped if needed."""
    response = live.call("GET", f"{FEEDS}/documents/{feed['resultFeedDocumentId']}")
    assert_conforms("feeds.getFeedDocument", response)
    document: dict[str, Any] = response.json()
    download = httpx.get(document["url"])
    assert download.status_code == 200
    content = download.content
    if document.get("compressionAlgorithm") == "GZIP":
        content = gzip.decompress(content)
    return content, document


def report(live: LiveSandbox, feed: dict[str, Any]) -> dict[str, Any]:
    content, _ = result(live, feed)
    parsed: dict[str, Any] = json.loads(content)
    problems = [e.message for e in spec.document_schema(REPORT_SCHEMA).iter_errors(parsed)]
    assert not problems, problems
    return parsed


def listings_feed(live: LiveSandbox, messages: list[dict[str, Any]], **header: Any) -> bytes:
    document = {
        "header": {"sellerId": live.seller.seller_id, "version": "2.0", **header},
        "messages": messages,
    }
    assert not list(spec.document_schema("feeds/listings-feed-schema-v2").iter_errors(document))
    return json.dumps(document).encode()


def stock_message(message_id: int, sku: str, quantity: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}],
            }
        ],
    }


def quantity(live: LiveSandbox, sku: str, marketplace_id: str = DE) -> int | None:
    response = live.call(
        "GET",
        f"/listings/2021-08-01/items/{live.seller.seller_id}/{sku}",
        params={"marketplaceIds": marketplace_id, "includedData": "fulfillmentAvailability"},
    )
    assert response.status_code == 200, response.text
    value: int | None = response.json()["fulfillmentAvailability"][0].get("quantity")
    return value


def test_a_listings_feed_goes_from_upload_to_processing_report(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(feed_queue_seconds=0.4, feed_processing_seconds=0.4)
    poll_often(live)
    content = listings_feed(live, [stock_message(1, "SB-0001", 31), stock_message(2, "SB-0002", 0)])
    document_id = upload(live, content)
    created = create_feed(live, "JSON_LISTINGS_FEED", document_id, (DE, FR))
    assert created.status_code == 202
    feed_id = created.json()["feedId"]

    seen = [get_feed(live, feed_id)]
    while seen[-1]["processingStatus"] not in TERMINAL:
        time.sleep(0.05)
        seen.append(get_feed(live, feed_id))
    statuses = list(dict.fromkeys(feed["processingStatus"] for feed in seen))
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    done = seen[-1]
    assert done["feedType"] == "JSON_LISTINGS_FEED"
    assert done["marketplaceIds"] == [DE, FR]
    assert done["createdTime"] <= done["processingStartTime"] <= done["processingEndTime"]

    _, result_document = result(live, done)
    assert "compressionAlgorithm" not in result_document  # a small report comes as it is
    processing_report = report(live, done)
    assert processing_report["header"] == {
        "sellerId": live.seller.seller_id,
        "version": "2.0",
        "feedId": feed_id,
    }
    assert processing_report["issues"] == []
    assert processing_report["summary"] == {
        "errors": 0,
        "warnings": 0,
        "messagesProcessed": 2,
        "messagesAccepted": 2,
        "messagesInvalid": 0,
    }
    assert [quantity(live, "SB-0001", m) for m in (DE, FR)] == [31, 31]
    assert quantity(live, "SB-0002") == 0

    uploaded, document = result(live, {"resultFeedDocumentId": document_id})
    assert uploaded == content
    assert "compressionAlgorithm" not in document


def test_a_thousand_messages_with_three_unknown_skus(fast: LiveSandbox) -> None:
    """Issue #3, acceptance 4."""
    seller_id = fast.seller.seller_id
    skus = [f"BULK-{n:04d}" for n in range(997)]
    for sku in skus:
        fast.admin("PUT", f"/listings/{seller_id}/{sku}", json={"marketplaces": ["DE"]})
    unknown = {10: "GONE-1", 500: "GONE-2", 999: "GONE-3"}
    known = iter(skus)
    messages = [
        stock_message(n + 1, unknown[n] if n in unknown else next(known), n % 50 + 1)
        for n in range(1000)
    ]
    expected = {m["sku"]: m["patches"][0]["value"][0]["quantity"] for m in messages}
    content = listings_feed(
        fast,
        messages,
        report={
            "includedData": ["summaries", "fulfillmentAvailability"],
            "apiVersion": "2021-08-01",
        },
    )
    feed = wait(fast, submit(fast, "JSON_LISTINGS_FEED", content))
    assert feed["processingStatus"] == "DONE"

    _, document = result(fast, feed)
    assert document["compressionAlgorithm"] == "GZIP"  # a big report comes compressed
    processing_report = report(fast, feed)
    assert [
        (i["messageId"], i["sku"], i["code"], i["severity"]) for i in processing_report["issues"]
    ] == [
        (11, "GONE-1", "13013", "ERROR"),
        (501, "GONE-2", "13013", "ERROR"),
        (1000, "GONE-3", "13013", "ERROR"),
    ]
    summary = processing_report["summary"]
    assert (summary["messagesProcessed"], summary["messagesAccepted"]) == (1000, 997)
    assert (summary["messagesInvalid"], summary["errors"]) == (3, 3)
    assert summary["itemSummary"]["items"] == len(processing_report["items"]) == 997
    assert processing_report["items"][0]["fulfillmentAvailability"] == [
        {"fulfillmentChannelCode": "DEFAULT", "quantity": expected[skus[0]]}
    ]

    rows = fast.admin("GET", "/listings", params={"seller_id": seller_id})
    applied = {row["sku"]: row["quantity"] for row in rows if row["sku"].startswith("BULK-")}
    assert applied == {sku: expected[sku] for sku in skus}
    searched = fast.call(
        "GET",
        f"/listings/2021-08-01/items/{seller_id}",
        params={
            "marketplaceIds": DE,
            "identifiersType": "SKU",
            "identifiers": ",".join(skus[-20:]),
            "includedData": "fulfillmentAvailability",
            "pageSize": "20",
        },
    )
    assert_conforms("listings.searchListingsItems", searched)
    assert {
        item["sku"]: item["fulfillmentAvailability"][0]["quantity"]
        for item in searched.json()["items"]
    } == {sku: expected[sku] for sku in skus[-20:]}


def test_each_listings_feed_message_stands_alone(fast: LiveSandbox) -> None:
    before = quantity(fast, "SB-0002")
    messages = [
        stock_message(1, "SB-0001", 11),
        stock_message(2, "SB-0003-FBA", 5),
        stock_message(3, "SB-0002", -4),
        {
            "messageId": 4,
            "sku": "SB-0004",
            "operationType": "PARTIAL_UPDATE",
            "productType": "TEA",
            "attributes": {
                "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 6}]
            },
        },
        {
            "messageId": 5,
            "sku": "SB-0005",
            "operationType": "UPDATE",
            "productType": "TEA",
            "attributes": {"item_name": [{"value": "Rooibos", "marketplace_id": DE}]},
        },
        {"messageId": 6, "sku": "SB-0007", "operationType": "DELETE"},
        {"messageId": 8, "sku": "NO-SUCH-SKU", "operationType": "DELETE"},
    ]
    document = json.loads(listings_feed(fast, messages))
    document["messages"].insert(6, {"messageId": 7, "sku": "SB-0008", "operationType": "PATCH"})
    feed = wait(fast, submit(fast, "JSON_LISTINGS_FEED", json.dumps(document).encode()))
    assert feed["processingStatus"] == "DONE"
    processing_report = report(fast, feed)
    by_message = {issue["messageId"]: issue for issue in processing_report["issues"]}
    assert sorted(by_message) == [2, 3, 7, 8]
    assert by_message[2]["code"] == "90000900"
    assert "fulfilled by Amazon" in by_message[2]["message"]
    assert by_message[3]["code"] == "90000900"
    assert by_message[3]["attributeName"] == "fulfillment_availability"
    assert by_message[7]["code"] == "4002008"
    assert by_message[8]["code"] == "13013"
    assert processing_report["summary"]["messagesAccepted"] == 4
    assert processing_report["summary"]["messagesInvalid"] == 4

    assert quantity(fast, "SB-0001") == 11
    assert quantity(fast, "SB-0002") == before
    assert quantity(fast, "SB-0004") == 6
    assert quantity(fast, "SB-0005") is None  # a complete UPDATE without a quantity clears it
    deleted = fast.call(
        "GET",
        f"/listings/2021-08-01/items/{fast.seller.seller_id}/SB-0007",
        params={"marketplaceIds": DE},
    )
    assert deleted.status_code == 404
    still_in_france = fast.call(
        "GET",
        f"/listings/2021-08-01/items/{fast.seller.seller_id}/SB-0007",
        params={"marketplaceIds": FR},
    )
    assert still_in_france.status_code == 200


DELETE_ONE = [{"messageId": 1, "sku": "SB-0001", "operationType": "DELETE"}]


@pytest.mark.parametrize(
    ("content", "code", "reason"),
    [
        (b"SKU\tquantity\nSB-0001\t5\n", "4002006", "not valid JSON"),
        (
            json.dumps({"messages": DELETE_ONE}).encode(),
            "4002005",
            "'header' is a required property",
        ),
        (
            json.dumps(
                {"header": {"sellerId": "A2SOMEONEELSE", "version": "2.0"}, "messages": DELETE_ONE}
            ).encode(),
            "4002006",
            "not the selling partner",
        ),
    ],
)
def test_a_broken_listings_feed_ends_fatal_with_a_reason(
    fast: LiveSandbox, content: bytes, code: str, reason: str
) -> None:
    feed = wait(fast, submit(fast, "JSON_LISTINGS_FEED", content))
    assert feed["processingStatus"] == "FATAL"
    processing_report = report(fast, feed)
    assert [issue["code"] for issue in processing_report["issues"]] == [code]
    assert reason in processing_report["issues"][0]["message"]
    assert processing_report["summary"]["messagesProcessed"] == 0
    assert quantity(fast, "SB-0001") is not None


def test_removed_legacy_feed_types_end_fatal_and_unknown_ones_are_refused(
    fast: LiveSandbox,
) -> None:
    xml = b"<?xml version='1.0'?><AmazonEnvelope><MessageType>Inventory</MessageType>"
    feed = wait(fast, submit(fast, "POST_INVENTORY_AVAILABILITY_DATA", xml))
    assert feed["processingStatus"] == "FATAL"
    text, _ = result(fast, feed)
    assert b"removed on 2025-07-31" in text

    document_id = upload(fast, b"{}")
    for feed_type, marketplaces in (
        ("POST_NONSENSE_DATA", (DE,)),
        ("POST_ORDER_FULFILLMENT_DATA", (DE,)),
        ("JSON_LISTINGS_FEED", (US,)),
    ):
        refused = create_feed(fast, feed_type, document_id, marketplaces)
        assert refused.status_code == 400, feed_type
    missing_type = fast.call(
        "POST", f"{FEEDS}/feeds", json={"marketplaceIds": [DE], "inputFeedDocumentId": document_id}
    )
    assert missing_type.status_code == 400
    assert_conforms("feeds.createFeed", missing_type)


def test_json_listings_feeds_are_limited_to_five_per_five_minutes(live: LiveSandbox) -> None:
    document_id = upload(live, listings_feed(live, [stock_message(1, "SB-0001", 1)]))
    for _ in range(5):
        assert create_feed(live, "JSON_LISTINGS_FEED", document_id).status_code == 202
    refused = create_feed(live, "JSON_LISTINGS_FEED", document_id)
    assert refused.status_code == 429
    assert "5 submissions per 5 minutes" in refused.json()["errors"][0]["details"]
    other_type = create_feed(live, "POST_INVENTORY_AVAILABILITY_DATA", document_id)
    assert other_type.status_code == 202  # the limit is JSON_LISTINGS_FEED's own

    live.admin(
        "PUT", "/usage-plans/feeds.createFeed.JSON_LISTINGS_FEED", json={"rate": 1, "burst": 5}
    )
    assert create_feed(live, "JSON_LISTINGS_FEED", document_id).status_code == 202


def test_documents_must_be_uploaded_in_time_and_by_their_owner(
    start_sandbox: Callable[..., LiveSandbox],
) -> None:
    live = start_sandbox(document_url_seconds=1)
    late = create_document(live)
    not_uploaded = create_feed(live, "JSON_LISTINGS_FEED", late["feedDocumentId"])
    assert not_uploaded.status_code == 400
    time.sleep(1.5)
    expired = httpx.put(late["url"], content=b"{}", headers={"Content-Type": JSON_TYPE})
    assert expired.status_code == 403
    assert b"Request has expired" in expired.content
    forged = httpx.put(late["url"][:-4] + "0000", content=b"{}")
    assert forged.status_code == 403

    other = live.admin("POST", "/sellers", json={"name": "Andere GmbH", "marketplaces": ["DE"]})
    other_seller = live.sandbox.state.sellers[other["seller_id"]]
    foreign = live.call(
        "POST",
        f"{FEEDS}/documents",
        json={"contentType": JSON_TYPE},
        token=live.token(other_seller),
    ).json()
    httpx.put(foreign["url"], content=b"{}", headers={"Content-Type": JSON_TYPE})
    for document_id in (foreign["feedDocumentId"], "amzn1.tortuga.4.eu.nothing"):
        assert create_feed(live, "JSON_LISTINGS_FEED", document_id).status_code == 400
        unknown = live.call("GET", f"{FEEDS}/documents/{document_id}")
        assert unknown.status_code == 404
        assert_conforms("feeds.getFeedDocument", unknown)

    no_content_type = live.call("POST", f"{FEEDS}/documents", json={})
    assert no_content_type.status_code == 400
    assert_conforms("feeds.createFeedDocument", no_content_type)


def test_only_queued_feeds_can_be_cancelled(start_sandbox: Callable[..., LiveSandbox]) -> None:
    live = start_sandbox(feed_queue_seconds=1, feed_processing_seconds=0.2)
    poll_often(live)
    queued = submit(live, "POST_INVENTORY_AVAILABILITY_DATA", b"<x/>")
    cancelled = live.call("DELETE", f"{FEEDS}/feeds/{queued}")
    assert cancelled.status_code == 200
    assert cancelled.content == b""
    assert_conforms("feeds.cancelFeed", cancelled)
    again = live.call("DELETE", f"{FEEDS}/feeds/{queued}")
    assert again.status_code == 400
    assert_conforms("feeds.cancelFeed", again)

    finished = submit(
        live, "JSON_LISTINGS_FEED", listings_feed(live, [stock_message(1, "SB-0001", 2)])
    )
    assert wait(live, finished)["processingStatus"] == "DONE"
    too_late = live.call("DELETE", f"{FEEDS}/feeds/{finished}")
    assert too_late.status_code == 400
    assert_conforms("feeds.cancelFeed", too_late)
    unknown = live.call("DELETE", f"{FEEDS}/feeds/123")
    assert unknown.status_code == 404
    assert_conforms("feeds.cancelFeed", unknown)

    cancelled_feed = get_feed(live, queued)
    assert cancelled_feed["processingStatus"] == "CANCELLED"
    assert "resultFeedDocumentId" not in cancelled_feed
    missing = live.call("GET", f"{FEEDS}/feeds/123")
    assert missing.status_code == 404
    assert_conforms("feeds.getFeed", missing)


def get_feeds(live: LiveSandbox, **params: str) -> httpx.Response:
    response = live.call("GET", f"{FEEDS}/feeds", params=params)
    assert_conforms("feeds.getFeeds", response)
    return response


def test_get_feeds_pages_newest_first(fast: LiveSandbox) -> None:
    # Twenty getFeeds in a row would outrun even the time-scaled plan (burst 10) on a fast machine.
    fast.admin("PUT", "/usage-plans/feeds.getFeeds", json={"rate": 1000, "burst": 100})
    document_id = upload(fast, listings_feed(fast, [stock_message(1, "SB-0001", 1)]))
    created = [
        create_feed(fast, feed_type, document_id).json()["feedId"]
        for feed_type in ["POST_INVENTORY_AVAILABILITY_DATA"] * 7 + ["JSON_LISTINGS_FEED"] * 5
    ]
    both = "POST_INVENTORY_AVAILABILITY_DATA,JSON_LISTINGS_FEED"
    pages = [get_feeds(fast, feedTypes=both, pageSize="5").json()]
    while "nextToken" in pages[-1]:
        pages.append(get_feeds(fast, nextToken=pages[-1]["nextToken"]).json())
    assert [len(page["feeds"]) for page in pages] == [5, 5, 2]
    assert [feed["feedId"] for page in pages for feed in page["feeds"]] == created[::-1]

    for feed_id in created:
        wait(fast, feed_id)
    done = get_feeds(fast, feedTypes="JSON_LISTINGS_FEED", processingStatuses="DONE").json()
    assert sorted(feed["feedId"] for feed in done["feeds"]) == sorted(created[7:])
    assert "nextToken" not in done
    assert get_feeds(fast, feedTypes=both, marketplaceIds=FR).json()["feeds"] == []
    january = {"createdSince": "2020-01-01T00:00:00Z", "createdUntil": "2020-02-01T00:00:00Z"}
    assert get_feeds(fast, feedTypes=both, **january).json()["feeds"] == []

    for params in (
        {"nextToken": pages[0]["nextToken"], "pageSize": "5"},
        {"pageSize": "5"},
        {"feedTypes": both, "pageSize": "101"},
        {"feedTypes": both, "processingStatuses": "FINISHED"},
        {"feedTypes": both, "createdSince": "yesterday"},
        {"feedTypes": both, "createdSince": "2099-01-01T00:00:00Z"},
        {"nextToken": "garbage"},
    ):
        assert get_feeds(fast, **params).status_code == 400, params


# --- checking messages quickly, with the schema's verdict -------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
# Values at the edges of what the message schema allows.
EDGES = st.sampled_from(
    [0, 1, -1, 2_147_483_647, 2_147_483_648, 1.0, True, "", "x", [], [{}], [1], {}, {"a": 1}]
) | st.sampled_from(
    ["PATCH", "DELETE", "UPDATE", "PARTIAL_UPDATE", "LISTING", "LISTING_OFFER_ONLY", "merge"]
)
MESSAGE_FIELDS = (
    "messageId", "sku", "operationType", "productType", "requirements", "attributes", "patches",
)  # fmt: skip
PATCH_FIELDS = ("op", "path", "value")


def base_messages() -> list[dict[str, Any]]:
    """One valid message of each shape a connector sends."""
    return [
        stock_message(1, "SB-0001", 5),
        {"messageId": 2, "sku": "SB-0002", "operationType": "DELETE"},
        {
            "messageId": 3,
            "sku": "SB-0004",
            "operationType": "PARTIAL_UPDATE",
            "productType": "TEA",
            "attributes": {"item_name": [{"value": "Rooibos"}]},
        },
        {
            "messageId": 4,
            "sku": "SB-0005",
            "operationType": "UPDATE",
            "productType": "TEA",
            "requirements": "LISTING",
            "attributes": {"item_name": [{"value": "Rooibos"}]},
        },
        {
            "messageId": 5,
            "sku": "SB-0007",
            "operationType": "PATCH",
            "productType": "PRODUCT",
            "patches": [
                {"op": "merge", "path": "/attributes/fulfillment_availability", "value": []},
                {"op": "delete", "path": "/attributes/bullet_point"},
            ],
        },
    ]


@st.composite
def mutated_message(draw: st.DrawFn) -> Any:
    """A valid message with a few fields removed or replaced, or no message at all."""
    if draw(st.integers(0, 20)) == 0:
        return draw(JSON_VALUES)
    message: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(base_messages())))
    for _ in range(draw(st.integers(0, 3))):
        target: dict[str, Any] = message
        patches = message.get("patches")
        if isinstance(patches, list) and patches and isinstance(patches[0], dict):
            target = patches[0] if draw(st.booleans()) else message
        name = draw(st.sampled_from(PATCH_FIELDS if target is not message else MESSAGE_FIELDS))
        if draw(st.integers(0, 3)) == 0:
            target.pop(name, None)
        else:
            target[name] = draw(EDGES | JSON_VALUES)
    if draw(st.integers(0, 10)) == 0:
        message[draw(st.text(max_size=3))] = draw(JSON_VALUES)
    return message


def reference_problems(document: Any) -> tuple[list[Any], dict[int, Any]]:
    """The errors as the whole feed schema gives them: outside the messages, and the first one
    of each message (how processing read them before messages were checked one by one)."""
    by_message: dict[int, Any] = {}
    whole: list[Any] = []
    for problem in spec.document_schema("feeds/listings-feed-schema-v2").iter_errors(document):
        path = list(problem.absolute_path)
        if len(path) >= 2 and path[0] == "messages" and isinstance(path[1], int):
            by_message.setdefault(path[1], problem)
        else:
            whole.append(problem)
    return whole, by_message


def described(problem: Any) -> tuple[Any, ...] | None:
    """What processing reads from an error: where, what, and the message of its best match."""
    if problem is None:
        return None
    best = best_match([problem])
    assert best is not None
    return (problem.validator, problem.message, best.message)


@settings(max_examples=400, deadline=None)
@given(
    messages=st.lists(mutated_message(), max_size=4),
    header=st.sampled_from(
        [
            {"sellerId": "A1SELLER", "version": "2.0"},
            {"sellerId": "A1SELLER", "version": "1.0"},
            {"version": "2.0"},
            {"sellerId": "A1SELLER", "version": "2.0", "report": {"includedData": []}},
        ]
    ),
)
def test_messages_checked_one_by_one_get_the_verdict_of_the_whole_schema(
    messages: list[Any], header: dict[str, Any]
) -> None:
    document = {"header": header, "messages": messages}
    whole, by_message = reference_problems(document)
    outside = feeds.document_problems(document)
    assert [(list(p.absolute_path), p.validator, p.message) for p in outside] == [
        (list(p.absolute_path), p.validator, p.message) for p in whole
    ]
    for index, message in enumerate(messages):
        expected = by_message.get(index)
        found = feeds.message_problem(message)
        assert described(found) == described(expected), message
        if found is not None and expected is not None:
            assert list(found.absolute_path) == list(expected.absolute_path)[2:]
        if feeds.plainly_valid(message):
            assert expected is None, message


def test_the_messages_a_connector_sends_are_checked_by_hand() -> None:
    """The quick check covers the usual shapes, so a big feed does not wait for jsonschema."""
    for message in base_messages():
        assert feeds.plainly_valid(message), message
    unusual_but_valid = {**stock_message(9, "SB-0001", 5), "messageId": 9.0}
    assert not feeds.plainly_valid(unusual_but_valid)
    assert feeds.message_problem(unusual_but_valid) is None  # the schema's validator decides


PATCH_ONE = stock_message(1, "SB-0001", 5)
DELETE_ONE_MESSAGE = {"messageId": 1, "sku": "SB-0001", "operationType": "DELETE"}
ATTRIBUTES = {"item_name": [{"value": "Rooibos"}]}
PARTIAL = {**DELETE_ONE_MESSAGE, "operationType": "PARTIAL_UPDATE", "productType": "TEA"}


@pytest.mark.parametrize(
    "message",
    [
        {**PATCH_ONE, "messageId": 0},
        {**PATCH_ONE, "messageId": 2_147_483_648},
        {**PATCH_ONE, "messageId": True},
        {**PATCH_ONE, "messageId": "1"},
        {**PATCH_ONE, "sku": ""},
        {**PATCH_ONE, "sku": 1},
        {**PATCH_ONE, "operationType": "PUT"},
        {**PATCH_ONE, "productType": ""},
        {key: value for key, value in PATCH_ONE.items() if key != "productType"},
        {**PATCH_ONE, "patches": []},
        {**PATCH_ONE, "patches": [{"op": "move", "path": "/attributes/x"}]},
        {**PATCH_ONE, "patches": [{"op": "delete"}]},
        {**PATCH_ONE, "patches": [{"op": "add", "path": "/attributes/x", "value": {}}]},
        {**PATCH_ONE, "patches": [{"op": "add", "path": "/attributes/x", "value": [1]}]},
        {**PATCH_ONE, "attributes": ATTRIBUTES},
        {**PATCH_ONE, "requirements": "LISTING"},
        {**DELETE_ONE_MESSAGE, "productType": "TEA"},
        {**DELETE_ONE_MESSAGE, "patches": PATCH_ONE["patches"]},
        {**PARTIAL, "attributes": {}},
        {**PARTIAL, "attributes": ATTRIBUTES, "patches": PATCH_ONE["patches"]},
        {**PARTIAL, "attributes": ATTRIBUTES, "requirements": "LISTING"},
        {**PARTIAL, "operationType": "UPDATE", "attributes": ATTRIBUTES, "requirements": "ALL"},
        {**PARTIAL, "operationType": "UPDATE"},
    ],
)
def test_the_hand_check_lets_no_broken_message_through(message: dict[str, Any]) -> None:
    assert not feeds.plainly_valid(message)
    assert feeds.message_problem(message) is not None


def test_a_message_s_patches_apply_together_or_not_at_all(fast: LiveSandbox) -> None:
    seller_id = fast.seller.seller_id
    fast.admin(
        "PUT", f"/listings/{seller_id}/ONLY-DE", json={"marketplaces": ["DE"], "quantity": 4}
    )
    patches = [
        {"op": "replace", "path": "/attributes/bullet_point", "value": [{"value": "Neu"}]},
        stock_message(1, "ONLY-DE", 9)["patches"][0],
        stock_message(1, "ONLY-DE", -1)["patches"][0],
    ]
    message = {**stock_message(1, "ONLY-DE", 0), "patches": patches}
    feed = wait(fast, submit(fast, "JSON_LISTINGS_FEED", listings_feed(fast, [message]), (DE, FR)))
    assert [issue["code"] for issue in report(fast, feed)["issues"]] == ["90000900"]
    assert quantity(fast, "ONLY-DE") == 4
    item = fast.call(
        "GET",
        f"/listings/2021-08-01/items/{seller_id}/ONLY-DE",
        params={"marketplaceIds": DE, "includedData": "attributes"},
    ).json()
    assert "bullet_point" not in item["attributes"]
    in_france = fast.call(
        "GET", f"/listings/2021-08-01/items/{seller_id}/ONLY-DE", params={"marketplaceIds": FR}
    )
    assert in_france.status_code == 404  # the valid patch would have listed it there

    message["patches"] = patches[:2]
    feed = wait(fast, submit(fast, "JSON_LISTINGS_FEED", listings_feed(fast, [message]), (DE, FR)))
    assert report(fast, feed)["issues"] == []
    assert quantity(fast, "ONLY-DE") == quantity(fast, "ONLY-DE", FR) == 9
