"""Login with Amazon (the token endpoint) and the Tokens API (Restricted Data Tokens).

``POST /auth/o2/token`` answers like ``api.amazon.com``: ``refresh_token`` grants give a
seller's access token, ``client_credentials`` grants a grantless one, both valid one hour.
Wrong client credentials give 401 ``invalid_client``; an unknown or revoked refresh token 400
``invalid_grant``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sellerbridge.sandbox.core import RestrictedResource
from sellerbridge.sandbox.errors import invalid_input
from sellerbridge.sandbox.framework import Api, Call, Reply

if TYPE_CHECKING:
    from sellerbridge.sandbox.core import Sandbox

api = Api()

ORDERS_V0 = "/orders/v0/orders"
REPORT_DOCUMENTS = "/reports/2021-06-30/documents"
RESTRICTED_PATH_PREFIXES = (ORDERS_V0, "/mfn/v0/shipments", REPORT_DOCUMENTS)


def _lwa_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def routes(sandbox: Sandbox) -> list[Route]:
    async def token(request: Request) -> Response:
        now = sandbox.now()
        # application/x-www-form-urlencoded, as LWA expects
        fields = {
            key: values[0] for key, values in parse_qs((await request.body()).decode()).items()
        }
        response, seller_id = _exchange(sandbox, fields, now)
        sandbox.log_request(
            request_id=str(uuid.uuid4()), at=now, method="POST", path="/auth/o2/token",
            operation="lwa.token", seller_id=seller_id, status=response.status_code, fault=None,
        )  # fmt: skip
        return response

    return [Route("/auth/o2/token", token, methods=["POST"])]


def _exchange(
    sandbox: Sandbox, fields: dict[str, str], now: datetime
) -> tuple[Response, str | None]:
    """The LWA answer to a token request, and the seller it is for (if any)."""
    grant_type = fields.get("grant_type")
    if grant_type not in ("refresh_token", "client_credentials"):
        return _lwa_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        ), None
    client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
    if not client_id or not client_secret:
        return _lwa_error(
            400,
            "invalid_request",
            "The request is missing a required parameter : client_id or client_secret",
        ), None
    application = sandbox.application
    if (client_id, client_secret) != (application.client_id, application.client_secret):
        return _lwa_error(401, "invalid_client", "Client authentication failed"), None
    if grant_type == "client_credentials":
        issued = sandbox.issue_token("grantless", client_id, None, now, scope=fields.get("scope"))
        return _token_response(sandbox, issued.token), None
    seller = sandbox.seller_by_refresh_token(fields.get("refresh_token", ""))
    if seller is None or seller.revoked:
        return _lwa_error(
            400,
            "invalid_grant",
            "The request has an invalid grant parameter : refresh_token",
        ), None
    issued = sandbox.issue_token("access", client_id, seller.seller_id, now)
    return _token_response(sandbox, issued.token), seller.seller_id


def _token_response(sandbox: Sandbox, token: str) -> Response:
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": sandbox.config.access_token_seconds,
        }
    )


@api.operation("tokens.createRestrictedDataToken")
def create_restricted_data_token(call: Call) -> Reply:
    resources = []
    for resource in call.body["restrictedResources"]:
        method, path = resource.get("method", ""), resource.get("path", "")
        if method not in ("GET", "PUT", "POST", "DELETE"):
            raise invalid_input(f"Invalid method {method!r} in restrictedResources.")
        if not path.startswith(RESTRICTED_PATH_PREFIXES):
            raise invalid_input(f"The path {path!r} is not a restricted resource.")
        if path.startswith(REPORT_DOCUMENTS) and "{" in path:
            raise invalid_input(
                "A restricted report document needs its specific path.",
                f"Give {REPORT_DOCUMENTS}/<reportDocumentId>, not {path}.",
            )
        if resource.get("dataElements") and not path.startswith(ORDERS_V0):
            raise invalid_input(
                "dataElements apply only to the Orders API paths.", f"Remove them for {path}."
            )
        resources.append(RestrictedResource(method=method, path=path))
    token = call.sandbox.issue_token(
        "rdt", call.token.client_id, call.seller.seller_id, call.now, restricted_resources=resources
    )
    return Reply(
        body={
            "restrictedDataToken": token.token,
            "expiresIn": call.sandbox.config.access_token_seconds,
        }
    )
