"""Usage plans: a token bucket per (selling partner, operation), as Amazon meters SP-API.

Each bucket holds up to *burst* tokens and refills at *rate* tokens per second (Amazon's
default plan from the operation's model, multiplied by the time scale). A call takes one token;
with none left it gets 429, and the bucket keeps refilling at its rate. The successful response
reports the applied rate in ``x-amzn-RateLimit-Limit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sellerbridge.sandbox.errors import ApiError
from sellerbridge.sandbox.spec import OperationSpec

QUOTA_EXCEEDED = ("QuotaExceeded", "You exceeded your quota for the requested resource.")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Throttle:
    def __init__(self, time_scale: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.time_scale = time_scale
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self.overrides: dict[str, tuple[float, int]] = {}
        """Per-operation (rate, burst) replacing Amazon's default plan, e.g. a raised plan."""

    def plan(self, operation: OperationSpec) -> tuple[float, int]:
        rate, burst = self.overrides.get(operation.key, (operation.rate, operation.burst))
        return rate * self.time_scale, burst

    def take(self, partner: str, operation: OperationSpec) -> None:
        """Take a token for ``partner`` calling ``operation``, or raise 429."""
        rate, burst = self.plan(operation)
        now = self._clock()
        bucket = self._buckets.setdefault((partner, operation.key), _Bucket(float(burst), now))
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1.0:
            raise ApiError(429, *QUOTA_EXCEEDED)
        bucket.tokens -= 1.0

    def header(self, operation: OperationSpec) -> str:
        rate, _ = self.plan(operation)
        return f"{rate:.4f}".rstrip("0").rstrip(".")

    def override(self, operation_key: str, rate: float, burst: int) -> None:
        """Give ``operation_key`` another plan (for every seller); its buckets start full."""
        self.overrides[operation_key] = (rate, burst)
        for key in [key for key in self._buckets if key[1] == operation_key]:
            del self._buckets[key]
