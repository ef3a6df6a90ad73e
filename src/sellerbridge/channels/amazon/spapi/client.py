"""The SP-API client: the one way sellerbridge calls Amazon, with the rules every call needs.

Every call, in this order:

1. takes a token from the (seller, operation) bucket (:mod:`.ratelimit`), sleeping until one
   is due; waits of a second or more are reported to ``on_wait`` so a command can say why it
   pauses. One token of each burst is kept in reserve: the requests of a steady stream reach
   Amazon with varying delays, and a bucket that mirrored Amazon's exactly would sometimes be a
   few milliseconds early. With one token in hand the copy can never run ahead of Amazon's.
2. gets an access token from the cache, or from Login with Amazon (:mod:`.auth`); a restricted
   call gets a Restricted Data Token for its method and path instead;
3. sends the request with timeouts on connect, read, write and pool (``httpx.Timeout``);
4. records the attempt (:mod:`.recorder`) and learns the rate from ``x-amzn-RateLimit-Limit``;
5. decides:

   - 2xx with a readable body: done.
   - 429: Amazon's bucket is empty, whatever ours said; ours is drained and the call waits for
     the refill and tries again. 429s do not use up the failure budget (they are expected with
     shared quotas) but are capped by ``RetryPolicy.throttled``, then :class:`ThrottledError`.
   - 5xx, timeouts, broken connections, bodies that are not JSON: tried again after a capped
     exponential backoff with full jitter (a random wait between 0 and
     ``min(cap, base * 2 ** (failure - 1))``), so that many clients failing together do not
     come back together; after ``RetryPolicy.attempts`` failures :class:`RetryableError` (or
     :class:`UnreachableError` if no connection was ever made).
   - ``idempotent=False`` (creating a feed, buying a label): when the request may have
     reached Amazon (a timeout or a broken connection after sending, a 5xx other than 503, an
     unreadable success) it is not repeated, which could apply it twice, but raises
     :class:`AmbiguousError`. Connection failures before sending and 503 are still retried.
   - 401/403 for an expired or refused token: the token is dropped and the call repeated once
     with a new one; otherwise :class:`AuthError` with the reason.
   - any other 4xx: :class:`RejectedError` at once.

Each call also writes one structured log line: operation, method, path without query string,
status, Amazon request id, duration, attempt. Tokens, header values, query strings and bodies
are never logged or recorded: they carry secrets and buyers' personal data.

Feed and report files go to and come from pre-signed URLs (:meth:`SpApiClient.upload_document`,
:meth:`SpApiClient.download_document`). Those are not SP-API calls: the URL is the permission,
so steps 1 and 2 are left out; the rest is the same, under the operations ``documents.upload``
and ``documents.download``, except that a 4xx of the storage service is :class:`RejectedError`
with its error code (403 ``AccessDenied`` for an expired URL).

Nothing is global but the access-token cache, whose keys are derived from the credentials and
the endpoint: a client carries its seller, credentials, endpoint and buckets, so two sellers,
two regions, or the sandbox and Amazon can be used side by side.
"""

from __future__ import annotations

import gzip
import json as jsonlib
import math
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import SplitResult, quote, urlsplit

import httpx
import pydantic
import structlog

from sellerbridge import __version__
from sellerbridge.channels.amazon.spapi.auth import (
    LWA_TOKEN_URL,
    SHARED_TOKENS,
    Credentials,
    TokenCache,
    credentials_key,
    lwa_error_code,
    read_token,
    restricted_key,
)
from sellerbridge.channels.amazon.spapi.errors import (
    AmbiguousError,
    AuthError,
    AuthReason,
    ErrorDetail,
    RejectedError,
    RetryableError,
    SpApiError,
    ThrottledError,
    UnreachableError,
    safe_codes,
)
from sellerbridge.channels.amazon.spapi.models.fba_inventory import (
    GetInventorySummariesResponse,
    InventoryPage,
)
from sellerbridge.channels.amazon.spapi.models.feeds import (
    CreateFeedResponse,
    DocumentLocation,
    Feed,
    FeedDocumentUpload,
)
from sellerbridge.channels.amazon.spapi.models.finances import (
    FinancialEventsPage,
    ListFinancialEventsResponse,
)
from sellerbridge.channels.amazon.spapi.models.listings import ListingsSubmission
from sellerbridge.channels.amazon.spapi.models.merchant_fulfillment import (
    CreateShipmentRequest,
    GetEligibleShipmentServicesRequest,
    GetEligibleShipmentServicesResponse,
    GetEligibleShipmentServicesResult,
    Shipment,
    ShipmentResponse,
)
from sellerbridge.channels.amazon.spapi.models.orders import (
    GetOrderResponse,
    Order,
    SearchOrdersResponse,
)
from sellerbridge.channels.amazon.spapi.models.orders_v0 import (
    ConfirmShipmentRequest,
    GetOrderBuyerInfoResponse,
    PackageDetail,
)
from sellerbridge.channels.amazon.spapi.models.reports import CreateReportResponse, Report
from sellerbridge.channels.amazon.spapi.models.sellers import (
    GetMarketplaceParticipationsResponse,
    MarketplaceParticipation,
)
from sellerbridge.channels.amazon.spapi.ratelimit import BucketStore
from sellerbridge.channels.amazon.spapi.recorder import CallRecord, CallRecorder
from sellerbridge.channels.amazon.spapi.usage_plans import SUBMISSION_LIMITS, plan
from sellerbridge.core.clock import ensure_utc, utcnow

log = structlog.get_logger("sellerbridge.spapi")

REGION_HOSTS = {
    "NA": "https://sellingpartnerapi-na.amazon.com",
    "EU": "https://sellingpartnerapi-eu.amazon.com",
    "FE": "https://sellingpartnerapi-fe.amazon.com",
}
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
LONG_WAIT_S = 1.0
"""Waits at least this long are reported to ``on_wait``."""
HEADROOM = 1
"""Tokens of each burst kept in reserve (see the module docstring)."""
LWA_OPERATION = "lwa.token"
RDT_OPERATION = "tokens.createRestrictedDataToken"
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
USER_AGENT = f"sellerbridge/{__version__} (Language=Python)"
UPLOAD_OPERATION = "documents.upload"
DOWNLOAD_OPERATION = "documents.download"

# Failures that happen before a request leaves: repeating them cannot apply anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

QueryValue = str | int | float | bool | datetime | Sequence[str] | None


@dataclass(frozen=True)
class Endpoint:
    """Where the SP-API and Login with Amazon are."""

    api_url: str
    lwa_url: str = LWA_TOKEN_URL

    @classmethod
    def for_region(cls, code: str) -> Endpoint:
        """Amazon's production host for a region (``EU``, ``NA``, ``FE``)."""
        try:
            return cls(REGION_HOSTS[code.upper()])
        except KeyError:
            raise ValueError(
                f"unknown SP-API region {code!r}; use one of {', '.join(REGION_HOSTS)}"
            ) from None

    @classmethod
    def custom(cls, base_url: str) -> Endpoint:
        """A configured base URL (the sandbox) that also serves ``/auth/o2/token``."""
        base = base_url.rstrip("/")
        return cls(base, f"{base}/auth/o2/token")

    @property
    def host(self) -> str:
        return urlsplit(self.api_url).netloc


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call tries before it gives up."""

    attempts: int = 5
    """Attempts per call for failures (5xx, timeouts, broken connections, bad bodies)."""
    base: float = 1.0
    """Seconds: the ceiling of the first backoff, doubled for each further failure..."""
    cap: float = 60.0
    """... up to this ceiling."""
    throttled: int = 10
    """429s one call may meet before it raises :class:`ThrottledError`."""

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.throttled < 0 or self.base <= 0 or self.cap < self.base:
            raise ValueError(f"an unusable retry policy: {self}")

    def ceiling(self, failure: int) -> float:
        """The longest backoff after the ``failure``-th failure (1-based)."""
        return min(self.cap, self.base * 2.0 ** (failure - 1))

    def delay(self, failure: int) -> float:
        """A backoff after the ``failure``-th failure: full jitter up to the ceiling."""
        return _jitter.uniform(0.0, self.ceiling(failure))


_jitter = random.SystemRandom()


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer."""

    status: int
    body: Any
    """The JSON body, or None when the response had none (204)."""
    headers: Mapping[str, str]
    request_id: str | None


@dataclass
class _Progress:
    """What the log line of a call reports: its last attempt."""

    attempt: int = 0
    status: int | None = None
    request_id: str | None = None


@dataclass
class _Budget:
    """How much of its retry budget a call has used."""

    failures: int = 0
    throttled: int = 0
    refreshed: bool = False
    connected: bool = False
    """True once any attempt reached the server: failing then is not "unreachable"."""


@dataclass(frozen=True)
class _Exchange:
    """One attempt as it went on the wire."""

    response: httpx.Response | None = None
    failure: httpx.HTTPError | None = None
    body: Any = None
    malformed: bool = False

    @property
    def status(self) -> int | None:
        return None if self.response is None else self.response.status_code

    @property
    def request_id(self) -> str | None:
        return None if self.response is None else self.response.headers.get("x-amzn-RequestId")

    @property
    def errors(self) -> tuple[ErrorDetail, ...]:
        return _error_details(self.body)

    def summary(self) -> str | None:
        """What went wrong, for the call record: kinds and codes only."""
        if self.failure is not None:
            kind = "timeout" if isinstance(self.failure, httpx.TimeoutException) else "connection"
            return f"{kind} {type(self.failure).__name__}"
        status = self.status
        if status is not None and status < 300:
            return "malformed body" if self.malformed else None
        label = "throttled" if status == 429 else f"HTTP {status}"
        return " ".join([label, *safe_codes(self.errors)])


def _error_details(body: Any) -> tuple[ErrorDetail, ...]:
    entries = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return ()
    return tuple(
        ErrorDetail(
            code=str(entry.get("code", "")),
            message=str(entry.get("message", "")),
            details=None if entry.get("details") is None else str(entry["details"]),
        )
        for entry in entries
        if isinstance(entry, dict)
    )


def _token_problem(errors: Sequence[ErrorDetail]) -> bool:
    """True if a 401/403 says the token itself is expired or was refused (a new one may do)."""
    text = " ".join(f"{error.message} {error.details or ''}" for error in errors).lower()
    return "expired" in text or "revoked, malformed or invalid" in text


def _denial_reason(errors: Sequence[ErrorDetail], *, token_problem: bool) -> AuthReason:
    text = " ".join(f"{error.message} {error.details or ''}" for error in errors).lower()
    if "restricted data" in text:
        return AuthReason.RESTRICTED_DATA
    if token_problem and "revoked" in text:
        return AuthReason.AUTHORISATION_REVOKED
    return AuthReason.ACCESS_DENIED


def encode_query(params: Mapping[str, QueryValue]) -> dict[str, str]:
    """Query parameters as SP-API reads them: lists comma-separated, times ISO 8601 UTC to the
    second (rounded down, so a window only ever grows); naive times are refused."""
    query: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            query[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            moment = ensure_utc(value, field=name).astimezone(UTC)
            query[name] = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
        elif isinstance(value, str | int | float):
            query[name] = str(value)
        else:
            query[name] = ",".join(value)
    return query


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


SEARCH_ORDERS_PARAMETERS = frozenset(
    {
        "createdAfter",
        "createdBefore",
        "lastUpdatedAfter",
        "lastUpdatedBefore",
        "fulfillmentStatuses",
        "marketplaceIds",
        "fulfilledBy",
        "maxResultsPerPage",
        "paginationToken",
        "includedData",
    }
)

_Model = TypeVar("_Model", bound=pydantic.BaseModel)
_T = TypeVar("_T")


class SpApiClient:
    """Calls SP-API for one seller; safe to share between threads."""

    def __init__(
        self,
        seller_id: str,
        credentials: Credentials,
        endpoint: Endpoint,
        buckets: BucketStore,
        recorder: CallRecorder | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_wait: Callable[[str, float], None] | None = None,
        tokens: TokenCache | None = None,
    ) -> None:
        self.seller_id = seller_id
        self._credentials = credentials
        self._endpoint = endpoint
        self._buckets = buckets
        self._recorder = recorder
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self.on_wait = on_wait
        """Told ``(operation, seconds)`` before every wait of a second or more."""
        self._tokens = SHARED_TOKENS if tokens is None else tokens
        self._key = credentials_key(endpoint.lwa_url, credentials)
        self._lwa_path = urlsplit(endpoint.lwa_url).path or "/"
        self._known_rates: dict[str, float] = {}
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"user-agent": USER_AGENT, "accept": "application/json"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"SpApiClient(seller_id={self.seller_id!r}, endpoint={self._endpoint.api_url!r})"

    # --- the public API ----------------------------------------------------------------------

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        restricted: bool = False,
        idempotent: bool = True,
        also_limited_by: Sequence[str] = (),
    ) -> ApiResponse:
        """Call ``operation`` (e.g. ``"orders.getOrder"``) at ``method`` ``path``.

        ``restricted`` calls carry a Restricted Data Token for this method and path.
        ``idempotent=False`` marks a call that must not be repeated when its outcome is unknown.
        ``also_limited_by`` names further limits the call counts against (see
        :data:`.usage_plans.SUBMISSION_LIMITS`).
        """
        if "?" in path:
            raise ValueError("pass query parameters as params, not in the path")
        limits = [(name, *plan(name)) for name in (*also_limited_by, operation)]
        request = {"params": encode_query(params or {}), "json": json}
        return self._logged(
            operation,
            method,
            path,
            lambda progress: self._call(
                operation,
                method.upper(),
                path,
                request,
                limits,
                progress,
                restricted=restricted,
                idempotent=idempotent,
            ),
        )

    def search_orders(self, **params: QueryValue) -> SearchOrdersResponse:
        """``searchOrders``; parameters in Amazon's or Python's spelling (``lastUpdatedAfter``
        or ``last_updated_after``); values as :func:`encode_query` takes them."""
        query = {_camel(name): value for name, value in params.items()}
        unknown = sorted(set(query) - SEARCH_ORDERS_PARAMETERS)
        if unknown:
            raise TypeError(f"search_orders() got unknown parameters: {', '.join(unknown)}")
        operation = "orders.searchOrders"
        response = self.call(operation, "GET", "/orders/2026-01-01/orders", params=query)
        return self._parse(SearchOrdersResponse, operation, response)

    def get_order(self, order_id: str, included_data: Sequence[str] = ()) -> Order:
        """``getOrder`` with the ``includedData`` sets named."""
        operation = "orders.getOrder"
        response = self.call(
            operation,
            "GET",
            f"/orders/2026-01-01/orders/{quote(order_id, safe='')}",
            params={"includedData": list(included_data) or None},
        )
        return self._parse(GetOrderResponse, operation, response).order

    def confirm_shipment(
        self, order_id: str, *, marketplace_id: str, package: PackageDetail
    ) -> ApiResponse:
        """``confirmShipment`` (Orders v0): tell Amazon that ``package`` of an FBM order shipped.

        Not idempotent as far as Amazon documents it (one call, one package), so a call whose
        outcome is unknown is never repeated here: it raises :class:`AmbiguousError`, and the
        caller reads the order back (``get_order`` with ``PACKAGES``) before sending again.
        Amazon answers 204 without a body; the response carries its request id.
        """
        request = ConfirmShipmentRequest(marketplace_id=marketplace_id, package_detail=package)
        return self.call(
            "ordersV0.confirmShipment",
            "POST",
            f"/orders/v0/orders/{quote(order_id, safe='')}/shipmentConfirmation",
            json=request.body(),
            idempotent=False,
        )

    def get_order_buyer_email(self, order_id: str) -> str | None:
        """``getOrderBuyerInfo`` (Orders API v0, restricted): the buyer's anonymised relay
        address, or ``None`` when Amazon gives none.

        The Orders API 2026 gives ``buyerEmail`` for FBM orders only; v0 still gives it for FBA
        orders, which is how an FBA invoice can be e-mailed. Amazon deprecated v0 (to be
        migrated by 2027-03-27); after that an FBA invoice reaches the buyer by upload.
        """
        operation = "ordersV0.getOrderBuyerInfo"
        response = self.call(
            operation,
            "GET",
            f"/orders/v0/orders/{quote(order_id, safe='')}/buyerInfo",
            restricted=True,
        )
        payload = self._parse(GetOrderBuyerInfoResponse, operation, response).payload
        return payload.buyer_email if payload is not None else None

    def get_marketplace_participations(self) -> list[MarketplaceParticipation]:
        """The marketplaces the seller takes part in (suspended ones included)."""
        operation = "sellers.getMarketplaceParticipations"
        response = self.call(operation, "GET", "/sellers/v1/marketplaceParticipations")
        return self._parse(GetMarketplaceParticipationsResponse, operation, response).payload

    # --- Merchant Fulfillment v0 (Buy Shipping) ----------------------------------------------

    def get_eligible_shipment_services(
        self, request: GetEligibleShipmentServicesRequest
    ) -> GetEligibleShipmentServicesResult:
        """``getEligibleShipmentServices``: the carriers' offers for one package of an order,
        and the services and carriers that cannot take it (with Amazon's reasons). Buys
        nothing, so it is retried like any read."""
        operation = "mfn.getEligibleShipmentServices"
        response = self.call(
            operation,
            "POST",
            "/mfn/v0/eligibleShippingServices",
            json=request.model_dump(by_alias=True, exclude_none=True, mode="json"),
        )
        payload = self._parse(GetEligibleShipmentServicesResponse, operation, response).payload
        if payload is None:
            raise RetryableError.unreadable(
                operation, request_id=response.request_id, problems=["payload: missing"]
            )
        return payload

    def create_shipment(self, request: CreateShipmentRequest) -> Shipment:
        """``createShipment``: buy the label of an offer of
        :meth:`get_eligible_shipment_services`.

        This spends the seller's money, so it is never repeated when its outcome is unknown
        (a timeout after sending, a 5xx, an unreadable answer): it raises
        :class:`AmbiguousError`. A label may then have been bought — and, with Buy Shipping, the
        order marked shipped. Do not buy again: Amazon refuses a second label for the same
        items (``ShipmentAlreadyExists``, naming the ShipmentId, which :meth:`get_shipment`
        reads), and a new offer for other details could buy a second one. Have a person check
        the order in Seller Central (Manage Orders → the order → the label can be reprinted
        or voided there) before anything is bought for it again.
        """
        operation = "mfn.createShipment"
        response = self.call(
            operation,
            "POST",
            "/mfn/v0/shipments",
            json=request.model_dump(by_alias=True, exclude_none=True, mode="json"),
            restricted=True,
            idempotent=False,
        )
        return self._shipment(operation, response)

    def get_shipment(self, shipment_id: str) -> Shipment:
        """``getShipment``: a bought label again, with its file (restricted: it carries the
        buyer's address, which the model does not read)."""
        operation = "mfn.getShipment"
        response = self.call(
            operation,
            "GET",
            f"/mfn/v0/shipments/{quote(shipment_id, safe='')}",
            restricted=True,
        )
        return self._shipment(operation, response)

    def _shipment(self, operation: str, response: ApiResponse) -> Shipment:
        # A purchase whose answer cannot be read went through all the same: its outcome is
        # unknown to the caller, exactly like a timeout after sending.
        created = operation == "mfn.createShipment"
        payload = self._parse(ShipmentResponse, operation, response, idempotent=not created).payload
        if payload is None:
            what = "the answer had no payload"
            if created:
                raise AmbiguousError.outcome_unknown(
                    operation, what=what, request_id=response.request_id, attempts=1
                )
            raise RetryableError.unreadable(
                operation, request_id=response.request_id, problems=["payload: missing"]
            )
        return payload

    # --- Feeds 2021-06-30 --------------------------------------------------------------------

    def create_feed_document(self, content_type: str) -> FeedDocumentUpload:
        """``createFeedDocument``: a document for a feed's file, and the URL to upload it to.

        Amazon signs the URL for ``content_type`` and lets it expire after 5 minutes: upload the
        file at once with :meth:`upload_document` and the same content type. Retried like a
        read: a document that no feed uses does no harm.
        """
        operation = "feeds.createFeedDocument"
        response = self.call(
            operation, "POST", "/feeds/2021-06-30/documents", json={"contentType": content_type}
        )
        return self._parse(FeedDocumentUpload, operation, response)

    def upload_document(self, url: str, content: bytes, content_type: str) -> None:
        """PUT a feed's file to the pre-signed ``url`` of :meth:`create_feed_document`.

        Not an SP-API call: the URL is the permission, so no token goes with it and no usage
        plan meters it. Amazon's storage refuses another content type than the document was
        created for (:class:`RejectedError`, 403 ``SignatureDoesNotMatch``) and an expired URL
        (403 ``AccessDenied``: create a new document). Uploading the same file again only
        writes it again, so transport failures and 5xx are retried like any call's.
        """
        self._transfer(
            UPLOAD_OPERATION, "PUT", url, content=content, headers={"content-type": content_type}
        )

    def create_feed(
        self,
        feed_type: str,
        marketplace_ids: Sequence[str],
        input_feed_document_id: str,
        feed_options: Mapping[str, str] | None = None,
    ) -> str:
        """``createFeed``: queue an uploaded feed document as a feed of ``feed_type``; its id.

        Amazon answers at once (202) and processes the feed later: follow it with
        :meth:`get_feed`. ``feed_options`` carry what some feed types need besides the file
        (an invoice's order id and number for ``UPLOAD_VAT_INVOICE``). A feed type with a limit
        of its own (:data:`.usage_plans.SUBMISSION_LIMITS`: ``JSON_LISTINGS_FEED``, 5 per 5
        minutes) counts against it too.

        Never repeated when its outcome is unknown (a timeout after sending, a 5xx, an
        unreadable answer): that could queue the feed twice, so it raises
        :class:`AmbiguousError`. Before sending it again, check the seller's recent feeds
        (``getFeeds``), unless processing it twice is harmless (absolute quantities).
        """
        operation = "feeds.createFeed"
        limit = f"{operation}.{feed_type}"
        body: dict[str, Any] = {
            "feedType": feed_type,
            "marketplaceIds": list(marketplace_ids),
            "inputFeedDocumentId": input_feed_document_id,
        }
        if feed_options is not None:
            body["feedOptions"] = dict(feed_options)
        response = self.call(
            operation,
            "POST",
            "/feeds/2021-06-30/feeds",
            json=body,
            idempotent=False,
            also_limited_by=(limit,) if limit in SUBMISSION_LIMITS else (),
        )
        return self._parse(CreateFeedResponse, operation, response, idempotent=False).feed_id

    def get_feed(self, feed_id: str) -> Feed:
        """``getFeed``: how far Amazon is with a feed and, once it is done, the document id of
        its processing report. Amazon keeps feeds for 90 days."""
        operation = "feeds.getFeed"
        response = self.call(operation, "GET", f"/feeds/2021-06-30/feeds/{quote(feed_id, safe='')}")
        return self._parse(Feed, operation, response)

    def get_feed_document(self, feed_document_id: str) -> DocumentLocation:
        """``getFeedDocument``: where to download a feed's processing report, with
        :meth:`download_document` at once (the URL expires after 5 minutes). Amazon keeps
        processing reports for 28 days."""
        operation = "feeds.getFeedDocument"
        response = self.call(
            operation, "GET", f"/feeds/2021-06-30/documents/{quote(feed_document_id, safe='')}"
        )
        return self._parse(DocumentLocation, operation, response)

    # --- Reports 2021-06-30 ------------------------------------------------------------------

    def create_report(
        self,
        report_type: str,
        marketplace_ids: Sequence[str],
        *,
        data_start_time: datetime | None = None,
        data_end_time: datetime | None = None,
        report_options: Mapping[str, str] | None = None,
    ) -> str:
        """``createReport``: ask Amazon to generate a report; its id.

        Amazon answers at once (202) and generates the report later: follow it with
        :meth:`get_report`. The times must carry a time zone and go out in UTC, to the second
        (as :func:`encode_query` writes them); an order report without data in the range ends
        CANCELLED. Retried like a read: a report created twice is only generated twice.
        """
        operation = "reports.createReport"
        body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
        body.update(encode_query({"dataStartTime": data_start_time, "dataEndTime": data_end_time}))
        if report_options is not None:
            body["reportOptions"] = dict(report_options)
        response = self.call(operation, "POST", "/reports/2021-06-30/reports", json=body)
        return self._parse(CreateReportResponse, operation, response).report_id

    def get_report(self, report_id: str) -> Report:
        """``getReport``: how far Amazon is with a report and, once it is done, the id of its
        document. Amazon keeps reports for 90 days."""
        operation = "reports.getReport"
        response = self.call(
            operation, "GET", f"/reports/2021-06-30/reports/{quote(report_id, safe='')}"
        )
        return self._parse(Report, operation, response)

    def get_report_document(
        self, report_document_id: str, *, restricted: bool = False
    ) -> DocumentLocation:
        """``getReportDocument``: where to download a report's file, with
        :meth:`download_document` at once (the URL expires after 5 minutes).

        A report of a restricted type, one with personal data such as the VAT invoice data
        report (``GET_FLAT_FILE_VAT_INVOICE_DATA_REPORT``), needs ``restricted=True``: Amazon
        then wants a Restricted Data Token issued for this very document's path, which the call
        fetches first. Without it Amazon answers 403 (:class:`AuthError`, ``RESTRICTED_DATA``).
        """
        operation = "reports.getReportDocument"
        response = self.call(
            operation,
            "GET",
            f"/reports/2021-06-30/documents/{quote(report_document_id, safe='')}",
            restricted=restricted,
        )
        return self._parse(DocumentLocation, operation, response)

    def download_document(self, location: DocumentLocation) -> bytes:
        """The file behind a :class:`.DocumentLocation` (a feed's processing report, a report):
        GET from its pre-signed URL, unpacked when Amazon compressed it (``GZIP``).

        Not an SP-API call: no token goes with it and no usage plan meters it. Transport
        failures and 5xx are retried like any call's; an expired URL gives
        :class:`RejectedError` (403 ``AccessDenied``): ask for the document again.
        """
        content = self._transfer(DOWNLOAD_OPERATION, "GET", location.url)
        if location.compression_algorithm is None:
            return content
        try:
            return gzip.decompress(content)
        except (OSError, EOFError):  # not GZIP at all (BadGzipFile), or cut off
            raise RetryableError.unreadable(
                DOWNLOAD_OPERATION, request_id=None, problems=["content: not GZIP"]
            ) from None

    # --- Listings Items 2021-08-01 -----------------------------------------------------------

    def patch_listings_item(
        self,
        seller_id: str,
        sku: str,
        marketplace_ids: Sequence[str],
        patches: Sequence[Mapping[str, Any]],
        *,
        product_type: str = "PRODUCT",
    ) -> ListingsSubmission:
        """``patchListingsItem``: change top-level attributes of the listing of ``sku`` in the
        marketplaces named, with JSON Patch operations; e.g. the merchant-fulfilled quantity::

            {"op": "replace", "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}]}

        ``seller_id`` is the seller's merchant token; ``PRODUCT`` as ``product_type`` serves
        offer-only changes such as the quantity. ACCEPTED means Amazon took the submission and
        applies it asynchronously, not that it is applied; INVALID comes with ``issues`` and
        changes nothing. A patch that sets values gives the same listing when repeated, so the
        call is retried like a read.
        """
        operation = "listings.patchListingsItem"
        response = self.call(
            operation,
            "PATCH",
            f"/listings/2021-08-01/items/{quote(seller_id, safe='')}/{quote(sku, safe='')}",
            params={"marketplaceIds": list(marketplace_ids)},
            json={"productType": product_type, "patches": [dict(patch) for patch in patches]},
        )
        return self._parse(ListingsSubmission, operation, response)

    # --- FBA Inventory v1 --------------------------------------------------------------------

    def get_inventory_summaries(
        self,
        marketplace_id: str,
        *,
        next_token: str | None = None,
        seller_skus: Sequence[str] = (),
        details: bool = True,
    ) -> InventoryPage:
        """``getInventorySummaries``: one page of the seller's FBA inventory in a marketplace,
        a summary per SKU; ``seller_skus`` (at most 50) limits it to those, ``details`` adds
        the fulfillable, inbound, reserved, researching and unfulfillable figures.

        For the next page pass the page's ``next_token`` with the same arguments. Amazon's token
        expires 30 seconds after it was issued: read the pages one after the other without slow
        work in between, and start again from the first page if Amazon refuses a token as
        expired (:class:`RejectedError`).
        """
        operation = "fbaInventory.getInventorySummaries"
        response = self.call(
            operation,
            "GET",
            "/fba/inventory/v1/summaries",
            params={
                "granularityType": "Marketplace",
                "granularityId": marketplace_id,
                "marketplaceIds": [marketplace_id],
                "details": details,
                "sellerSkus": list(seller_skus) or None,
                "nextToken": next_token,
            },
        )
        return self._parse(GetInventorySummariesResponse, operation, response).page()

    # --- Finances v0 -------------------------------------------------------------------------

    def list_financial_events(
        self,
        posted_after: datetime,
        *,
        posted_before: datetime | None = None,
        next_token: str | None = None,
    ) -> FinancialEventsPage:
        """``listFinancialEvents``: one page of the shipments and refunds Amazon posted from
        ``posted_after`` (on or after) to ``posted_before`` (before; default: two minutes before
        the request).

        Both times must carry a time zone and be more than two minutes in the past (Amazon
        refuses them otherwise, :class:`RejectedError`); they go out in UTC, rounded down to the
        second. Amazon may post an order's events up to 48 hours late, so read with an overlap.
        For the next page pass the page's ``next_token`` with the same times.
        """
        operation = "finances.listFinancialEvents"
        response = self.call(
            operation,
            "GET",
            "/finances/v0/financialEvents",
            params={
                "PostedAfter": posted_after,
                "PostedBefore": posted_before,
                "NextToken": next_token,
            },
        )
        return self._parse(ListFinancialEventsResponse, operation, response).page()

    def list_financial_events_by_order_id(
        self, order_id: str, *, next_token: str | None = None
    ) -> FinancialEventsPage:
        """``listFinancialEventsByOrderId``: one page of an order's shipments and refunds, e.g.
        to find the refunds to issue credit notes for. An order of another seller, or one
        without events yet, gives an empty page; an id not in Amazon's 3-7-7 format is refused
        (:class:`RejectedError`). For the next page pass the page's ``next_token``.
        """
        operation = "finances.listFinancialEventsByOrderId"
        response = self.call(
            operation,
            "GET",
            f"/finances/v0/orders/{quote(order_id, safe='')}/financialEvents",
            params={"NextToken": next_token},
        )
        return self._parse(ListFinancialEventsResponse, operation, response).page()

    # --- the connection ----------------------------------------------------------------------

    def access_token(self, *, fresh: bool = False) -> str:
        """An access token for the seller, from the cache or (``fresh``) from Login with Amazon.

        For checking a connection; calls fetch their tokens themselves. Never log it.
        """
        if not fresh:
            return self._access_token(LWA_OPERATION)
        with self._tokens.lock(self._key):
            token, lifetime = self._login(LWA_OPERATION)
            self._tokens.put(self._key, token, lifetime)
            return token

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SpApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- one call, attempt by attempt --------------------------------------------------------

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        request: dict[str, Any],
        limits: list[tuple[str, float, int]],
        progress: _Progress,
        *,
        restricted: bool,
        idempotent: bool,
    ) -> ApiResponse:
        budget = _Budget()
        while True:
            for limit, rate, burst in limits:
                self._take(operation, limit, rate, burst)
            progress.attempt += 1
            token_key, token = (
                self._restricted_token(method, path)
                if restricted
                else (self._key, self._access_token(operation))
            )
            exchange = self._send(
                operation,
                method,
                self._endpoint.api_url + path,
                path,
                progress,
                headers={"x-amz-access-token": token},
                **request,
            )
            if exchange.failure is not None:
                self._after_failure(
                    operation,
                    exchange.failure,
                    budget,
                    idempotent=idempotent,
                    attempts=progress.attempt,
                )
                continue
            budget.connected = True
            if exchange.status == 429:
                self._after_throttling(operation, exchange, budget, limits, progress.attempt)
                continue
            if exchange.status in (401, 403) and self._token_refused(exchange, budget):
                self._tokens.invalidate(token_key, token)
                continue
            response = self._after_answer(
                operation, exchange, budget, idempotent=idempotent, attempts=progress.attempt
            )
            if response is not None:
                return response

    def _transfer(self, operation: str, method: str, url: str, **request: Any) -> bytes:
        """``method`` on a pre-signed document URL, with the retries of any call; the body of
        the answer. The URL's query string carries its signature: only its path is logged and
        recorded. Transport failures and 5xx are retried; any other status is
        :class:`RejectedError` with the storage service's error code."""
        where = urlsplit(url)
        return self._logged(
            operation,
            method,
            where.path,
            lambda progress: self._transfer_attempts(
                operation, method, url, where, progress, request
            ),
        )

    def _transfer_attempts(
        self,
        operation: str,
        method: str,
        url: str,
        where: SplitResult,
        progress: _Progress,
        request: dict[str, Any],
    ) -> bytes:
        budget = _Budget()
        while True:
            progress.attempt += 1
            exchange = self._send(operation, method, url, where.path, progress, raw=True, **request)
            if exchange.failure is not None:
                self._after_failure(
                    operation,
                    exchange.failure,
                    budget,
                    idempotent=True,
                    attempts=progress.attempt,
                    host=where.netloc,
                )
                continue
            response = exchange.response
            assert response is not None  # an answer, not a failure
            status = response.status_code
            if status < 300:
                return response.content
            errors = _storage_errors(response.content)
            if status < 500:
                raise RejectedError.refused(
                    operation,
                    status=status,
                    request_id=exchange.request_id,
                    errors=errors,
                    attempts=progress.attempt,
                )
            budget.failures += 1
            self._back_off_or_raise(
                operation,
                budget.failures,
                RetryableError.server_error(
                    operation,
                    status=status,
                    request_id=exchange.request_id,
                    errors=errors,
                    attempts=progress.attempt,
                ),
            )

    def _after_failure(
        self,
        operation: str,
        failure: httpx.HTTPError,
        budget: _Budget,
        *,
        idempotent: bool,
        attempts: int,
        host: str | None = None,
    ) -> None:
        """No answer arrived: wait for the next attempt, or raise (``host``: where the request
        went, if not to the API endpoint)."""
        sent = not isinstance(failure, _NOT_SENT)
        budget.connected = budget.connected or sent
        if sent and not idempotent:
            raise AmbiguousError.outcome_unknown(
                operation,
                what="the connection failed once the request was on its way "
                f"({type(failure).__name__})",
                attempts=attempts,
            ) from failure
        budget.failures += 1
        self._back_off(operation, budget.failures, failure, connected=budget.connected, host=host)

    def _after_throttling(
        self,
        operation: str,
        exchange: _Exchange,
        budget: _Budget,
        limits: list[tuple[str, float, int]],
        attempts: int,
    ) -> None:
        """429: Amazon's bucket is empty, so ours is too; the next take waits for the refill."""
        budget.throttled += 1
        for limit, _, _ in limits:
            self._buckets.drain(self.seller_id, limit)
        if budget.throttled > self._retry.throttled:
            raise ThrottledError.exhausted(
                operation,
                self.seller_id,
                attempts=attempts,
                throttled=budget.throttled,
                request_id=exchange.request_id,
            )

    def _token_refused(self, exchange: _Exchange, budget: _Budget) -> bool:
        """True once per call when a 401/403 says the token is expired or refused."""
        if budget.refreshed or not _token_problem(exchange.errors):
            return False
        budget.refreshed = True
        return True

    def _after_answer(
        self,
        operation: str,
        exchange: _Exchange,
        budget: _Budget,
        *,
        idempotent: bool,
        attempts: int,
    ) -> ApiResponse | None:
        """The response if the call succeeded, None to try again, or raise."""
        response = exchange.response
        assert response is not None  # an answer, not a failure
        status = response.status_code
        request_id = exchange.request_id
        self._learn_rate(operation, response)
        if status < 300 and not exchange.malformed:
            return ApiResponse(status, exchange.body, response.headers, request_id)
        if status < 300:
            if not idempotent:
                raise AmbiguousError.outcome_unknown(
                    operation,
                    what="Amazon's answer was not valid JSON",
                    status=status,
                    request_id=request_id,
                    attempts=attempts,
                )
            error: SpApiError = RetryableError.malformed(
                operation, status=status, request_id=request_id, attempts=attempts
            )
        elif status in (401, 403):
            raise AuthError.denied(
                _denial_reason(exchange.errors, token_problem=_token_problem(exchange.errors)),
                operation,
                seller_id=self.seller_id,
                status=status,
                request_id=request_id,
                errors=exchange.errors,
                attempts=attempts,
            )
        elif status >= 500:
            if not idempotent and status != 503:
                raise AmbiguousError.outcome_unknown(
                    operation,
                    what="Amazon answered with a server error",
                    status=status,
                    request_id=request_id,
                    errors=exchange.errors,
                    attempts=attempts,
                )
            error = RetryableError.server_error(
                operation,
                status=status,
                request_id=request_id,
                errors=exchange.errors,
                attempts=attempts,
            )
        else:
            raise RejectedError.refused(
                operation,
                status=status,
                request_id=request_id,
                errors=exchange.errors,
                attempts=attempts,
            )
        budget.failures += 1
        self._back_off_or_raise(operation, budget.failures, error)
        return None

    def _send(
        self,
        operation: str,
        method: str,
        url: str,
        path: str,
        progress: _Progress,
        *,
        raw: bool = False,
        **request: Any,
    ) -> _Exchange:
        """One attempt, recorded; ``raw`` leaves the body unread (a document, not JSON)."""
        at = utcnow()
        started = self._clock()
        try:
            response = self._http.request(method, url, **request)
        except (httpx.TransportError, httpx.DecodingError) as failure:
            exchange = _Exchange(failure=failure)
        else:
            exchange = _Exchange(response=response) if raw else _read(response)
        progress.status = exchange.status
        progress.request_id = exchange.request_id
        if self._recorder is not None:
            self._recorder.record(
                CallRecord(
                    at=at,
                    seller_id=self.seller_id,
                    operation=operation,
                    method=method,
                    path=path,
                    status=exchange.status,
                    request_id=exchange.request_id,
                    duration_ms=(self._clock() - started) * 1000.0,
                    attempt=progress.attempt,
                    error=exchange.summary(),
                )
            )
        return exchange

    def _back_off(
        self,
        operation: str,
        failures: int,
        failure: httpx.HTTPError,
        *,
        connected: bool,
        host: str | None = None,
    ) -> None:
        """Wait before the next attempt after a transport failure, or raise if out of budget."""
        if failures < self._retry.attempts:
            self._pause(operation, self._retry.delay(failures))
            return
        name = type(failure).__name__
        if connected:
            raise RetryableError.transport(operation, failure=name, attempts=failures) from failure
        raise UnreachableError.no_connection(
            operation, host=host or self._endpoint.host, failure=name, attempts=failures
        ) from failure

    def _back_off_or_raise(self, operation: str, failures: int, error: SpApiError) -> None:
        """Wait before the next attempt after a failed answer, or raise ``error``."""
        if failures >= self._retry.attempts:
            raise error
        self._pause(operation, self._retry.delay(failures))

    def _take(self, operation: str, limit: str, rate: float, burst: int) -> None:
        capacity = max(1, burst - HEADROOM)
        while (wait := self._buckets.take(self.seller_id, limit, rate, capacity)) > 0:
            self._pause(operation, wait)

    def _pause(self, operation: str, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.on_wait is not None and seconds >= LONG_WAIT_S:
            self.on_wait(operation, seconds)
        self._sleep(seconds)

    def _learn_rate(self, operation: str, response: httpx.Response) -> None:
        """Take the rate Amazon applied from ``x-amzn-RateLimit-Limit``, when it says one.

        Amazon sends the header "on a best-effort basis": a missing or unreadable value leaves
        the bucket as it is.
        """
        raw = response.headers.get("x-amzn-RateLimit-Limit", "").strip()
        try:
            rate = float(raw)
        except ValueError:
            return
        if not math.isfinite(rate) or rate <= 0 or self._known_rates.get(operation) == rate:
            return
        self._buckets.set_rate(self.seller_id, operation, rate)
        self._known_rates[operation] = rate

    # --- tokens ------------------------------------------------------------------------------

    def _access_token(self, operation: str) -> str:
        token = self._tokens.get(self._key)
        if token is not None:
            return token
        with self._tokens.lock(self._key):
            token = self._tokens.get(self._key)  # another thread may have fetched it meanwhile
            if token is None:
                token, lifetime = self._login(operation)
                self._tokens.put(self._key, token, lifetime)
            return token

    def _restricted_token(self, method: str, path: str) -> tuple[str, str]:
        """(cache key, RDT) for one restricted resource."""
        key = restricted_key(self._key, [(method, path)])
        token = self._tokens.get(key)
        if token is not None:
            return key, token
        with self._tokens.lock(key):
            token = self._tokens.get(key)
            if token is None:
                response = self.call(
                    RDT_OPERATION,
                    "POST",
                    RDT_PATH,
                    json={"restrictedResources": [{"method": method, "path": path}]},
                )
                found = read_token(
                    response.body, value_field="restrictedDataToken", lifetime_field="expiresIn"
                )
                if found is None:
                    raise RetryableError.unreadable(
                        RDT_OPERATION,
                        request_id=response.request_id,
                        problems=["restrictedDataToken: missing"],
                    )
                token, lifetime = found
                self._tokens.put(key, token, lifetime)
            return key, token

    def _login(self, operation: str) -> tuple[str, float]:
        """A new access token from Login with Amazon, with the retries of any call."""
        return self._logged(
            LWA_OPERATION,
            "POST",
            self._lwa_path,
            lambda progress: self._login_attempts(operation, progress),
        )

    def _login_attempts(self, operation: str, progress: _Progress) -> tuple[str, float]:
        failures = 0
        connected = False
        while True:
            progress.attempt += 1
            exchange = self._send(
                LWA_OPERATION,
                "POST",
                self._endpoint.lwa_url,
                self._lwa_path,
                progress,
                data=self._credentials.token_request(),
            )
            if exchange.failure is not None:
                connected = connected or not isinstance(exchange.failure, _NOT_SENT)
                failures += 1
                self._back_off(operation, failures, exchange.failure, connected=connected)
                continue
            status = exchange.status
            assert status is not None  # no failure, so a response
            if status < 300:
                found = read_token(
                    exchange.body, value_field="access_token", lifetime_field="expires_in"
                )
                if found is not None:
                    return found
                failures += 1
                self._back_off_or_raise(
                    operation,
                    failures,
                    RetryableError.malformed(
                        LWA_OPERATION,
                        status=status,
                        request_id=exchange.request_id,
                        attempts=progress.attempt,
                    ),
                )
                continue
            if status == 429 or status >= 500:
                failures += 1
                self._back_off_or_raise(
                    operation,
                    failures,
                    RetryableError.server_error(
                        LWA_OPERATION,
                        status=status,
                        request_id=exchange.request_id,
                        errors=(),
                        attempts=progress.attempt,
                    ),
                )
                continue
            code = lwa_error_code(exchange.body)
            if code == "invalid_grant":
                raise AuthError.login_refused(
                    AuthReason.AUTHORISATION_REVOKED,
                    operation,
                    seller_id=self.seller_id,
                    status=status,
                )
            if code in ("invalid_client", "unauthorized_client") or status == 401:
                raise AuthError.login_refused(
                    AuthReason.WRONG_CLIENT_CREDENTIALS,
                    operation,
                    seller_id=self.seller_id,
                    status=status,
                )
            raise RejectedError.login_refused(operation, status=status, code=code)

    # --- reading and logging -----------------------------------------------------------------

    def _parse(
        self, model: type[_Model], operation: str, response: ApiResponse, *, idempotent: bool = True
    ) -> _Model:
        """The answer as ``model``. An answer of another shape is :class:`RetryableError`; for
        a call that must not be repeated (``idempotent=False``) it is :class:`AmbiguousError`:
        Amazon took the call, but what it made of it cannot be read."""
        try:
            return model.model_validate(response.body)
        except pydantic.ValidationError as error:
            problems = [
                ".".join(str(part) for part in problem["loc"]) + f": {problem['type']}"
                for problem in error.errors(include_input=False, include_url=False)
            ]
            # Not chained: pydantic's own message quotes the values, i.e. buyers' data.
            if not idempotent:
                raise AmbiguousError.outcome_unknown(
                    operation,
                    what="Amazon answered, but not in the shape of its model",
                    request_id=response.request_id,
                    attempts=1,
                ) from None
            raise RetryableError.unreadable(
                operation, request_id=response.request_id, problems=problems
            ) from None

    def _logged(
        self, operation: str, method: str, path: str, attempts: Callable[[_Progress], _T]
    ) -> _T:
        """Run the ``attempts`` of one call and write its log line, whatever the outcome."""
        progress = _Progress()
        started = self._clock()
        try:
            result = attempts(progress)
        except SpApiError as error:
            self._log(operation, method, path, progress, started, error)
            raise
        self._log(operation, method, path, progress, started, None)
        return result

    def _log(
        self,
        operation: str,
        method: str,
        path: str,
        progress: _Progress,
        started: float,
        error: SpApiError | None,
    ) -> None:
        fields = {
            "operation": operation,
            "seller_id": self.seller_id,
            "method": method.upper(),
            "path": path,
            "status": progress.status,
            "request_id": progress.request_id,
            "duration_ms": round((self._clock() - started) * 1000.0, 1),
            "attempt": progress.attempt,
        }
        if error is None:
            log.info("spapi.call", **fields)
        else:
            log.warning("spapi.call_failed", error=type(error).__name__, **fields)


_STORAGE_ERROR = re.compile(r"<Code>([^<]*)</Code>(?:\s*<Message>([^<]*)</Message>)?")


def _storage_errors(content: bytes) -> tuple[ErrorDetail, ...]:
    """The error of an S3 error document (``<Error><Code>...</Code><Message>...``), if any."""
    found = _STORAGE_ERROR.search(content.decode("utf-8", "replace"))
    return () if found is None else (ErrorDetail(code=found[1], message=found[2] or ""),)


def _read(response: httpx.Response) -> _Exchange:
    if not response.content:
        return _Exchange(response=response)
    try:
        body = jsonlib.loads(response.content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError: the body is not JSON
        return _Exchange(response=response, malformed=True)
    return _Exchange(response=response, body=body)
