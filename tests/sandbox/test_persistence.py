"""With ``--state FILE`` a restarted sandbox carries on where it stopped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sellerbridge.sandbox import SandboxConfig
from tests.sandbox.harness import LiveSandbox, serve


def test_sellers_and_tokens_survive_a_restart(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with serve(SandboxConfig(seed=3, state_file=state_file)) as first:
        created = first.admin(
            "POST", "/sellers", json={"name": "Händler Zwei", "marketplaces": ["DE", "PL"]}
        )
        token = first.token()
    assert state_file.exists()
    with serve(SandboxConfig(seed=99, state_file=state_file)) as second:
        sellers = {seller["seller_id"] for seller in second.admin("GET", "/sellers")}
        assert created["seller_id"] in sellers
        assert len(sellers) == 2  # no second default seller was made
        assert second.call("GET", "/sellers/v1/account", token=token).status_code == 200


def test_the_admin_api_saves_on_demand(
    tmp_path: Path, start_sandbox: Callable[..., LiveSandbox]
) -> None:
    state_file = tmp_path / "sandbox.json"
    live = start_sandbox(state_file=state_file)
    assert live.admin("POST", "/save") == {"saved": str(state_file)}
    assert '"sellers"' in state_file.read_text()
    without = start_sandbox()
    response = without.http.post("/_sandbox/save")
    assert response.status_code == 409
