from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from sellerbridge.sandbox import SandboxConfig
from sellerbridge.sandbox.app import MODULES
from tests.sandbox.harness import CONFORMED, LiveSandbox, serve


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


# --- contract coverage ---------------------------------------------------------------------
# When the whole sandbox suite runs, every operation the sandbox serves must have had at least
# one success and one error response validated against Amazon's model; the run fails otherwise.

_deselected: list[pytest.Item] = []


def pytest_deselected(items: list[pytest.Item]) -> None:
    _deselected.extend(items)


def _served_operations() -> set[str]:
    return {registration.key for module in MODULES for registration in module.api.registrations}


_coverage: list[str] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    ran = {Path(str(item.path)).name for item in session.items if "tests/sandbox/" in item.nodeid}
    every = {path.name for path in Path(__file__).parent.glob("test_*.py")}
    if ran != every or any("tests/sandbox/" in item.nodeid for item in _deselected):
        return  # a partial run proves nothing either way
    if session.testsfailed:
        return
    served = _served_operations()
    wanted = {(operation, kind) for operation in served for kind in ("success", "error")}
    missing = sorted(f"{operation} ({kind})" for operation, kind in wanted - CONFORMED)
    _coverage.append(
        f"{len(served)} operations served; {len(wanted & CONFORMED)} of {len(wanted)} "
        "success and error cases validated against Amazon's models"
    )
    _coverage.extend(f"  never validated: {line}" for line in missing)
    if missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _coverage:
        terminalreporter.write_sep("-", "SP-API contract coverage")
        for line in _coverage:
            terminalreporter.write_line(line)
