"""What can go wrong with an SP-API call, classified where it happens.

A caller catches exactly what it can handle::

    SpApiError                 any failed call: operation, HTTP status, Amazon request id, errors
    ├── ThrottledError         429 QuotaExceeded, still after the throttle budget of the call
    ├── RetryableError         5xx, timeouts, broken connections, unreadable bodies, after the
    │   │                      failure budget: trying again later may work
    │   ├── UnreachableError   no connection to Amazon at all (network, DNS, proxy, firewall)
    │   └── AmbiguousError     a call that must not be repeated blindly (``idempotent=False``)
    │                          whose outcome is unknown: Amazon may have applied it
    ├── RejectedError          any other 4xx (and LWA refusing a malformed token request):
    │                          the request is wrong, repeating it gives the same answer
    └── AuthError              Login with Amazon refused the credentials, or the API answered
                               401/403; ``reason`` (an :class:`AuthReason`) says what to fix

Catch :class:`AmbiguousError` before :class:`RetryableError`: repeating an ambiguous call may
apply it twice; read the state back from Amazon first.

Every message is a sentence an operator can act on. It names the operation, the HTTP status,
the error codes and Amazon's request id (which Amazon's support asks for), and never a token, a
secret or anything from a request or response body: Amazon's error messages can quote the
request, and the request can carry personal data. The full ``errors`` list Amazon sent is kept
on the exception for code that knows what it may show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of the ``errors`` list of an SP-API error response."""

    code: str
    message: str
    details: str | None = None


class AuthReason(StrEnum):
    """Why a call was not authorised, in terms of what an operator has to do."""

    AUTHORISATION_REVOKED = "invalid_grant"
    """The seller's authorisation (the refresh token) expired, was revoked in Seller Central,
    or is not a refresh token of this app: the seller has to authorise the app again."""
    WRONG_CLIENT_CREDENTIALS = "invalid_client"
    """Login with Amazon does not accept the app's client id and secret (a typo, or a secret
    rotated in Developer Central)."""
    ACCESS_DENIED = "access_denied"
    """The API refused the call: the app lacks the role the operation needs, or the seller has
    not authorised the app for it."""
    RESTRICTED_DATA = "restricted_data"
    """The operation returns restricted data (personal data) and needs a Restricted Data Token
    for its path, or the token given was not issued for it."""


_AUTH_ADVICE = {
    AuthReason.AUTHORISATION_REVOKED: (
        "the seller's authorisation has expired or was revoked (or the refresh token is not one "
        "of this app); have the seller authorise the app again and store the new refresh token"
    ),
    AuthReason.WRONG_CLIENT_CREDENTIALS: (
        "the app's LWA client id or client secret is wrong; copy both again from the app in "
        "Developer Central (a rotated secret replaces the old one)"
    ),
    AuthReason.ACCESS_DENIED: (
        "the app lacks the role this operation needs, or the seller has not authorised it; "
        "check the app's roles in Developer Central and have the seller authorise it again"
    ),
    AuthReason.RESTRICTED_DATA: (
        "the operation returns restricted data and needs a Restricted Data Token issued for "
        "this path; call it as a restricted call, and check that the app has the restricted role"
    ),
}


def safe_codes(errors: Sequence[ErrorDetail]) -> tuple[str, ...]:
    """The error codes that look like codes (identifiers), fit to appear in a message or log."""
    return tuple(error.code for error in errors if _CODE.match(error.code))


def _suffix(status: int | None, errors: Sequence[ErrorDetail], request_id: str | None) -> str:
    parts = []
    if status is not None:
        parts.append(" ".join([f"HTTP {status}", *safe_codes(errors)]))
    if request_id:
        parts.append(f"Amazon request id {request_id}")
    return f" ({'; '.join(parts)})" if parts else ""


class SpApiError(Exception):
    """An SP-API call that did not succeed."""

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        status: int | None = None,
        request_id: str | None = None,
        errors: Sequence[ErrorDetail] = (),
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.status = status
        self.request_id = request_id
        self.errors = tuple(errors)
        self.attempts = attempts

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of Amazon's ``errors`` list (e.g. ``InvalidInput``)."""
        return tuple(error.code for error in self.errors)


class ThrottledError(SpApiError):
    """Amazon kept answering 429: the usage plan is exhausted for now."""

    @classmethod
    def exhausted(
        cls,
        operation: str,
        seller_id: str,
        *,
        attempts: int,
        throttled: int,
        request_id: str | None,
    ) -> ThrottledError:
        return cls(
            f"Amazon throttled {operation} for seller {seller_id} {throttled} times in a row"
            f"{_suffix(429, (), request_id)}: its usage plan is exhausted. The quota refills "
            "over time; if this keeps happening, another application or process is using the "
            "same seller's quota.",
            operation=operation,
            status=429,
            request_id=request_id,
            attempts=attempts,
        )


class RetryableError(SpApiError):
    """A temporary failure that outlasted the retries of one call; a later run may succeed."""

    @classmethod
    def server_error(
        cls,
        operation: str,
        *,
        status: int,
        request_id: str | None,
        errors: Sequence[ErrorDetail],
        attempts: int,
    ) -> RetryableError:
        return cls(
            f"Amazon answered {operation} with a server error {attempts} times"
            f"{_suffix(status, errors, request_id)}. This is on Amazon's side; the call is "
            "tried again on the next run.",
            operation=operation,
            status=status,
            request_id=request_id,
            errors=errors,
            attempts=attempts,
        )

    @classmethod
    def transport(cls, operation: str, *, failure: str, attempts: int) -> RetryableError:
        return cls(
            f"The connection to Amazon failed during {operation} {attempts} times (last: "
            f"{failure}). The call is tried again on the next run; if it keeps failing, check "
            "the network and the configured timeouts.",
            operation=operation,
            attempts=attempts,
        )

    @classmethod
    def malformed(
        cls, operation: str, *, status: int, request_id: str | None, attempts: int
    ) -> RetryableError:
        return cls(
            f"Amazon answered {operation} with a body that is not valid JSON {attempts} times"
            f"{_suffix(status, (), request_id)}. The call is tried again on the next run.",
            operation=operation,
            status=status,
            request_id=request_id,
            attempts=attempts,
        )

    @classmethod
    def unreadable(
        cls, operation: str, *, request_id: str | None, problems: Sequence[str]
    ) -> RetryableError:
        where = ", ".join(problems[:5])
        return cls(
            f"Amazon's answer to {operation} does not have the shape of Amazon's model"
            f"{_suffix(None, (), request_id)}; problems at: {where}. If this keeps happening, "
            "Amazon has changed the API: report it with the request id.",
            operation=operation,
            request_id=request_id,
        )


class UnreachableError(RetryableError):
    """No connection to Amazon could be opened at all."""

    @classmethod
    def no_connection(
        cls, operation: str, *, host: str, failure: str, attempts: int
    ) -> UnreachableError:
        return cls(
            f"sellerbridge could not connect to {host} for {operation} ({attempts} attempts, "
            f"last: {failure}). Check the network connection, DNS, proxy and firewall, and "
            "the configured endpoint.",
            operation=operation,
            attempts=attempts,
        )


class AmbiguousError(RetryableError):
    """A non-idempotent call may or may not have been applied by Amazon."""

    @classmethod
    def outcome_unknown(
        cls,
        operation: str,
        *,
        what: str,
        status: int | None = None,
        request_id: str | None = None,
        errors: Sequence[ErrorDetail] = (),
        attempts: int,
    ) -> AmbiguousError:
        return cls(
            f"{operation} may or may not have been applied by Amazon: {what}"
            f"{_suffix(status, errors, request_id)}. It was not repeated, because repeating "
            "it could apply it twice; check its effect on Amazon before trying again.",
            operation=operation,
            status=status,
            request_id=request_id,
            errors=errors,
            attempts=attempts,
        )


class RejectedError(SpApiError):
    """Amazon refused the request as it is; sending it again gives the same answer."""

    @classmethod
    def refused(
        cls,
        operation: str,
        *,
        status: int,
        request_id: str | None,
        errors: Sequence[ErrorDetail],
        attempts: int,
    ) -> RejectedError:
        return cls(
            f"Amazon rejected {operation}{_suffix(status, errors, request_id)}. The request "
            "was not repeated, as it would be rejected again; if it keeps happening, report it "
            "with the request id.",
            operation=operation,
            status=status,
            request_id=request_id,
            errors=errors,
            attempts=attempts,
        )

    @classmethod
    def login_refused(cls, operation: str, *, status: int, code: str) -> RejectedError:
        return cls(
            f"Login with Amazon refused the token request for {operation} "
            f"(HTTP {status} {code if _CODE.match(code) else 'error'}). This is a defect of "
            "sellerbridge's request, not of the credentials; report it.",
            operation=operation,
            status=status,
            attempts=1,
        )


class AuthError(SpApiError):
    """The credentials or the app's authorisation do not allow the call."""

    def __init__(
        self,
        message: str,
        *,
        reason: AuthReason,
        operation: str,
        status: int | None = None,
        request_id: str | None = None,
        errors: Sequence[ErrorDetail] = (),
        attempts: int = 1,
    ) -> None:
        super().__init__(
            message,
            operation=operation,
            status=status,
            request_id=request_id,
            errors=errors,
            attempts=attempts,
        )
        self.reason = reason

    @classmethod
    def login_refused(
        cls, reason: AuthReason, operation: str, *, seller_id: str, status: int
    ) -> AuthError:
        return cls(
            f"Login with Amazon refused an access token for seller {seller_id} "
            f"(HTTP {status} {reason.value}): {_AUTH_ADVICE[reason]}.",
            reason=reason,
            operation=operation,
            status=status,
        )

    @classmethod
    def denied(
        cls,
        reason: AuthReason,
        operation: str,
        *,
        seller_id: str,
        status: int,
        request_id: str | None,
        errors: Sequence[ErrorDetail],
        attempts: int,
    ) -> AuthError:
        return cls(
            f"Amazon denied {operation} for seller {seller_id}"
            f"{_suffix(status, errors, request_id)}: {_AUTH_ADVICE[reason]}.",
            reason=reason,
            operation=operation,
            status=status,
            request_id=request_id,
            errors=errors,
            attempts=attempts,
        )
