"""Feeds API 2021-06-30: feed documents, feeds and their asynchronous processing.

A feed goes the way Amazon describes it (spapi.md §5.3): ``createFeedDocument`` hands out a
pre-signed upload URL that expires after 5 minutes; the client PUTs the file there;
``createFeed`` queues the feed (202). It waits ``feed_queue_seconds`` IN_QUEUE, is IN_PROGRESS
for ``feed_processing_seconds`` (both divided by the time scale) and ends DONE or FATAL with a
processing report that ``getFeedDocument`` offers for download: GZIP-compressed, and announced
as such in ``compressionAlgorithm``, when it is large. Only IN_QUEUE feeds can be cancelled.
``getFeeds`` lists the newest first, and its ``nextToken`` must be sent as the only parameter.

Feed types are processed by processors registered per feed type (``register_processor``):
``JSON_LISTINGS_FEED`` here, ``UPLOAD_VAT_INVOICE`` in :mod:`.vat_invoices`. The XML and flat-file
listings feeds Amazon removed on 2025-07-31 (``POST_INVENTORY_AVAILABILITY_DATA`` and the others
of spapi.md §6.1) are still accepted and end FATAL, as they do on Amazon now.

JSON_LISTINGS_FEED (spapi.md §6.2, the schemas in ``spapi/schemas/feeds``):

- A document that is not JSON, breaks the feed schema outside its messages (the header, the
  messages array) or names another seller in ``header.sellerId`` ends FATAL; the report says
  why, with the codes Amazon's reports use for such problems (amzn/selling-partner-api-models
  #1662, #4679): 4002005 for a missing attribute, 4002006 for anything else.
- A message that breaks the message schema gets error 4002008 (as in Amazon's reports,
  amzn/selling-partner-api-models#1641); the other messages are still processed.
- ``PATCH`` messages are applied as :mod:`.listings` applies ``patchListingsItem``;
  ``PARTIAL_UPDATE`` as ``replace`` patches of the attributes it names; ``UPDATE`` replaces all
  attributes (a merchant-fulfilled listing sent without ``fulfillment_availability`` loses its
  quantity, since the update is complete by definition); ``DELETE`` removes the listing from
  the feed's marketplaces. A message for an unknown SKU, an Amazon-fulfilled SKU or with a bad
  quantity gets the issues :mod:`.listings` documents and changes nothing.
- The report follows ``listings-feed-processing-report-schema-v2``: issues per message,
  summary counts, and with ``header.report.includedData`` the accepted listings items.
- Amazon allows 5 JSON_LISTINGS_FEED submissions per 5 minutes (since 2025-05-06, spapi.md
  §5.3) besides the createFeed usage plan. The sandbox keeps that as a second token bucket per
  seller, 5 deep and refilled at 5 per 300 seconds times the time scale; over it, createFeed
  answers 429. Its key ``feeds.createFeed.JSON_LISTINGS_FEED`` takes a usage-plan override
  (``PUT /_sandbox/usage-plans/...``) like any operation.

Processing time (a sandbox matter): Amazon processes a feed on its own machines, the sandbox
inside the first request that finds it due, on the one event loop that serves every client;
while it runs, nobody else is answered. So a big feed must be quick. Messages are checked
against the message schema one by one (the document outside them once), each first by hand
(:func:`plainly_valid`, for the shapes a connector sends), and only those the hand check cannot
vouch for by the schema's validator, which words the error: the issues and the report are the
ones validating the whole document at once gives. Patches work on a copy of only what they
change (:func:`.listings.apply_patches`). 25,000 ``PATCH`` messages of quantities for existing
merchant-fulfilled SKUs are applied in about 0.3 s on a 2-core development machine (3.7 s when
every message went through the schema's validator and a deep copy of its listing); a report
with ``includedData`` for all of them, or thousands of messages that break the schema, take
about a second. Processing is not split into parts that let other requests in between: a
half-applied feed would be visible, and lost or applied twice when the state is saved and
loaded in the middle.

Unverified choices: a feed type that the sandbox neither processes nor knows as removed gets
400, including current Amazon types the sandbox does not model (e.g. POST_ORDER_FULFILLMENT_DATA);
reports above 100 kB are compressed (Amazon's threshold is not documented); the report of a
removed feed type is a line of text; the input document of a feed must be the caller's own,
uploaded, feed document, else 400.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from pydantic import BaseModel, Field

from sellerbridge.sandbox import documents, listings, spec
from sellerbridge.sandbox.errors import ApiError, invalid_input, not_found
from sellerbridge.sandbox.framework import Api, Call, Reply, check_marketplaces, iso
from sellerbridge.sandbox.history import ProcessingStatus, history_page, history_query

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox

api = Api()
logger = logging.getLogger("sellerbridge.sandbox")

LISTINGS_FEED = "JSON_LISTINGS_FEED"
LISTINGS_FEED_SCHEMA = "feeds/listings-feed-schema-v2"
LISTINGS_FEED_LIMIT = spec.OperationSpec(
    api="feeds",
    operation_id="createFeed.JSON_LISTINGS_FEED",
    method="POST",
    path="/feeds/2021-06-30/feeds",
    rate=5 / 300,
    burst=5,
)
REMOVED_FEED_TYPES = frozenset(
    {
        "POST_INVENTORY_AVAILABILITY_DATA",
        "POST_FLAT_FILE_PRICEANDQUANTITYONLY_UPDATE_DATA",
        "POST_FLAT_FILE_INVLOADER_DATA",
        "POST_FLAT_FILE_LISTINGS_DATA",
        "POST_PRODUCT_DATA",
        "POST_PRODUCT_PRICING_DATA",
        "POST_PRODUCT_OVERRIDES_DATA",
        "POST_PRODUCT_IMAGE_DATA",
        "POST_PRODUCT_RELATIONSHIP_DATA",
        "POST_FLAT_FILE_BOOKLOADER_DATA",
        "POST_FLAT_FILE_CONVERGENCE_LISTINGS_DATA",
        "POST_UIEE_BOOKLOADER_DATA",
    }
)
REPORT_CONTENT_TYPE = "application/json; charset=UTF-8"


class Feed(BaseModel):
    feed_id: str
    seller_id: str
    feed_type: str
    marketplace_ids: list[str]
    feed_options: dict[str, str] = Field(default_factory=dict)
    input_document_id: str
    created_time: datetime
    processing_status: ProcessingStatus = "IN_QUEUE"
    processing_start_time: datetime | None = None
    processing_end_time: datetime | None = None
    result_document_id: str | None = None


@dataclass(frozen=True)
class FeedResult:
    """What processing a feed gives: its final status and the processing report to store."""

    status: Literal["DONE", "FATAL"]
    content: bytes
    content_type: str


FeedProcessor = Callable[["Sandbox", Feed, bytes, datetime], FeedResult]
"""Processes one feed: the sandbox, the feed, the uploaded document's bytes, the time."""

PROCESSORS: dict[str, FeedProcessor] = {}


def register_processor(feed_type: str, processor: FeedProcessor) -> None:
    PROCESSORS[feed_type] = processor


class FeedsState(BaseModel):
    feeds: dict[str, Feed] = Field(default_factory=dict)
    pending: list[str] = Field(default_factory=list)
    """Ids of the feeds IN_QUEUE or IN_PROGRESS, oldest first."""


# --- processing -----------------------------------------------------------------------------


def _removed_feed_type(feed: Feed) -> FeedResult:
    text = (
        f"Feed {feed.feed_id}: the feed type {feed.feed_type} was removed on 2025-07-31 and is "
        "no longer processed. Update listings with JSON_LISTINGS_FEED or the Listings Items "
        "API (patchListingsItem).\n"
    )
    return FeedResult("FATAL", text.encode(), "text/plain; charset=UTF-8")


def _finish(sandbox: Sandbox, feed: Feed, end: datetime) -> None:
    if feed.feed_type in REMOVED_FEED_TYPES:
        result = _removed_feed_type(feed)
    else:
        source = sandbox.state.documents.documents[feed.input_document_id]
        try:
            result = PROCESSORS[feed.feed_type](sandbox, feed, documents.plain_content(source), end)
        except Exception:  # a processor's bug must not stop every later request
            logger.exception("processing feed %s failed", feed.feed_id)
            result = FeedResult(
                "FATAL", b"Feed processing failed unexpectedly.\n", "text/plain; charset=UTF-8"
            )
    report = documents.create(
        sandbox,
        seller_id=feed.seller_id,
        purpose="feed_result",
        content_type=result.content_type,
        now=end,
        content=result.content,
    )
    feed.processing_status = result.status
    feed.processing_end_time = end
    feed.result_document_id = report.document_id


def _advance(sandbox: Sandbox, now: datetime) -> None:
    """Move due feeds from IN_QUEUE to IN_PROGRESS, and finished ones to DONE or FATAL."""
    state = sandbox.state.feeds
    for feed_id in list(state.pending):
        feed = state.feeds[feed_id]
        start = feed.processing_start_time or sandbox.due(
            feed.created_time, sandbox.config.feed_queue_seconds
        )
        if now < start:
            continue
        feed.processing_status = "IN_PROGRESS"
        feed.processing_start_time = start
        end = sandbox.due(start, sandbox.config.feed_processing_seconds)
        if now < end:
            continue
        _finish(sandbox, feed, end)
        state.pending.remove(feed_id)


def setup(sandbox: Sandbox) -> None:
    register_processor(LISTINGS_FEED, process_listings_feed)
    sandbox.on_advance(_advance)


# --- JSON_LISTINGS_FEED ---------------------------------------------------------------------


def _report(
    header: dict[str, Any],
    issues: list[dict[str, Any]],
    processed: int,
    accepted: int,
    items: list[dict[str, Any]] | None = None,
) -> bytes:
    summary: dict[str, Any] = {
        "errors": sum(1 for issue in issues if issue["severity"] == "ERROR"),
        "warnings": sum(1 for issue in issues if issue["severity"] == "WARNING"),
        "messagesProcessed": processed,
        "messagesAccepted": accepted,
        "messagesInvalid": processed - accepted,
    }
    report: dict[str, Any] = {"header": header, "issues": issues, "summary": summary}
    if items is not None:
        summary["itemSummary"] = {"items": len(items), "errors": 0, "warnings": 0}
        report["items"] = items
    return json.dumps(report, ensure_ascii=False).encode()


def _report_issue(issue: listings.Issue, message_id: Any = None, sku: Any = None) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    if isinstance(message_id, int) and not isinstance(message_id, bool) and message_id >= 1:
        entry["messageId"] = message_id
    if isinstance(sku, str) and sku:
        entry["sku"] = sku
    entry.update(code=issue.code, severity=issue.severity, message=issue.message)
    if issue.attribute:
        entry["attributeName"] = issue.attribute
    return entry


def _fatal(header: dict[str, Any], issues: list[listings.Issue]) -> FeedResult:
    content = _report(header, [_report_issue(issue) for issue in issues], 0, 0)
    return FeedResult("FATAL", content, REPORT_CONTENT_TYPE)


def _document_issue(problem: ValidationError) -> listings.Issue:
    where = "/".join(str(part) for part in problem.absolute_path) or "the document"
    code = "4002005" if problem.validator == "required" else "4002006"
    return listings.Issue(code, f"{where}: {problem.message}")


def _message_issue(problem: ValidationError) -> listings.Issue:
    detail = (best_match([problem]) or problem).message
    return listings.Issue(
        "4002008",
        "The provided message did not meet the schema validation requirements for a feed "
        f"message: {detail}",
    )


@cache
def _feed_validators() -> tuple[jsonschema.Draft7Validator, jsonschema.Draft7Validator]:
    """The feed schema without its message schema, and the message schema on its own.

    Validating the document against the first gives exactly the errors outside the messages
    that the whole schema gives, in the same order; validating each message against the second
    gives exactly the errors the whole schema gives below ``messages/<index>`` (the message
    schema has no references). Compiled once, like :func:`.spec.document_schema`.
    """
    whole = spec.document_schema(LISTINGS_FEED_SCHEMA)
    schema: dict[str, Any] = whole.schema  # type: ignore[assignment]
    messages: dict[str, Any] = schema["properties"]["messages"]
    shell = {
        **schema,
        "properties": {
            **schema["properties"],
            "messages": {key: value for key, value in messages.items() if key != "items"},
        },
    }
    checker = whole.format_checker
    return (
        jsonschema.Draft7Validator(shell, format_checker=checker),
        jsonschema.Draft7Validator(messages["items"], format_checker=checker),
    )


_OPERATIONS_WITH_ATTRIBUTES = ("UPDATE", "PARTIAL_UPDATE")  # compared, not hashed: any JSON value
_PATCH_OPS = frozenset({"add", "replace", "merge", "delete"})
_REQUIREMENTS = frozenset({"LISTING", "LISTING_PRODUCT_ONLY", "LISTING_OFFER_ONLY"})
_MAX_MESSAGE_ID = 2_147_483_647


def _plain_patches(patches: Any) -> bool:
    if type(patches) is not list or not patches:
        return False
    for patch in patches:
        if type(patch) is not dict:
            return False
        op, path = patch.get("op"), patch.get("path")
        if type(op) is not str or op not in _PATCH_OPS or type(path) is not str:
            return False
        if "value" in patch:
            value = patch["value"]
            if type(value) is not list or any(type(entry) is not dict for entry in value):
                return False
    return True


def _plain_text(value: Any) -> bool:
    return type(value) is str and value != ""


def _plain_body(message: dict[str, Any], operation: Any) -> bool:
    """The operation's part of the message schema (its ``oneOf``), for the usual shapes."""
    if operation == "DELETE":
        return not any(
            name in message for name in ("requirements", "attributes", "productType", "patches")
        )
    if not _plain_text(message.get("productType")):
        return False
    if "requirements" in message and not (
        operation == "UPDATE"
        and type(message["requirements"]) is str
        and message["requirements"] in _REQUIREMENTS
    ):
        return False
    if operation == "PATCH":
        return "attributes" not in message and _plain_patches(message.get("patches"))
    attributes = message.get("attributes")
    return (
        operation in _OPERATIONS_WITH_ATTRIBUTES
        and "patches" not in message
        and type(attributes) is dict
        and bool(attributes)
    )


def plainly_valid(message: Any) -> bool:
    """Whether ``message`` certainly meets the feed's message schema, checked by hand.

    A sandbox shortcut: the schema's own validator takes about 0.1 ms a message, most of the
    processing time of a big feed. This check accepts only messages the schema accepts (the
    tests hold it to that); for anything it is unsure of (an unusual but valid shape too) it
    answers False, and the schema's validator decides and words the error.
    """
    if type(message) is not dict:
        return False
    message_id = message.get("messageId")
    return (
        type(message_id) is int
        and 1 <= message_id <= _MAX_MESSAGE_ID
        and _plain_text(message.get("sku"))
        and _plain_body(message, message.get("operationType"))
    )


def document_problems(document: Any) -> list[ValidationError]:
    """The feed schema's errors outside the messages (header, the messages array), in order."""
    return list(_feed_validators()[0].iter_errors(document))


def message_problem(message: Any) -> ValidationError | None:
    """The first error the feed schema finds in one message, or ``None`` if it meets it.

    The same error that validating the whole document gives first below that message.
    """
    if plainly_valid(message):
        return None
    return next(iter(_feed_validators()[1].iter_errors(message)), None)


def _apply_message(
    sandbox: Sandbox, feed: Feed, message: dict[str, Any], now: datetime
) -> list[listings.Issue]:
    seller_id, sku, marketplaces = feed.seller_id, message["sku"], feed.marketplace_ids
    operation = message["operationType"]
    if operation == "DELETE":
        return listings.delete_listing(sandbox, seller_id, sku, marketplaces, now)
    if operation == "PATCH":
        return listings.apply_patches(
            sandbox, seller_id, sku, marketplaces, message["patches"], now, apply=True
        )
    attributes: dict[str, Any] = message["attributes"]
    if operation == "PARTIAL_UPDATE":
        patches = [
            {"op": "replace", "path": f"/attributes/{name}", "value": value}
            for name, value in attributes.items()
        ]
        return listings.apply_patches(
            sandbox, seller_id, sku, marketplaces, patches, now, apply=True
        )
    return listings.replace_attributes(sandbox, seller_id, sku, marketplaces, attributes, now)


def process_listings_feed(
    sandbox: Sandbox, feed: Feed, content: bytes, now: datetime
) -> FeedResult:
    """Apply a JSON_LISTINGS_FEED message by message and write its processing report."""
    header: dict[str, Any] = {"sellerId": feed.seller_id, "version": "2.0", "feedId": feed.feed_id}
    try:
        document = json.loads(content)
    except ValueError as error:  # not UTF-8, or not JSON
        return _fatal(
            header, [listings.Issue("4002006", f"The feed document is not valid JSON: {error}")]
        )
    whole = document_problems(document)
    if whole:
        return _fatal(header, [_document_issue(problem) for problem in whole])
    if document["header"]["sellerId"] != feed.seller_id:
        return _fatal(
            header,
            [
                listings.Issue(
                    "4002006",
                    f"header/sellerId: {document['header']['sellerId']!r} is not the selling "
                    f"partner that submitted the feed ({feed.seller_id}).",
                )
            ],
        )
    issues: list[dict[str, Any]] = []
    accepted: list[str] = []
    for message in document["messages"]:
        problem = message_problem(message)
        if problem is not None:  # the message may lack any field, or not be an object at all
            fields = message if isinstance(message, dict) else {}
            issues.append(
                _report_issue(_message_issue(problem), fields.get("messageId"), fields.get("sku"))
            )
            continue
        found = _apply_message(sandbox, feed, message, now)
        issues.extend(_report_issue(issue, message["messageId"], message["sku"]) for issue in found)
        if not any(issue.severity == "ERROR" for issue in found):
            accepted.append(message["sku"])
    items = None
    requested = document["header"].get("report")
    if requested is not None:
        header["report"] = requested
        items = []
        for sku in dict.fromkeys(accepted):
            listing = listings.find_listing(sandbox, feed.seller_id, sku)
            if listing is not None:
                items.append(
                    listings.render_item(
                        sandbox,
                        feed.seller_id,
                        listing,
                        feed.marketplace_ids,
                        requested["includedData"],
                    )
                )
    content = _report(header, issues, len(document["messages"]), len(accepted), items)
    return FeedResult("DONE", content, REPORT_CONTENT_TYPE)


# --- operations -----------------------------------------------------------------------------


def _feed_json(feed: Feed) -> dict[str, Any]:
    body: dict[str, Any] = {
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "marketplaceIds": feed.marketplace_ids,
        "createdTime": iso(feed.created_time),
        "processingStatus": feed.processing_status,
    }
    if feed.processing_start_time is not None:
        body["processingStartTime"] = iso(feed.processing_start_time)
    if feed.processing_end_time is not None:
        body["processingEndTime"] = iso(feed.processing_end_time)
    if feed.result_document_id is not None:
        body["resultFeedDocumentId"] = feed.result_document_id
    return body


def _own_feed(call: Call) -> Feed:
    feed_id = call.path["feedId"]
    feed = call.sandbox.state.feeds.feeds.get(feed_id)
    if feed is None or feed.seller_id != call.seller.seller_id:
        raise not_found(f"Feed {feed_id} not found.")
    return feed


@api.operation("feeds.createFeedDocument")
def create_feed_document(call: Call) -> Reply:
    content_type = call.body["contentType"].strip()
    if not content_type:
        raise invalid_input("contentType must name the content type of the feed.")
    document = documents.create(
        call.sandbox,
        seller_id=call.seller.seller_id,
        purpose="feed",
        content_type=content_type,
        now=call.now,
    )
    url = documents.presigned_url(call.sandbox, call.base_url, document, call.now)
    return Reply(status=201, body={"feedDocumentId": document.document_id, "url": url})


def _take_listings_feed_token(call: Call) -> None:
    try:
        call.sandbox.throttle.take(call.seller.seller_id, LISTINGS_FEED_LIMIT)
    except ApiError as error:
        raise ApiError(
            error.status,
            error.code,
            error.message,
            "JSON_LISTINGS_FEED takes at most 5 submissions per 5 minutes per selling partner.",
        ) from None


@api.operation("feeds.createFeed")
def create_feed(call: Call) -> Reply:
    body = call.body
    feed_type: str = body["feedType"]
    if feed_type not in PROCESSORS and feed_type not in REMOVED_FEED_TYPES:
        raise invalid_input(
            f"Invalid feedType: {feed_type}.",
            f"The sandbox processes {', '.join(sorted(PROCESSORS))}.",
        )
    check_marketplaces(call.seller, body["marketplaceIds"])
    document_id: str = body["inputFeedDocumentId"]
    source = call.sandbox.state.documents.documents.get(document_id)
    if source is None or source.seller_id != call.seller.seller_id or source.purpose != "feed":
        raise invalid_input(f"Invalid inputFeedDocumentId: {document_id}.")
    if source.content is None:
        raise invalid_input(
            f"The feed document {document_id} has no content: upload it to its URL first."
        )
    if feed_type == LISTINGS_FEED:
        _take_listings_feed_token(call)
    feed = Feed(
        feed_id=str(50_019_000_000 + call.sandbox.next_number()),
        seller_id=call.seller.seller_id,
        feed_type=feed_type,
        marketplace_ids=body["marketplaceIds"],
        feed_options=body.get("feedOptions", {}),
        input_document_id=document_id,
        created_time=call.now,
    )
    call.sandbox.state.feeds.feeds[feed.feed_id] = feed
    call.sandbox.state.feeds.pending.append(feed.feed_id)
    return Reply(status=202, body={"feedId": feed.feed_id})


@api.operation("feeds.getFeed")
def get_feed(call: Call) -> Reply:
    return Reply(body=_feed_json(_own_feed(call)))


@api.operation("feeds.cancelFeed")
def cancel_feed(call: Call) -> Reply:
    feed = _own_feed(call)
    if feed.processing_status != "IN_QUEUE":
        raise invalid_input(
            f"Feed {feed.feed_id} is {feed.processing_status}: only feeds IN_QUEUE can be "
            "cancelled."
        )
    feed.processing_status = "CANCELLED"
    call.sandbox.state.feeds.pending.remove(feed.feed_id)
    return Reply()


@api.operation("feeds.getFeeds")
def get_feeds(call: Call) -> Reply:
    page, next_token = history_page(
        call,
        history_query(call, "feedTypes"),
        call.sandbox.state.feeds.feeds.values(),
        number=lambda feed: int(feed.feed_id),
        kind=lambda feed: feed.feed_type,
    )
    body: dict[str, Any] = {"feeds": [_feed_json(feed) for feed in page]}
    if next_token:
        body["nextToken"] = next_token
    return Reply(body=body)


@api.operation("feeds.getFeedDocument")
def get_feed_document(call: Call) -> Reply:
    document_id = call.path["feedDocumentId"]
    document = call.sandbox.state.documents.documents.get(document_id)
    if (
        document is None
        or document.seller_id != call.seller.seller_id
        or document.purpose not in ("feed", "feed_result")
    ):
        raise not_found(f"Feed document {document_id} not found.")
    body: dict[str, Any] = {
        "feedDocumentId": document.document_id,
        "url": documents.presigned_url(call.sandbox, call.base_url, document, call.now),
    }
    if document.compression is not None:
        body["compressionAlgorithm"] = document.compression
    return Reply(body=body)
