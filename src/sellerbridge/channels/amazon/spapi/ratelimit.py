"""Token buckets per (selling partner, operation), shared by every process of an installation.

Amazon meters each operation per selling partner and app with a token bucket: it holds up to
*burst* tokens, refills at *rate* tokens per second, and a call without a token gets 429. A
429 is not free: the call is lost, and has to wait for the refill anyway. So sellerbridge keeps
its own copy of each bucket and takes a token *before* it sends, waiting when the bucket is
empty. Amazon then never sees a call it would refuse.

The copy has to be shared: three worker processes importing for one seller draw from one quota
at Amazon, so they must draw from one bucket here. Hence a :class:`BucketStore` with three
implementations:

- :class:`MemoryBucketStore`: one process (tests, one-off commands).
- :class:`DatabaseBucketStore`: the ``spapi_rate_buckets`` table, the default. Each operation is
  one short transaction on the bucket's row, locked (``SELECT ... FOR UPDATE`` on PostgreSQL;
  SQLite's ``BEGIN IMMEDIATE``, see :mod:`sellerbridge.db.engine`), so two processes can never
  take the same token. Never call it inside a transaction of your own on the same database.
- :class:`RedisBucketStore`: one Lua script, atomic in Redis, for installations that run Redis.

All three apply the same arithmetic (:func:`take_token`, :func:`drain_bucket`,
:func:`change_rate`; the Lua script mirrors it) and are held to it by the same tests.

- A bucket starts full, at the plan the caller passes (Amazon's default plan for the operation).
- ``take`` either takes a token or says how many seconds until one is due, taking nothing: the
  caller sleeps and asks again, and another process may be quicker. That is fair enough, and a
  process that dies while waiting holds nothing.
- ``set_rate`` records the rate Amazon reports in ``x-amzn-RateLimit-Limit`` (a seller may have a
  raised plan); the bucket keeps it from then on. Amazon does not report the burst, so the burst
  is always the one the caller passes.
- ``drain`` empties the bucket after an unexpected 429: Amazon's bucket is empty, whatever ours
  said (a second installation for the same seller and app, a lowered plan).
- Time is the wall clock, in seconds since the epoch: buckets outlive processes and are shared
  between them, so a per-process monotonic clock would mean nothing to the next process. A
  clock that steps back never refills a bucket twice.
- ``set_rate`` and ``drain`` on a bucket that does not exist yet change nothing: the next
  ``take`` creates it, full at the default plan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import redis
from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from sellerbridge.db.models.amazon import RateLimitBucket

_EPSILON = 1e-4
"""Slack for floating point: epoch seconds near 1.8e9 have a resolution of about 0.2 µs, so
after sleeping exactly the computed wait a bucket may hold 0.99999 tokens. That counts as one
(a ten-thousandth of a token; the client keeps a whole token in reserve)."""


class BucketStore(Protocol):
    """Where the token buckets live; every method is atomic across processes."""

    def take(self, partner: str, operation: str, rate: float, burst: int) -> float:
        """Take a token and return 0, or return the seconds until one is due (taking none).

        ``rate`` and ``burst`` create the bucket (full) if it does not exist; an existing
        bucket keeps the rate last set and takes ``burst`` as its size.
        """
        ...

    def set_rate(self, partner: str, operation: str, rate: float) -> None:
        """Refill at ``rate`` tokens per second from now on (Amazon's reported rate)."""
        ...

    def drain(self, partner: str, operation: str) -> None:
        """Empty the bucket: Amazon just answered 429."""
        ...


@dataclass(frozen=True)
class BucketState:
    """A bucket as stored: its plan, its tokens, and when they were counted."""

    rate: float
    burst: int
    tokens: float
    updated: float
    """Wall-clock seconds since the epoch of the last refill."""

    def refilled(self, now: float) -> BucketState:
        if now <= self.updated:
            return self
        tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate)
        return replace(self, tokens=tokens, updated=now)


def _check_plan(rate: float, burst: int | None = None) -> None:
    if not rate > 0:
        raise ValueError(f"a usage plan's rate must be positive, not {rate}")
    if burst is not None and burst < 1:
        raise ValueError(f"a usage plan's burst must be at least 1, not {burst}")


def take_token(
    state: BucketState | None, now: float, rate: float, burst: int
) -> tuple[BucketState, float]:
    """The bucket after trying to take a token, and the wait (0 if a token was taken)."""
    _check_plan(rate, burst)
    if state is None:
        state = BucketState(rate=rate, burst=burst, tokens=float(burst), updated=now)
    state = state.refilled(now)
    state = replace(state, burst=burst, tokens=min(state.tokens, float(burst)))
    if state.tokens >= 1.0 - _EPSILON:
        return replace(state, tokens=max(0.0, state.tokens - 1.0)), 0.0
    return state, (1.0 - state.tokens) / state.rate


def drain_bucket(state: BucketState, now: float) -> BucketState:
    """The bucket emptied at ``now``."""
    return replace(state.refilled(now), tokens=0.0)


def change_rate(state: BucketState, now: float, rate: float) -> BucketState:
    """The bucket refilled at its old rate up to ``now``, at ``rate`` from then on."""
    _check_plan(rate)
    return replace(state.refilled(now), rate=rate)


class MemoryBucketStore:
    """Buckets in this process only."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._buckets: dict[tuple[str, str], BucketState] = {}
        self._lock = threading.Lock()

    def take(self, partner: str, operation: str, rate: float, burst: int) -> float:
        with self._lock:
            key = (partner, operation)
            self._buckets[key], wait = take_token(
                self._buckets.get(key), self._clock(), rate, burst
            )
            return wait

    def set_rate(self, partner: str, operation: str, rate: float) -> None:
        _check_plan(rate)
        with self._lock:
            state = self._buckets.get((partner, operation))
            if state is not None:
                self._buckets[(partner, operation)] = change_rate(state, self._clock(), rate)

    def drain(self, partner: str, operation: str) -> None:
        with self._lock:
            state = self._buckets.get((partner, operation))
            if state is not None:
                self._buckets[(partner, operation)] = drain_bucket(state, self._clock())

    def state(self, partner: str, operation: str) -> BucketState | None:
        """The bucket as it was last written (not refilled to now)."""
        with self._lock:
            return self._buckets.get((partner, operation))


_B = RateLimitBucket


class DatabaseBucketStore:
    """Buckets in the ``spapi_rate_buckets`` table: one locked row per bucket."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"rate-limit buckets need SQLite or PostgreSQL, not {dialect}")
        self._insert = postgresql.insert if dialect == "postgresql" else sqlite.insert

    @staticmethod
    def _locked(connection: Connection, partner: str, operation: str) -> BucketState | None:
        """The bucket, its row locked until the transaction ends (SQLite: the whole file)."""
        row = connection.execute(
            select(_B.rate, _B.burst, _B.tokens, _B.updated)
            .where(_B.partner == partner, _B.operation == operation)
            .with_for_update()
        ).first()
        if row is None:
            return None
        rate, burst, tokens, updated = row
        return BucketState(rate=rate, burst=burst, tokens=tokens, updated=updated)

    @staticmethod
    def _write(connection: Connection, partner: str, operation: str, state: BucketState) -> None:
        connection.execute(
            update(_B)
            .where(_B.partner == partner, _B.operation == operation)
            .values(rate=state.rate, burst=state.burst, tokens=state.tokens, updated=state.updated)
        )

    def take(self, partner: str, operation: str, rate: float, burst: int) -> float:
        _check_plan(rate, burst)
        now = self._clock()
        with self._engine.begin() as connection:
            state = self._locked(connection, partner, operation)
            if state is None:
                # Two processes may both find no row; the second insert does nothing and both
                # then lock the one row that exists.
                full = {"rate": rate, "burst": burst, "tokens": float(burst), "updated": now}
                connection.execute(
                    self._insert(_B)
                    .values(partner=partner, operation=operation, **full)
                    .on_conflict_do_nothing()
                )
                state = self._locked(connection, partner, operation)
                assert state is not None  # inserted just now, by this process or another
            state, wait = take_token(state, now, rate, burst)
            self._write(connection, partner, operation, state)
            return wait

    def _change(
        self, partner: str, operation: str, change: Callable[[BucketState], BucketState]
    ) -> None:
        with self._engine.begin() as connection:
            state = self._locked(connection, partner, operation)
            if state is not None:
                self._write(connection, partner, operation, change(state))

    def set_rate(self, partner: str, operation: str, rate: float) -> None:
        _check_plan(rate)
        now = self._clock()
        self._change(partner, operation, lambda state: change_rate(state, now, rate))

    def drain(self, partner: str, operation: str) -> None:
        now = self._clock()
        self._change(partner, operation, lambda state: drain_bucket(state, now))


# The same arithmetic as take_token / drain_bucket / change_rate, in one atomic script.
# Numbers are returned and stored as strings: Redis truncates a Lua number reply to an integer.
_SCRIPT = """
local action = ARGV[1]
local now = tonumber(ARGV[2])
local stored = redis.call('HMGET', KEYS[1], 'rate', 'burst', 'tokens', 'updated')
local rate, burst, tokens, updated
if not stored[1] then
  if action ~= 'take' then return '0' end
  rate = tonumber(ARGV[3]); burst = tonumber(ARGV[4]); tokens = burst; updated = now
else
  rate = tonumber(stored[1]); burst = tonumber(stored[2])
  tokens = tonumber(stored[3]); updated = tonumber(stored[4])
end
if now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate)
  updated = now
end
local wait = 0
if action == 'take' then
  burst = tonumber(ARGV[4])
  tokens = math.min(tokens, burst)
  if tokens >= 1 - tonumber(ARGV[5]) then
    tokens = math.max(0, tokens - 1)
  else
    wait = (1 - tokens) / rate
  end
elseif action == 'drain' then
  tokens = 0
elseif action == 'set_rate' then
  rate = tonumber(ARGV[3])
end
redis.call('HSET', KEYS[1], 'rate', string.format('%.17g', rate), 'burst', burst,
  'tokens', string.format('%.17g', tokens), 'updated', string.format('%.17g', updated))
return string.format('%.17g', wait)
"""

DEFAULT_REDIS_PREFIX = "sellerbridge:spapi:bucket:"


class RedisBucketStore:
    """Buckets as Redis hashes (``<prefix><partner>:<operation>``), changed by one Lua script."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_REDIS_PREFIX,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._clock = clock
        self._script = client.register_script(_SCRIPT)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = DEFAULT_REDIS_PREFIX) -> RedisBucketStore:
        """A store on the Redis server at ``url`` (``redis://host:6379/0``)."""
        return cls(redis.Redis.from_url(url), prefix=prefix)

    def key(self, partner: str, operation: str) -> str:
        return f"{self._prefix}{partner}:{operation}"

    def _run(self, partner: str, operation: str, action: str, rate: float, burst: int) -> float:
        result = self._script(
            keys=[self.key(partner, operation)],
            args=[action, repr(self._clock()), repr(rate), burst, repr(_EPSILON)],
        )
        return float(result.decode() if isinstance(result, bytes) else result)

    def take(self, partner: str, operation: str, rate: float, burst: int) -> float:
        _check_plan(rate, burst)
        return self._run(partner, operation, "take", rate, burst)

    def set_rate(self, partner: str, operation: str, rate: float) -> None:
        _check_plan(rate)
        self._run(partner, operation, "set_rate", rate, 1)

    def drain(self, partner: str, operation: str) -> None:
        self._run(partner, operation, "drain", 1.0, 1)
