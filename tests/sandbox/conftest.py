from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from sellerbridge.sandbox import SandboxConfig
from tests.sandbox.harness import LiveSandbox, serve


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., LiveSandbox]]:
    """Start sandboxes with the given config values; all are stopped after the test."""
    with ExitStack() as stack:

        def start(**config: Any) -> LiveSandbox:
            return stack.enter_context(serve(SandboxConfig(**config)))

        yield start


@pytest.fixture
def live(start_sandbox: Callable[..., LiveSandbox]) -> LiveSandbox:
    """A fresh sandbox at time scale 1 with the default seller and no orders."""
    return start_sandbox()
