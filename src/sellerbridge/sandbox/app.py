"""The sandbox as an ASGI app: every module's operations, the admin API, LWA and documents."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sellerbridge.sandbox import (
    admin,
    auth,
    documents,
    feeds,
    listings,
    mfn,
    orders,
    reports,
    sellers,
)
from sellerbridge.sandbox.config import SandboxConfig
from sellerbridge.sandbox.core import Sandbox
from sellerbridge.sandbox.framework import admin_route, operation_route
from sellerbridge.sandbox.generator import generate_orders
from sellerbridge.sandbox.marketplaces import EUROPE

MODULES = (auth, sellers, orders, feeds, listings, reports, mfn, admin)
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

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.sandbox = sandbox
    return app
