"""Feeds API 2021-06-30: the answers of ``createFeedDocument``, ``createFeed``, ``getFeed`` and
``getFeedDocument`` as sellerbridge reads them.

A feed goes as Amazon describes it: ``createFeedDocument`` gives a pre-signed upload URL, the
file is PUT there, ``createFeed`` queues the feed, ``getFeed`` follows it through
:class:`ProcessingStatus` until it ends, and ``getFeedDocument`` gives the URL of its processing
report. Pre-signed URLs are the permission to the document: they are kept out of ``repr`` so
that they do not end up in a log.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class ProcessingStatus(StrEnum):
    """Where a feed or a report is; DONE, FATAL and CANCELLED are final."""

    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"
    """Processed: a feed's processing report says, message by message, what was applied."""
    FATAL = "FATAL"
    """Aborted: for a feed, some, none or all of it may have been applied; its processing
    report (if any) says why."""
    CANCELLED = "CANCELLED"
    """Cancelled by the seller before processing began, or (a report) by Amazon because there
    was no data."""


class FeedDocumentUpload(_Model):
    """Where to upload a feed's file: ``url`` takes one PUT within 5 minutes."""

    feed_document_id: str = Field(alias="feedDocumentId")
    url: str = Field(repr=False)


class CreateFeedResponse(_Model):
    feed_id: str = Field(alias="feedId")


class Feed(_Model):
    feed_id: str = Field(alias="feedId")
    feed_type: str = Field(alias="feedType")
    marketplace_ids: tuple[str, ...] = Field(default=(), alias="marketplaceIds")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    created_time: AwareDatetime = Field(alias="createdTime")
    processing_end_time: AwareDatetime | None = Field(default=None, alias="processingEndTime")
    result_feed_document_id: str | None = Field(default=None, alias="resultFeedDocumentId")
    """The processing report, once the feed is DONE (or FATAL with a report)."""


class DocumentLocation(_Model):
    """Where to download a feed's processing report or a report (``getFeedDocument``,
    ``getReportDocument``): a pre-signed URL that expires after 5 minutes, and how the file is
    compressed."""

    url: str = Field(repr=False)
    compression_algorithm: Literal["GZIP"] | None = Field(
        default=None, alias="compressionAlgorithm"
    )
