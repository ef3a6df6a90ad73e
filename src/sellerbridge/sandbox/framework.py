"""How an SP-API operation is served: one wrapper around every handler.

For each request the wrapper, in this order:

1. gives it an ``x-amzn-RequestId`` and lets due background work run (feeds, reports);
2. applies an injected fault, if one is configured for the operation (see :mod:`.faults`);
3. authenticates the ``x-amz-access-token`` (403 when missing, expired, revoked; restricted
   operations need a Restricted Data Token);
4. takes a token from the (seller, operation) bucket or answers 429;
5. validates the JSON body against the operation's schema in Amazon's model (400);
6. calls the handler and answers with its result, ``x-amzn-RateLimit-Limit`` on success;
7. writes a line to the request log.

Handlers are plain functions of a :class:`Call` returning a :class:`Reply`; they raise
:class:`~.errors.ApiError` for SP-API errors. They run on the event loop without awaiting, so
each request changes the state atomically.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sellerbridge.sandbox import spec
from sellerbridge.sandbox.errors import INTERNAL_FAILURE, ApiError, invalid_input

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import AccessToken, Sandbox, Seller

logger = logging.getLogger("sellerbridge.sandbox")


@dataclass
class Reply:
    """What a handler answers: a status and a JSON body (``None`` for an empty body)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None  # a raw body instead of JSON (documents)
    media_type: str | None = None


@dataclass
class Call:
    """One authenticated SP-API request, as a handler sees it."""

    sandbox: Sandbox
    request: Request
    spec: spec.OperationSpec
    token: AccessToken
    seller: Seller
    request_id: str
    now: datetime
    body: Any = None

    @property
    def path(self) -> dict[str, str]:
        return dict(self.request.path_params)

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def query_list(self, name: str) -> list[str]:
        """A list parameter, sent repeated (``a=1&a=2``) or comma-separated (``a=1,2``)."""
        values: list[str] = []
        for raw in self.request.query_params.getlist(name):
            values.extend(part for part in raw.split(",") if part)
        return values

    def required(self, name: str) -> str:
        value = self.query(name)
        if value is None or value == "":
            raise invalid_input(f"Missing required parameter {name}.")
        return value

    def required_list(self, name: str) -> list[str]:
        values = self.query_list(name)
        if not values:
            raise invalid_input(f"Missing required parameter {name}.")
        return values

    def time(self, name: str) -> datetime | None:
        """An ISO 8601 parameter as an aware UTC datetime (no offset reads as UTC), or 400."""
        value = self.query(name)
        return None if not value else parse_time(value, name)

    def integer(self, name: str, *, default: int, lowest: int, highest: int) -> int:
        raw = self.query(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise invalid_input(f"{name} must be an integer, not {raw!r}.") from None
        if not lowest <= value <= highest:
            raise invalid_input(f"{name} must be between {lowest} and {highest}.")
        return value

    def choices(
        self, name: str, allowed: Collection[str], default: Sequence[str] = ()
    ) -> list[str]:
        """A list parameter whose values must come from ``allowed``."""
        values = self.query_list(name) or list(default)
        wrong = [value for value in values if value not in allowed]
        if wrong:
            raise invalid_input(
                f"Invalid {name}: {', '.join(wrong)}.",
                f"Allowed values: {', '.join(sorted(allowed))}.",
            )
        return values

    def choice(self, name: str, allowed: Collection[str], default: str | None) -> str | None:
        """A single parameter whose value must come from ``allowed``."""
        value = self.query(name)
        if value is None:
            return default
        if value not in allowed:
            raise invalid_input(
                f"Invalid {name}: {value}.", f"Allowed values: {', '.join(sorted(allowed))}."
            )
        return value

    def marketplaces(self, name: str = "marketplaceIds") -> list[str]:
        """A required list of marketplace ids, each one the seller sells on."""
        values = self.required_list(name)
        check_marketplaces(self.seller, values)
        return values

    @property
    def base_url(self) -> str:
        return str(self.request.base_url).rstrip("/")


Handler = Callable[[Call], Reply]


@dataclass(frozen=True)
class Registration:
    key: str
    handler: Handler
    restricted: bool


@dataclass(frozen=True)
class AdminRoute:
    method: str
    path: str
    endpoint: Callable[[Sandbox, Request], Any]


class Api:
    """The operations (and admin routes) one module serves; collected by the app."""

    def __init__(self) -> None:
        self.registrations: list[Registration] = []
        self.admin_routes: list[AdminRoute] = []

    def operation(self, key: str, *, restricted: bool = False) -> Callable[[Handler], Handler]:
        """Serve ``key`` (e.g. ``"orders.getOrder"``); ``restricted`` operations need an RDT."""
        spec.operation(key)  # fail at import time on a typo

        def register(handler: Handler) -> Handler:
            self.registrations.append(Registration(key, handler, restricted))
            return handler

        return register

    def admin(
        self, method: str, path: str
    ) -> Callable[[Callable[[Sandbox, Request], Any]], Callable[[Sandbox, Request], Any]]:
        """An admin endpoint under ``/_sandbox``: plain JSON, no authentication."""

        def register(
            endpoint: Callable[[Sandbox, Request], Any],
        ) -> Callable[[Sandbox, Request], Any]:
            self.admin_routes.append(AdminRoute(method, path, endpoint))
            return endpoint

        return register


def check_marketplaces(seller: Seller, marketplace_ids: Sequence[str]) -> None:
    """400 unless the seller sells on every marketplace named."""
    foreign = [mid for mid in marketplace_ids if mid not in seller.marketplace_ids]
    if foreign:
        raise invalid_input(
            f"Invalid marketplaceIds: {', '.join(foreign)}.",
            "The selling partner does not sell on these marketplaces.",
        )


def parse_time(value: object, name: str) -> datetime:
    """An ISO 8601 date-time as an aware UTC datetime (no offset reads as UTC), or 400."""
    try:
        if not isinstance(value, str):
            raise TypeError
        parsed = datetime.fromisoformat(value)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, TypeError, OverflowError):
        raise invalid_input(f"{name} is not an ISO 8601 date-time: {value!r}.") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def encode_token(data: dict[str, Any]) -> str:
    """An opaque page token carrying ``data`` (the query it continues)."""
    raw = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, name: str) -> dict[str, Any]:
    """The data of a token made by :func:`encode_token`, or 400."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise invalid_input(f"Invalid {name}.") from None
    if not isinstance(data, dict):
        raise invalid_input(f"Invalid {name}.")
    return data


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def iso(value: datetime) -> str:
    """An ISO 8601 UTC timestamp the way SP-API writes them: ``2026-11-27T10:00:00Z``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def json_response(status: int, body: Any, headers: dict[str, str]) -> Response:
    content = b"" if body is None else json.dumps(body, default=_json_default).encode("utf-8")
    return Response(
        content,
        status_code=status,
        headers=headers,
        media_type=None if body is None else "application/json",
    )


def operation_route(sandbox: Sandbox, registration: Registration) -> Route:
    operation_spec = spec.operation(registration.key)
    body_definition = spec.body_definition(operation_spec)

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id}
        now = sandbox.now()
        fault = sandbox.faults.draw(operation_spec.key)
        status = 500
        seller_id: str | None = None
        try:
            sandbox.advance(now)
            if fault is not None and fault.answers_before_handler:
                status = fault.status
                return await fault.respond(headers, sandbox.config.hang_seconds)
            token = sandbox.authenticate(
                request.headers.get("x-amz-access-token"),
                restricted=registration.restricted,
                path=request.url.path,
                method=request.method,
                now=now,
            )
            seller = sandbox.seller(token.seller_id)
            seller_id = seller.seller_id
            sandbox.throttle.take(seller_id, operation_spec)
            body = await _body(request, operation_spec, body_definition)
            call = Call(sandbox, request, operation_spec, token, seller, request_id, now, body)
            reply = registration.handler(call)
            status = reply.status
            headers.update(reply.headers)
            headers["x-amzn-RateLimit-Limit"] = sandbox.throttle.header(operation_spec)
            if fault is not None:  # applied, but the client never hears of it
                return await fault.respond(headers, sandbox.config.hang_seconds)
            if reply.content is not None:
                return Response(
                    reply.content, status_code=reply.status, headers=headers,
                    media_type=reply.media_type,
                )  # fmt: skip
            return json_response(reply.status, reply.body, headers)
        except ApiError as error:
            status = error.status
            headers.update(error.headers)
            return json_response(error.status, error.body(), headers)
        except Exception:  # a bug of the sandbox: answer as Amazon does, keep the traceback
            logger.exception("%s failed on %s %s", operation_spec.key, request.method, request.url)
            return json_response(500, INTERNAL_FAILURE.body(), headers)
        finally:
            sandbox.log_request(
                request_id=request_id,
                at=now,
                method=request.method,
                path=request.url.path,
                operation=operation_spec.key,
                seller_id=seller_id,
                status=status,
                fault=fault.kind.value if fault else None,
            )

    return Route(route_path(operation_spec.path), endpoint, methods=[operation_spec.method])


def route_path(model_path: str) -> str:
    """The model's path as a route; a last ``{parameter}`` may contain slashes (SKUs do)."""
    head, _, last = model_path.rpartition("/")
    if last.startswith("{") and last.endswith("}"):
        return f"{head}/{last[:-1]}:path}}"
    return model_path


async def _body(
    request: Request, operation_spec: spec.OperationSpec, definition: str | None
) -> Any:
    if definition is None:
        return None
    raw = await request.body()
    try:
        body = json.loads(raw or b"null", parse_constant=_no_constant)
    except (json.JSONDecodeError, ValueError) as error:
        raise invalid_input("The request body is not valid JSON.", str(error)) from None
    if body is None:
        raise invalid_input("The request body is missing.")
    problems = sorted(
        spec.definition_validator(operation_spec.api, definition).iter_errors(body),
        key=lambda problem: list(problem.absolute_path),
    )
    if problems:
        first = problems[0]
        where = "/".join(str(part) for part in first.absolute_path) or "body"
        raise invalid_input("Invalid Input", f"{where}: {first.message}")
    return body


def admin_route(sandbox: Sandbox, route: AdminRoute) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            sandbox.advance(sandbox.now())
            result = route.endpoint(sandbox, request)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            return json_response(error.status, error.body(), {})
        except Exception:
            logger.exception("admin %s %s failed", request.method, request.url)
            return json_response(500, INTERNAL_FAILURE.body(), {})
        if isinstance(result, Response):
            return result
        return json_response(200, result, {})

    return Route(route_path(route.path), endpoint, methods=[route.method])
