"""Invoices to Amazon: uploads, VCS, refunds, Amazon's own invoices; one run per account in
:mod:`.cycle`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sellerbridge.channels.amazon.spapi import AuthError, SpApiError
from sellerbridge.core.errors import DomainError

T = TypeVar("T")


def attempt(problems: list[str], what: str, work: Callable[[], T]) -> T | None:
    """``work()``; Amazon failing at it (beyond the client's retries) or refusing its data is a
    problem for the alert, and None, so that the rest of the run (the uploads) goes on. A
    refused authorisation stops the run: nothing else would work either."""
    try:
        return work()
    except AuthError:
        raise
    except (SpApiError, DomainError) as error:
        problems.append(f"{what}: {error}")
        return None
