"""Login with Amazon (the token endpoint) and the Tokens API (Restricted Data Tokens).

``POST /auth/o2/token`` answers like ``api.amazon.com``: ``refresh_token`` grants give a
seller's access token, ``client_credentials`` grants a grantless one, both valid one hour.
Wrong client credentials give 401 ``invalid_client``; an unknown or revoked refresh token 400
``invalid_grant``.
"""

from __future__ import annotations

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

RESTRICTED_PATH_PREFIXES = (
    "/orders/v0/orders",
    "/mfn/v0/shipments",
    "/reports/2021-06-30/documents",
)


def _lwa_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def routes(sandbox: Sandbox) -> list[Route]:
    async def token(request: Request) -> Response:
        now = sandbox.now()
        # application/x-www-form-urlencoded, as LWA expects
        fields = {
            key: values[0] for key, values in parse_qs((await request.body()).decode()).items()
        }
        grant_type = fields.get("grant_type")
        client_id, client_secret = fields.get("client_id"), fields.get("client_secret")
        sandbox.log_request(
            request_id="lwa", at=now, method="POST", path="/auth/o2/token",
            operation="lwa.token", seller_id=None, status=0, fault=None,
        )  # fmt: skip
        if grant_type not in ("refresh_token", "client_credentials"):
            return _lwa_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server",
            )
        if not client_id or not client_secret:
            return _lwa_error(
                400,
                "invalid_request",
                "The request is missing a required parameter : client_id or client_secret",
            )
        seller = sandbox.seller_by_client(client_id)
        if seller is None or seller.client_secret != client_secret:
            return _lwa_error(401, "invalid_client", "Client authentication failed")
        if grant_type == "client_credentials":
            issued = sandbox.issue_token(
                "grantless", client_id, None, now, scope=fields.get("scope")
            )
        else:
            if fields.get("refresh_token") != seller.refresh_token or seller.revoked:
                return _lwa_error(
                    400,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                )
            issued = sandbox.issue_token("access", client_id, seller.seller_id, now)
        return JSONResponse(
            {
                "access_token": issued.token,
                "token_type": "bearer",
                "expires_in": sandbox.config.access_token_seconds,
            }
        )

    return [Route("/auth/o2/token", token, methods=["POST"])]


@api.operation("tokens.createRestrictedDataToken")
def create_restricted_data_token(call: Call) -> Reply:
    resources = []
    for resource in call.body["restrictedResources"]:
        method, path = resource.get("method", ""), resource.get("path", "")
        if method not in ("GET", "PUT", "POST", "DELETE"):
            raise invalid_input(f"Invalid method {method!r} in restrictedResources.")
        if not path.startswith(RESTRICTED_PATH_PREFIXES):
            raise invalid_input(f"The path {path!r} is not a restricted resource.")
        resources.append(
            RestrictedResource(
                method=method, path=path, data_elements=resource.get("dataElements", [])
            )
        )
    token = call.sandbox.issue_token(
        "rdt", call.token.client_id, call.seller.seller_id, call.now, restricted_resources=resources
    )
    return Reply(
        body={
            "restrictedDataToken": token.token,
            "expiresIn": call.sandbox.config.access_token_seconds,
        }
    )
