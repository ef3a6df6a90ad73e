"""Listings Items API 2021-08-01: the answer of ``patchListingsItem`` as sellerbridge reads it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class SubmissionStatus(StrEnum):
    ACCEPTED = "ACCEPTED"
    """Amazon took the submission; it applies it asynchronously (not yet applied)."""
    INVALID = "INVALID"
    """Refused: ``issues`` say why; nothing changed."""
    VALID = "VALID"
    """Would be accepted (only with ``mode=VALIDATION_PREVIEW``, which changes nothing)."""


class Issue(_Model):
    code: str
    message: str
    severity: Literal["ERROR", "WARNING", "INFO"]
    attribute_names: tuple[str, ...] = Field(default=(), alias="attributeNames")


class ListingsSubmission(_Model):
    sku: str
    status: SubmissionStatus
    submission_id: str = Field(alias="submissionId")
    issues: tuple[Issue, ...] = ()
