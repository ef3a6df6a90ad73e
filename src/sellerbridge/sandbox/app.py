"""The sandbox as an ASGI app: every module's operations, the admin API, LWA and documents."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from sellerbridge.sandbox import (
    admin,
    auth,
    documents,
    feeds,
    finances,
    listings,
    mfn,
    orders,
    reports,
    sellers,
    vat_calculation,
)
from sellerbridge.sandbox.config import SandboxConfig
from sellerbridge.sandbox.core import Sandbox
from sellerbridge.sandbox.framework import admin_route, json_response, operation_route
from sellerbridge.sandbox.generator import generate_orders
from sellerbridge.sandbox.marketplaces import EUROPE

MODULES = (auth, sellers, orders, feeds, listings, reports, finances, mfn, vat_calculation, admin)
DEFAULT_SELLER_NAME = "Sandbox Kaffeehaus GmbH"


def build_sandbox(config: SandboxConfig) -> Sandbox:
    """A sandbox in the state ``config`` asks for: loaded from its file, or freshly seeded.

    A fresh sandbox has one seller on every European marketplace (its credentials are derived
    from the seed) with ``config.orders`` generated orders.
    """
    state = Sandbox.load_state(config.state_file) if config.state_file else None
    sandbox = Sandbox(config, state)
    for module in MODULES:
        setup = getattr(module, "setup", None)
        if setup is not None:
            setup(sandbox)
    if state is None:
        seller = sandbox.create_seller(DEFAULT_SELLER_NAME, [m.id for m in EUROPE])
        if config.orders:
            generate_orders(sandbox, seller, config.orders, anchor=config.anchor or sandbox.now())
    return sandbox


def create_app(config: SandboxConfig | None = None, sandbox: Sandbox | None = None) -> Starlette:
    sandbox = sandbox or build_sandbox(config or SandboxConfig())
    routes: list[BaseRoute] = [*auth.routes(sandbox), *documents.routes(sandbox)]
    for module in MODULES:
        routes.extend(operation_route(sandbox, r) for r in module.api.registrations)
        routes.extend(admin_route(sandbox, r) for r in module.api.admin_routes)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        sandbox.save()

    async def unserved(request: Request, error: Exception) -> Response:
        """Paths and methods the sandbox does not serve answer in SP-API's error format."""
        status = error.status_code if isinstance(error, HTTPException) else 500
        code, message = (
            ("NotFound", f"The sandbox does not serve {request.method} {request.url.path}.")
            if status == 404
            else ("MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}.")
        )
        return json_response(
            status,
            {"errors": [{"code": code, "message": message}]},
            {"x-amzn-RequestId": str(uuid.uuid4())},
        )

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: unserved, 405: unserved},
    )
    app.state.sandbox = sandbox
    return app
