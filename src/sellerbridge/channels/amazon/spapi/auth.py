"""Login with Amazon (LWA): access tokens and Restricted Data Tokens, fetched once, reused.

Every SP-API call carries an access token in ``x-amz-access-token``. Amazon issues it for a
seller's refresh token (``grant_type=refresh_token``, form-encoded, with the app's client id
and secret) and it is valid for an hour. Fetching one per call would double the number of
requests and put the refresh token on the wire far more often than needed, so tokens are kept
in a :class:`TokenCache`:

- The key is a SHA-256 of the token endpoint, the client id and the refresh token: the refresh
  token itself is never a key that could surface in a debugger or a dump, and the same seller
  at the sandbox and at Amazon never share a token.
- A token is handed out only while it has more than a minute left, so that it cannot expire
  between leaving here and arriving at Amazon.
- When Amazon still answers 403 "expired" (a token revoked early, a clock off), the client
  drops exactly the token that was refused, fetches a new one and repeats the call once. A
  newer token another thread fetched meanwhile is kept.
- One lock per key makes threads that find no token wait for the one fetching it, instead of
  all asking Login with Amazon at once.

The cache lives in the process (tokens are never written anywhere): one shared by all clients
of the process by default, or one a caller passes in (the tests do).

Restricted Data Tokens (``createRestrictedDataToken``) are kept in the same way, per method and
path they were issued for, until shortly before they expire.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 (an address, not a secret)
REFRESH_MARGIN_S = 60.0
"""A token is not used in its last minute."""
DEFAULT_TOKEN_LIFETIME_S = 3600.0
"""Amazon's lifetime of access tokens and RDTs, assumed when an answer does not say."""


@dataclass(frozen=True, repr=False)
class Credentials:
    """An app's LWA client id and secret and a seller's refresh token for it."""

    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:
        return (
            f"Credentials(client_id={self.client_id!r}, client_secret='***', refresh_token='***')"
        )

    def token_request(self) -> dict[str, str]:
        """The form fields of a ``refresh_token`` grant."""
        return {
            "grant_type": "refresh_token",
            "refresh_token": self.refresh_token,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }


def credentials_key(lwa_url: str, credentials: Credentials) -> str:
    """The cache key of the access tokens of ``credentials`` at ``lwa_url``."""
    material = "\n".join((lwa_url, credentials.client_id, credentials.refresh_token))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def restricted_key(access_key: str, resources: Iterable[tuple[str, str]]) -> str:
    """The cache key of an RDT for ``resources`` ((method, path) pairs) of one seller."""
    listed = "\n".join(f"{method} {path}" for method, path in sorted(set(resources)))
    return hashlib.sha256(f"{access_key}\n{listed}".encode()).hexdigest()


@dataclass(frozen=True, repr=False)
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """Tokens by key, safe to share between threads."""

    def __init__(
        self,
        *,
        margin: float = REFRESH_MARGIN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._margin = margin
        self._clock = clock
        self._tokens: dict[str, _Token] = {}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def get(self, key: str) -> str | None:
        """The token stored under ``key`` if it has more than the margin left."""
        with self._guard:
            token = self._tokens.get(key)
        if token is None or token.expires_at - self._margin <= self._clock():
            return None
        return token.value

    def put(self, key: str, value: str, expires_in: float) -> None:
        """Store a token that expires ``expires_in`` seconds from now.

        Expired tokens are dropped on the way, so that a long-running worker that fetched an
        RDT per shipment does not keep them all.
        """
        now = self._clock()
        with self._guard:
            for stale in [k for k, token in self._tokens.items() if token.expires_at <= now]:
                del self._tokens[stale]
                lock = self._locks.get(stale)
                if lock is not None and not lock.locked():
                    del self._locks[stale]
            self._tokens[key] = _Token(value, now + expires_in)

    def invalidate(self, key: str, value: str) -> None:
        """Forget the token under ``key`` if it is still ``value`` (the one Amazon refused)."""
        with self._guard:
            token = self._tokens.get(key)
            if token is not None and token.value == value:
                del self._tokens[key]

    def lock(self, key: str) -> threading.Lock:
        """The lock that serialises fetching the token of ``key``."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


SHARED_TOKENS = TokenCache()
"""The cache of clients that are not given one: every client of the process shares it."""


def read_token(body: Any, *, value_field: str, lifetime_field: str) -> tuple[str, float] | None:
    """(token, seconds it is valid) from a token answer, or None if the answer has no token."""
    if not isinstance(body, dict):
        return None
    value = body.get(value_field)
    if not isinstance(value, str) or not value:
        return None
    lifetime = body.get(lifetime_field, DEFAULT_TOKEN_LIFETIME_S)
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        lifetime = DEFAULT_TOKEN_LIFETIME_S
    return value, float(lifetime)


def lwa_error_code(body: Any) -> str:
    """The ``error`` of an LWA error answer (``invalid_grant``, ``invalid_client``, ...)."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return ""
