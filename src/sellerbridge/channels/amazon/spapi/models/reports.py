"""Reports API 2021-06-30: the answers of ``createReport`` and ``getReport`` as sellerbridge
reads them (``getReportDocument`` answers a :class:`.feeds.DocumentLocation`).

A report is asynchronous: ``createReport`` queues it, ``getReport`` follows it through
:class:`.feeds.ProcessingStatus` until it is DONE with a ``reportDocumentId``, or CANCELLED
when Amazon found no data for it.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sellerbridge.channels.amazon.spapi.models.feeds import ProcessingStatus


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class CreateReportResponse(_Model):
    report_id: str = Field(alias="reportId")


class Report(_Model):
    report_id: str = Field(alias="reportId")
    report_type: str = Field(alias="reportType")
    marketplace_ids: tuple[str, ...] = Field(default=(), alias="marketplaceIds")
    data_start_time: AwareDatetime | None = Field(default=None, alias="dataStartTime")
    data_end_time: AwareDatetime | None = Field(default=None, alias="dataEndTime")
    processing_status: ProcessingStatus = Field(alias="processingStatus")
    created_time: AwareDatetime = Field(alias="createdTime")
    processing_end_time: AwareDatetime | None = Field(default=None, alias="processingEndTime")
    report_document_id: str | None = Field(default=None, alias="reportDocumentId")
    """The report's file, once it is DONE."""
