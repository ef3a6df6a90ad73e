"""The admin API under ``/_sandbox``: set up sellers, inject faults, look inside.

It needs no token: the sandbox listens on localhost and is a test tool. Each API module adds
its own admin routes (order lifecycle, listing quantities, account health, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from starlette.requests import Request

from sellerbridge.sandbox.errors import ApiError, invalid_input
from sellerbridge.sandbox.faults import FaultRule
from sellerbridge.sandbox.framework import Api
from sellerbridge.sandbox.marketplaces import BY_CODE, EUROPE

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox, Seller

api = Api()


async def json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise invalid_input("The request body is not valid JSON.") from None


def marketplace_ids(codes_or_ids: list[str]) -> list[str]:
    """Accept marketplace ids or Amazon's short codes (DE, FR, UK, ...)."""
    return [BY_CODE[value].id if value in BY_CODE else value for value in codes_or_ids]


def seller_view(sandbox: Sandbox, seller: Seller) -> dict[str, Any]:
    """A seller with the app's LWA credentials: everything a connector needs to connect."""
    application = sandbox.application
    return seller.model_dump() | {
        "client_id": application.client_id,
        "client_secret": application.client_secret,
    }


@api.admin("POST", "/_sandbox/sellers")
async def create_seller(sandbox: Sandbox, request: Request) -> Any:
    """Create a selling partner; returns the LWA credentials the connector needs."""
    body = await json_body(request)
    if not isinstance(body, dict):
        raise invalid_input('Give {"name", "marketplaces": [...], "seller_id"} as an object.')
    seller = sandbox.create_seller(
        name=body.get("name", "Sandbox Seller"),
        marketplace_ids=marketplace_ids(body.get("marketplaces", [m.code for m in EUROPE])),
        seller_id=body.get("seller_id"),
    )
    return seller_view(sandbox, seller)


@api.admin("GET", "/_sandbox/sellers")
def list_sellers(sandbox: Sandbox, request: Request) -> Any:
    return [seller_view(sandbox, seller) for seller in sandbox.state.sellers.values()]


@api.admin("POST", "/_sandbox/sellers/{seller_id}/revoke")
def revoke(sandbox: Sandbox, request: Request) -> Any:
    """The seller removes the app's authorisation in Seller Central."""
    sandbox.revoke(request.path_params["seller_id"])
    return {"revoked": True}


@api.admin("POST", "/_sandbox/sellers/{seller_id}/authorise")
def authorise(sandbox: Sandbox, request: Request) -> Any:
    """The seller authorises the app again (after revoking it): a new refresh token."""
    return seller_view(sandbox, sandbox.authorise(request.path_params["seller_id"]))


@api.admin("POST", "/_sandbox/sellers/{seller_id}/marketplaces/{marketplace}/suspend")
def suspend_marketplace(sandbox: Sandbox, request: Request) -> Any:
    seller = sandbox.known_seller(request.path_params["seller_id"])
    (marketplace_id,) = marketplace_ids([request.path_params["marketplace"]])
    if marketplace_id not in seller.marketplace_ids:
        raise invalid_input(f"{seller.seller_id} does not sell on {marketplace_id}.")
    if marketplace_id not in seller.suspended_marketplace_ids:
        seller.suspended_marketplace_ids.append(marketplace_id)
    return seller.model_dump()


@api.admin("POST", "/_sandbox/tokens/expire")
def expire_tokens(sandbox: Sandbox, request: Request) -> Any:
    """Let every issued access token expire now."""
    return {"expired": sandbox.expire_tokens(sandbox.now())}


@api.admin("PUT", "/_sandbox/faults")
async def set_faults(sandbox: Sandbox, request: Request) -> Any:
    """Replace the fault rules: ``[{"operation", "kind", "probability", "remaining"}]``."""
    body = await json_body(request)
    try:
        rules = [FaultRule.model_validate(rule) for rule in body]
    except (ValidationError, TypeError) as error:
        raise invalid_input("Invalid fault rules.", str(error)) from None
    sandbox.faults.rules = rules
    return [rule.model_dump() for rule in rules]


@api.admin("GET", "/_sandbox/faults")
def get_faults(sandbox: Sandbox, request: Request) -> Any:
    return [rule.model_dump() for rule in sandbox.faults.rules]


@api.admin("PUT", "/_sandbox/usage-plans/{operation}")
async def set_usage_plan(sandbox: Sandbox, request: Request) -> Any:
    """Give one operation a raised (or lowered) plan, for every seller: ``{"rate", "burst"}``."""
    body = await json_body(request)
    try:
        rate, burst = float(body["rate"]), int(body["burst"])
    except (KeyError, TypeError, ValueError):
        raise invalid_input('Give {"rate": <requests per second>, "burst": <n>}.') from None
    sandbox.throttle.override(request.path_params["operation"], rate, burst)
    return {
        "operation": request.path_params["operation"],
        "rate": body["rate"],
        "burst": body["burst"],
    }


@api.admin("GET", "/_sandbox/requests")
def requests_log(sandbox: Sandbox, request: Request) -> Any:
    """Every request received, newest last; filter with ``?operation=...``."""
    operation = request.query_params.get("operation")
    return [
        entry.model_dump(mode="json")
        for entry in sandbox.request_log
        if operation is None or entry.operation == operation
    ]


@api.admin("POST", "/_sandbox/save")
def save(sandbox: Sandbox, request: Request) -> Any:
    path = sandbox.save()
    if path is None:
        raise ApiError(409, "NoStateFile", "The sandbox was started without --state.")
    return {"saved": str(path)}


@api.admin("GET", "/_sandbox/state")
def state(sandbox: Sandbox, request: Request) -> Any:
    return sandbox.state.model_dump(mode="json", exclude={"tokens", "documents", "random_state"})
