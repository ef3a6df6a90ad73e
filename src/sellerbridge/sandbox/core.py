"""The sandbox itself: its state, its clock, its sellers and their tokens.

One :class:`Sandbox` serves one ASGI app. Its :class:`SandboxState` is a pydantic model, so
the whole state can be written to and read from a JSON file (``--state``) and inspected by the
admin API. Each API module keeps its records in its own part of the state.
"""

from __future__ import annotations

import os
import random
import string
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from sellerbridge.sandbox.config import SandboxConfig
from sellerbridge.sandbox.documents import DocumentsState
from sellerbridge.sandbox.errors import ApiError, not_found, unauthorized
from sellerbridge.sandbox.faults import Faults
from sellerbridge.sandbox.feeds import FeedsState
from sellerbridge.sandbox.listings import ListingsState
from sellerbridge.sandbox.marketplaces import BY_ID
from sellerbridge.sandbox.mfn import MfnState
from sellerbridge.sandbox.order_records import OrdersState
from sellerbridge.sandbox.reports import ReportsState
from sellerbridge.sandbox.throttle import Throttle
from sellerbridge.sandbox.vat_calculation import VatCalculationState

REQUEST_LOG_SIZE = 20_000


class Application(BaseModel):
    """The developer's app: one LWA client id and secret, whichever sellers authorised it."""

    client_id: str
    client_secret: str


class Seller(BaseModel):
    """A selling partner who authorised the app: its refresh token belongs to the app."""

    seller_id: str  # the merchant token, also the sellerId of the Listings API
    name: str
    refresh_token: str
    revoked: bool = False
    marketplace_ids: list[str]
    suspended_marketplace_ids: list[str] = Field(default_factory=list)


class RestrictedResource(BaseModel):
    method: str
    path: str

    def allows(self, method: str, path: str) -> bool:
        if method.upper() != self.method.upper():
            return False
        wanted, given = self.path.strip("/").split("/"), path.strip("/").split("/")
        return len(wanted) == len(given) and all(
            (w.startswith("{") and w.endswith("}")) or w == g
            for w, g in zip(wanted, given, strict=True)
        )


class AccessToken(BaseModel):
    token: str
    kind: Literal["access", "grantless", "rdt"]
    client_id: str
    seller_id: str | None
    expires_at: datetime
    scope: str | None = None
    restricted_resources: list[RestrictedResource] = Field(default_factory=list)


class RequestLogEntry(BaseModel):
    request_id: str
    at: datetime
    method: str
    path: str
    operation: str | None
    seller_id: str | None
    status: int
    fault: str | None


class SandboxState(BaseModel):
    application: Application | None = None
    sellers: dict[str, Seller] = Field(default_factory=dict)
    tokens: dict[str, AccessToken] = Field(default_factory=dict)
    orders: OrdersState = Field(default_factory=OrdersState)
    listings: ListingsState = Field(default_factory=ListingsState)
    feeds: FeedsState = Field(default_factory=FeedsState)
    documents: DocumentsState = Field(default_factory=DocumentsState)
    reports: ReportsState = Field(default_factory=ReportsState)
    mfn: MfnState = Field(default_factory=MfnState)
    vat_calculation: VatCalculationState = Field(default_factory=VatCalculationState)
    sequence: int = 0
    random_state: list[Any] | None = None
    """Where the seeded generator stood when the state was saved, so that a restarted sandbox
    goes on drawing new ids and tokens instead of repeating the ones it drew before."""


Advancer = Callable[["Sandbox", datetime], None]
SellerHook = Callable[["Sandbox", Seller], None]


class Sandbox:
    def __init__(self, config: SandboxConfig, state: SandboxState | None = None) -> None:
        self.config = config
        self.state = state or SandboxState()
        self.throttle = Throttle(config.time_scale)
        self.faults = Faults(config.seed)
        self.random = random.Random(config.seed)
        if self.state.random_state is not None:
            version, internal, gauss = self.state.random_state
            self.random.setstate((version, tuple(internal), gauss))
        self.request_log: deque[RequestLogEntry] = deque(maxlen=REQUEST_LOG_SIZE)
        self._advancers: list[Advancer] = []
        self._seller_hooks: list[SellerHook] = []

    # --- time and background work ------------------------------------------------------

    def now(self) -> datetime:
        return datetime.now(UTC)

    def on_advance(self, advancer: Advancer) -> None:
        """Register work that becomes due with time (feed and report processing)."""
        self._advancers.append(advancer)

    def advance(self, now: datetime) -> None:
        """Run everything that has become due; called at the start of every request."""
        for advancer in self._advancers:
            advancer(self, now)

    def due(self, start: datetime, seconds: float) -> datetime:
        """When a delay of ``seconds`` at Amazon's pace has passed at this time scale."""
        return start + timedelta(seconds=self.config.scaled(seconds))

    # --- identifiers ---------------------------------------------------------------------

    def next_number(self) -> int:
        self.state.sequence += 1
        return self.state.sequence

    def random_token(self, length: int = 32) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self.random.choice(alphabet) for _ in range(length))

    # --- sellers and LWA -----------------------------------------------------------------

    @property
    def application(self) -> Application:
        """The app every seller authorises; made on first use, from the seed."""
        if self.state.application is None:
            self.state.application = Application(
                client_id="amzn1.application-oa2-client." + self.random_token(32).lower(),
                client_secret="amzn1.oa2-cs.v1." + self.random_token(64).lower(),
            )
        return self.state.application

    def create_seller(
        self, name: str, marketplace_ids: list[str], seller_id: str | None = None
    ) -> Seller:
        """A seller authorises the app: it gets a refresh token for the app's credentials."""
        unknown = [mid for mid in marketplace_ids if mid not in BY_ID]
        if unknown:
            raise ApiError(400, "InvalidInput", f"Unknown marketplace ids: {', '.join(unknown)}")
        self.application  # noqa: B018 (the app exists before its first seller)
        seller = Seller(
            seller_id=seller_id or "A" + self.random_token(13).upper(),
            name=name,
            refresh_token="Atzr|" + self.random_token(120),
            marketplace_ids=marketplace_ids,
        )
        if seller.seller_id in self.state.sellers:
            raise ApiError(409, "Conflict", f"Seller {seller.seller_id} exists already.")
        self.state.sellers[seller.seller_id] = seller
        for hook in self._seller_hooks:
            hook(self, seller)
        return seller

    def on_seller_created(self, hook: SellerHook) -> None:
        """Register what a new seller gets from a module (its listings, its FBA inventory)."""
        self._seller_hooks.append(hook)

    def seller(self, seller_id: str | None) -> Seller:
        seller = self.state.sellers.get(seller_id or "")
        if seller is None:
            raise unauthorized("The access token does not belong to a selling partner.")
        return seller

    def seller_by_refresh_token(self, refresh_token: str) -> Seller | None:
        return next(
            (s for s in self.state.sellers.values() if s.refresh_token == refresh_token), None
        )

    def issue_token(
        self,
        kind: Literal["access", "grantless", "rdt"],
        client_id: str,
        seller_id: str | None,
        now: datetime,
        *,
        scope: str | None = None,
        restricted_resources: list[RestrictedResource] | None = None,
        seconds: int | None = None,
    ) -> AccessToken:
        prefix = {"access": "Atza|", "grantless": "Atc|", "rdt": "Atz.sprdt|"}[kind]
        value = prefix + self.random_token(96)
        while value in self.state.tokens:  # never hand one token to two callers
            value = prefix + self.random_token(96)
        token = AccessToken(
            token=value,
            kind=kind,
            client_id=client_id,
            seller_id=seller_id,
            expires_at=now + timedelta(seconds=seconds or self.config.access_token_seconds),
            scope=scope,
            restricted_resources=restricted_resources or [],
        )
        self.state.tokens[token.token] = token
        return token

    def authenticate(
        self,
        value: str | None,
        *,
        restricted: bool,
        path: str,
        method: str,
        now: datetime,
    ) -> AccessToken:
        """The token of a request, or the 403 Amazon answers for it."""
        if not value:
            raise unauthorized("The request has no x-amz-access-token header.")
        token = self.state.tokens.get(value)
        if token is None:
            raise unauthorized("The access token you provided is revoked, malformed or invalid.")
        if token.expires_at <= now:
            raise unauthorized("The access token you provided has expired.")
        if token.seller_id is not None and self.seller(token.seller_id).revoked:
            raise unauthorized("The access token you provided is revoked, malformed or invalid.")
        if token.kind == "grantless":
            raise unauthorized(
                "This operation needs a seller's authorization, not a grantless token."
            )
        if restricted and self.config.require_rdt:
            self.check_restricted(token, method, path)
        elif token.kind == "rdt" and not any(
            r.allows(method, path) for r in token.restricted_resources
        ):
            raise unauthorized("The restricted data token is not valid for this resource.")
        return token

    def check_restricted(self, token: AccessToken, method: str, path: str) -> None:
        """Restricted data needs a Restricted Data Token issued for this very resource."""
        if token.kind != "rdt":
            raise unauthorized(
                "This operation returns restricted data: call it with a Restricted Data Token "
                "(createRestrictedDataToken)."
            )
        if not any(resource.allows(method, path) for resource in token.restricted_resources):
            raise unauthorized("The restricted data token is not valid for this resource.")

    def known_seller(self, seller_id: str) -> Seller:
        """The seller an admin request names, or 404."""
        seller = self.state.sellers.get(seller_id)
        if seller is None:
            raise not_found(f"There is no seller {seller_id!r}.")
        return seller

    def revoke(self, seller_id: str) -> None:
        """The seller withdrew the app's authorisation: its refresh token and tokens die."""
        self.known_seller(seller_id).revoked = True

    def authorise(self, seller_id: str) -> Seller:
        """The seller authorises the app again: a new refresh token; the old one stays dead."""
        seller = self.known_seller(seller_id)
        seller.revoked = False
        seller.refresh_token = "Atzr|" + self.random_token(120)
        return seller

    def expire_tokens(self, now: datetime) -> int:
        """Let every access token expire now (tests of token refresh)."""
        for token in self.state.tokens.values():
            token.expires_at = min(token.expires_at, now)
        return len(self.state.tokens)

    # --- request log and persistence -----------------------------------------------------

    def log_request(self, **entry: object) -> None:
        self.request_log.append(RequestLogEntry.model_validate(entry))

    def save(self, path: Path | None = None) -> Path | None:
        """Write the state to ``path`` (default: the configured state file) atomically."""
        target = path or self.config.state_file
        if target is None:
            return None
        self.state.random_state = list(self.random.getstate())
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(self.state.model_dump_json(), encoding="utf-8")
        os.replace(temporary, target)
        return target

    @staticmethod
    def load_state(path: Path) -> SandboxState | None:
        if not path.exists():
            return None
        return SandboxState.model_validate_json(path.read_text(encoding="utf-8"))
