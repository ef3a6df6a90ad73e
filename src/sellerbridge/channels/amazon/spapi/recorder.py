"""A record of every SP-API call attempt, so an operator can answer "did Amazon get it?".

Each attempt (including retries and Login with Amazon exchanges) becomes one
:class:`CallRecord`: when, which seller and operation, method and path (never the query
string, which can carry buyer e-mail filters or pagination tokens), the HTTP status, Amazon's
request id, how long it took, which attempt of the call it was, and a short classification of
what went wrong. Never a header, a token or a body: those hold secrets and personal data.

:class:`DatabaseCallRecorder` writes them to ``spapi_calls``, each in its own short
transaction, so a record is kept even when the caller's own work is rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine, insert

from sellerbridge.db.models.amazon import SpApiCall

_ERROR_LENGTH = 500


@dataclass(frozen=True)
class CallRecord:
    at: datetime
    seller_id: str
    operation: str
    method: str
    path: str
    status: int | None
    """None when no response arrived (timeout, broken connection)."""
    request_id: str | None
    duration_ms: float
    attempt: int
    """1 for the first attempt of a call, 2 for its first retry, ..."""
    error: str | None
    """What went wrong, e.g. ``"throttled QuotaExceeded"``, ``"timeout ReadTimeout"``."""


class CallRecorder(Protocol):
    def record(self, call: CallRecord) -> None: ...


class DatabaseCallRecorder:
    """Writes each attempt as a ``spapi_calls`` row."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(self, call: CallRecord) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                insert(SpApiCall).values(
                    at=call.at,
                    seller_id=call.seller_id,
                    operation=call.operation,
                    method=call.method,
                    path=call.path[:300],
                    status=call.status,
                    request_id=call.request_id,
                    duration_ms=call.duration_ms,
                    attempt=call.attempt,
                    error=None if call.error is None else call.error[:_ERROR_LENGTH],
                )
            )
