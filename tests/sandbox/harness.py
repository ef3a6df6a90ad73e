"""A real sandbox server on a free localhost port, and the official models to check it with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from sellerbridge.sandbox import SandboxConfig, spec
from sellerbridge.sandbox.core import Application, Sandbox, Seller
from sellerbridge.sandbox.server import serve_in_background


@dataclass
class LiveSandbox:
    """A running sandbox: talk to it over HTTP, look into its state directly."""

    base_url: str
    sandbox: Sandbox
    http: httpx.Client
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> Application:
        """The LWA app every seller of the sandbox authorised."""
        return self.sandbox.application

    @property
    def seller(self) -> Seller:
        """The seller a fresh sandbox starts with."""
        return next(iter(self.sandbox.state.sellers.values()))

    def lwa(self, **form: str) -> httpx.Response:
        return self.http.post("/auth/o2/token", data=form)

    def token(self, seller: Seller | None = None) -> str:
        """An access token for ``seller`` (default: the default seller), from LWA."""
        seller = seller or self.seller
        if seller.seller_id not in self._tokens:
            response = self.lwa(
                grant_type="refresh_token",
                refresh_token=seller.refresh_token,
                client_id=self.app.client_id,
                client_secret=self.app.client_secret,
            )
            response.raise_for_status()
            self._tokens[seller.seller_id] = response.json()["access_token"]
        return self._tokens[seller.seller_id]

    def call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """An SP-API call with the default seller's token (or ``token``)."""
        headers = {"x-amz-access-token": token or self.token(), **kwargs.pop("headers", {})}
        return self.http.request(method, path, headers=headers, **kwargs)

    def rdt(self, method: str, path: str) -> str:
        """A Restricted Data Token of the default seller for one resource."""
        response = self.call(
            "POST",
            "/tokens/2021-03-01/restrictedDataToken",
            json={"restrictedResources": [{"method": method, "path": path}]},
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["restrictedDataToken"]
        return token

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sandbox{path}", **kwargs)
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def serve(config: SandboxConfig) -> Iterator[LiveSandbox]:
    with (
        serve_in_background(config) as running,
        httpx.Client(base_url=running.base_url, timeout=10) as http,
    ):
        yield LiveSandbox(running.base_url, running.sandbox, http)


def conformance_errors(operation_key: str, response: httpx.Response) -> list[str]:
    """Why ``response`` does not match Amazon's model of ``operation_key`` (empty if it does)."""
    problems: list[str] = []
    if not response.headers.get("x-amzn-RequestId"):
        problems.append("no x-amzn-RequestId header")
    if 200 <= response.status_code < 300 and not response.headers.get("x-amzn-RateLimit-Limit"):
        problems.append("no x-amzn-RateLimit-Limit header on a success")
    operation = spec.operation(operation_key)
    operation_doc = spec.model(operation.api)["paths"][operation.path][operation.method.lower()]
    if str(response.status_code) not in operation_doc["responses"]:
        problems.append(f"status {response.status_code} is not in the model")
        return problems
    definition = spec.response_definition(operation, response.status_code)
    if definition is None:
        if response.content:
            problems.append(f"the model declares no body for {response.status_code}")
        return problems
    validator = spec.definition_validator(operation.api, definition)
    problems.extend(
        f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
        for error in validator.iter_errors(response.json())
    )
    return problems


CONFORMED: set[tuple[str, str]] = set()
"""(operation, "success" or "error") pairs whose responses were validated in this test run."""


def assert_conforms(operation_key: str, response: httpx.Response) -> None:
    problems = conformance_errors(operation_key, response)
    assert not problems, (
        f"{operation_key} {response.status_code}: {problems}\n{response.text[:2000]}"
    )
    CONFORMED.add((operation_key, "success" if response.status_code < 400 else "error"))
