"""The sandbox served on a free localhost port from a background thread.

For the demo and the tests, which need a real HTTP server beside their own work, for as long
as a ``with`` block lasts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from sellerbridge.sandbox.app import build_sandbox, create_app
from sellerbridge.sandbox.config import SandboxConfig
from sellerbridge.sandbox.core import Sandbox

START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningSandbox:
    base_url: str
    sandbox: Sandbox


@contextmanager
def serve_in_background(config: SandboxConfig) -> Iterator[RunningSandbox]:
    """Serve a new sandbox on ``127.0.0.1`` until the block ends."""
    sandbox = build_sandbox(config)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(sandbox=sandbox), host="127.0.0.1", port=0, log_level="critical",
            lifespan="on",
        )
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningSandbox(f"http://127.0.0.1:{port}", sandbox)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
