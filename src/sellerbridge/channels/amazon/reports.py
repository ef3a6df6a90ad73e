"""Waiting for a report Amazon generates, and reading its document.

``createReport`` answers at once; Amazon generates the report later. A report that ends
``CANCELLED`` had no data in its range; one that ends ``FATAL`` could not be made.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sellerbridge.channels.amazon.spapi import SpApiClient
from sellerbridge.core.errors import DomainError

POLL_SECONDS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0)
"""The pauses between looks: short first (a small report is done in seconds), then longer."""
TIMEOUT_SECONDS = 1800.0


def report_content(
    client: SpApiClient,
    report_id: str,
    *,
    fatal: Callable[[], DomainError],
    restricted: bool = False,
    polls: Sequence[float] = POLL_SECONDS,
    timeout: float = TIMEOUT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes | None:
    """The document of report ``report_id`` once Amazon has made it; None when Amazon cancelled
    it (no data). A report Amazon ends FATAL raises ``fatal()``; one not done after ``timeout``
    seconds a :class:`DomainError` saying the next run asks again. ``restricted``: the document
    holds personal data and is read with a Restricted Data Token."""
    waited, looks = 0.0, 0
    while True:
        report = client.get_report(report_id)
        status = str(report.processing_status)
        if status == "CANCELLED":
            return None
        if status == "DONE" and report.report_document_id:
            location = client.get_report_document(report.report_document_id,
                                                  restricted=restricted)  # fmt: skip
            return client.download_document(location)
        if status == "FATAL":
            raise fatal()
        if waited >= timeout:
            raise DomainError(
                f"Amazon has not finished report {report_id} in {timeout / 60:.0f} minutes.",
                hint="The next run asks again.",
            )
        pause = polls[min(looks, len(polls) - 1)]
        sleep(pause)
        waited, looks = waited + pause, looks + 1
