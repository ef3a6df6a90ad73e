"""Injected faults: what goes wrong with a real API, on demand.

A rule names an operation (or ``*``), a kind of fault, a probability and optionally how many
requests it may hit. The draw uses the sandbox's seeded random generator, so a test run with
the same seed meets the same faults.

| kind | what the client sees |
|---|---|
| ``throttle`` | 429 with Amazon's QuotaExceeded error, as in a 429 storm |
| ``error500`` / ``error503`` | 500 InternalFailure / 503 ServiceUnavailable |
| ``hang`` | the response never comes (until the client's timeout) |
| ``reset`` | the connection breaks before a complete response arrives |
| ``malformed`` | 200 with a body that is not valid JSON |
| ``lost_response`` | the request **is applied**, then the connection breaks |
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    ERROR500 = "error500"
    ERROR503 = "error503"
    HANG = "hang"
    RESET = "reset"
    MALFORMED = "malformed"
    LOST_RESPONSE = "lost_response"


class FaultRule(BaseModel):
    operation: str = "*"
    kind: FaultKind
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    remaining: int | None = Field(default=None, ge=0)
    """How many more requests the rule may hit; ``None`` for no limit."""

    def matches(self, operation: str) -> bool:
        return self.operation in ("*", operation) and self.remaining != 0


_ERRORS = {
    FaultKind.THROTTLE: (
        429,
        "QuotaExceeded",
        "You exceeded your quota for the requested resource.",
    ),
    FaultKind.ERROR500: (
        500,
        "InternalFailure",
        "We encountered an internal error. Please try again.",
    ),
    FaultKind.ERROR503: (
        503,
        "ServiceUnavailable",
        "Service temporarily unavailable. Please try again.",
    ),
}


class _BrokenConnection(Response):
    """Announces a body it never sends, then gives up: the client sees the connection break."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(b"", status_code=200, headers=headers, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_headers = [
            (name, value) for name, value in self.raw_headers if name != b"content-length"
        ]
        raw_headers.append((b"content-length", b"1000"))
        await send({"type": "http.response.start", "status": 200, "headers": raw_headers})
        await send({"type": "http.response.body", "body": b'{"payload":', "more_body": True})
        raise ConnectionAbortedError("sandbox fault: connection reset")


@dataclass(frozen=True)
class Fault:
    kind: FaultKind

    @property
    def answers_before_handler(self) -> bool:
        """Every fault but ``lost_response`` answers instead of the operation."""
        return self.kind is not FaultKind.LOST_RESPONSE

    @property
    def status(self) -> int:
        return _ERRORS[self.kind][0] if self.kind in _ERRORS else 200

    async def respond(self, headers: dict[str, str], hang_seconds: float) -> Response:
        if self.kind in _ERRORS:
            status, code, message = _ERRORS[self.kind]
            body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
            return Response(
                body, status_code=status, headers=headers, media_type="application/json"
            )
        if self.kind is FaultKind.HANG:
            await asyncio.sleep(hang_seconds)
            return Response(b"", status_code=504, headers=headers)
        if self.kind is FaultKind.MALFORMED:
            return Response(
                b'{"payload": {"orders": [{"orderId": "', status_code=200, headers=headers,
                media_type="application/json",
            )  # fmt: skip
        return _BrokenConnection(headers)


class Faults:
    """The configured rules and the seeded draw."""

    def __init__(self, seed: int) -> None:
        self.rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def draw(self, operation: str) -> Fault | None:
        for rule in self.rules:
            if rule.matches(operation) and self._random.random() < rule.probability:
                if rule.remaining is not None:
                    rule.remaining -= 1
                return Fault(rule.kind)
        return None
