"""Feeds API 2021-06-30 and feed processing. (Being built.)

Feed types are processed by processors registered per feed type (``register_processor``):
``JSON_LISTINGS_FEED`` here, ``UPLOAD_VAT_INVOICE`` in :mod:`.vat_invoices`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from sellerbridge.sandbox.framework import Api

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox

api = Api()

ProcessingStatus = Literal["IN_QUEUE", "IN_PROGRESS", "DONE", "FATAL", "CANCELLED"]


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
