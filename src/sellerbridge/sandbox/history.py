"""Lists of past feeds and reports: ``getFeeds`` and ``getReports`` read their parameters alike.

Both take filters, or a ``nextToken`` as the only parameter; list the seller's records newest
first (by their numeric id), ``pageSize`` at a time (1–100, default 10), within
``createdSince`` (default: 90 days ago, Amazon's retention) and ``createdUntil`` (default:
now); and continue with a token that carries the original query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar, get_args

from sellerbridge.sandbox.errors import invalid_input
from sellerbridge.sandbox.framework import Call, decode_token, encode_token, parse_time

ProcessingStatus = Literal["IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL", "CANCELLED"]
PROCESSING_STATUSES: tuple[ProcessingStatus, ...] = get_args(ProcessingStatus)
RETENTION = timedelta(days=90)
PAGE_SIZE = 10
PAGE_MAX = 100
FILTER_MAX = 10  # values of the type and marketplace filters


class Processed(Protocol):
    @property
    def seller_id(self) -> str: ...
    @property
    def marketplace_ids(self) -> list[str]: ...
    @property
    def processing_status(self) -> str: ...
    @property
    def created_time(self) -> datetime: ...


Record = TypeVar("Record", bound=Processed)


@dataclass(frozen=True)
class HistoryQuery:
    types: list[str]
    marketplace_ids: list[str]
    statuses: list[str]
    page_size: int
    since: str  # ISO 8601, so the query travels in a token as it is
    until: str
    before: int | None = None  # ids below this one: the pages already seen are above


def history_query(call: Call, types_parameter: str) -> HistoryQuery:
    """The query of a list call: from its parameters, or from its ``nextToken``."""
    token = call.query("nextToken")
    if token is not None:
        others = sorted(set(call.request.query_params) - {"nextToken"})
        if others:
            raise invalid_input(
                "nextToken must be the only parameter.", f"Also given: {', '.join(others)}."
            )
        try:
            return HistoryQuery(**decode_token(token, "nextToken"))
        except TypeError:
            raise invalid_input("Invalid nextToken.") from None
    types = call.query_list(types_parameter)
    if not types:
        raise invalid_input(f"Either {types_parameter} or nextToken is required.")
    marketplace_ids = call.query_list("marketplaceIds")
    if len(types) > FILTER_MAX or len(marketplace_ids) > FILTER_MAX:
        raise invalid_input(
            f"{types_parameter} and marketplaceIds take at most {FILTER_MAX} values."
        )
    since = call.time("createdSince") or call.now - RETENTION
    until = call.time("createdUntil") or call.now
    if since > until:
        raise invalid_input("createdSince must not be after createdUntil.")
    return HistoryQuery(
        types=types,
        marketplace_ids=marketplace_ids,
        statuses=call.choices("processingStatuses", PROCESSING_STATUSES),
        page_size=call.integer("pageSize", default=PAGE_SIZE, lowest=1, highest=PAGE_MAX),
        since=since.isoformat(),
        until=until.isoformat(),
    )


def history_page(
    call: Call,
    query: HistoryQuery,
    records: Iterable[Record],
    *,
    number: Callable[[Record], int],
    kind: Callable[[Record], str],
) -> tuple[list[Record], str | None]:
    """The page of ``records`` the query asks for, and the token of the next page, if any."""
    try:
        since, until = parse_time(query.since, "nextToken"), parse_time(query.until, "nextToken")
    except ValueError:
        raise invalid_input("Invalid nextToken.") from None
    marketplaces, statuses = set(query.marketplace_ids), set(query.statuses)
    found = [
        record
        for record in sorted(records, key=number, reverse=True)
        if record.seller_id == call.seller.seller_id
        and kind(record) in query.types
        and (not marketplaces or marketplaces & set(record.marketplace_ids))
        and (not statuses or record.processing_status in statuses)
        and since <= record.created_time <= until
        and (query.before is None or number(record) < query.before)
    ]
    page = found[: query.page_size]
    if len(found) <= len(page):
        return page, None
    following: dict[str, Any] = {**asdict(query), "before": number(page[-1])}
    return page, encode_token(following)
