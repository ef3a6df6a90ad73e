"""`sellerbridge sandbox serve` in a process of its own, steered by the other sandbox commands."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sellerbridge.cli.main import app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    monkeypatch.setenv("COLUMNS", "200")  # wide tables: order ids are not wrapped
    port = free_port()
    state = tmp_path / "sandbox.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "sellerbridge", "sandbox", "serve", "--port", str(port),
         "--orders", "30", "--seed", "5", "--time-scale", "100", "--state", str(state)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "SELLERBRIDGE_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/_sandbox/sellers", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(
                    f"the sandbox did not start: {process.communicate()[0]}"
                ) from None
            time.sleep(0.1)
    try:
        yield url, process, state
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_serve_and_steer_a_sandbox(served: tuple[str, subprocess.Popen[str], Path]) -> None:
    url, process, state = served
    sellers = httpx.get(f"{url}/_sandbox/sellers").json()
    assert len(sellers) == 1
    seller_id = sellers[0]["seller_id"]
    assert seller_id in run("sandbox", "sellers", "list", "--url", url)

    assert "5 order(s) generated" in run("sandbox", "orders", "generate", "5", "--url", url)
    orders = httpx.get(f"{url}/_sandbox/orders").json()
    assert len(orders) == 35
    pending = next(order for order in orders if order["status"] == "PENDING")
    assert "is UNSHIPPED" in run(
        "sandbox", "orders", "event", pending["order_id"], "pay", "--url", url
    )
    assert pending["order_id"] in run("sandbox", "orders", "list", "--last", "100", "--url", url)

    run("sandbox", "faults", "add", "error503", "--operation", "sellers.getAccount",
        "--count", "1", "--url", url)  # fmt: skip
    assert "sellers.getAccount" in run("sandbox", "faults", "list", "--url", url)
    run("sandbox", "faults", "clear", "--url", url)
    assert httpx.get(f"{url}/_sandbox/faults").json() == []

    health = run("sandbox", "sellers", "health", seller_id, "--marketplace", "DE",
                 "--set", "accountStatus=AT_RISK", "--url", url)  # fmt: skip
    assert "AT_RISK" in health
    assert json.loads(run("sandbox", "listings", "--seller", seller_id, "--url", url))
    assert json.loads(run("sandbox", "invoices", "--url", url)) == []
    assert "token(s) expired" in run("sandbox", "expire-tokens", "--url", url)
    assert "/_sandbox" not in run("sandbox", "requests", "--url", url)

    process.send_signal(signal.SIGINT)  # Ctrl-C: the state is saved on the way out
    output, _ = process.communicate(timeout=30)
    assert f"Seller {seller_id}" in output
    assert "LWA client secret" in output
    assert sellers[0]["refresh_token"] in output  # on one line, whole
    saved = json.loads(state.read_text())
    assert len(saved["orders"]["orders"]) == 35


def test_a_sandbox_that_is_not_running_is_explained() -> None:
    result = CliRunner().invoke(app, ["sandbox", "sellers", "list", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "No sandbox answers at http://127.0.0.1:9" in result.output
    assert "sellerbridge sandbox serve" in result.output
