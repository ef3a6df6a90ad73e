"""Connecting an Amazon account and importing its orders from the command line, as an operator
would, against a live sandbox and a real database on both engines."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sellerbridge.cli.main import app
from sellerbridge.sandbox import SandboxConfig
from sellerbridge.sandbox.catalog import catalogue
from tests.sandbox.harness import LiveSandbox, serve


@pytest.fixture
def live() -> Iterator[LiveSandbox]:
    with serve(SandboxConfig(time_scale=600)) as sandbox:
        yield sandbox


@pytest.fixture
def cli(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI, with import windows that end half a second ago (the sandbox's time runs fast)."""
    monkeypatch.setenv("SELLERBRIDGE_AMAZON_WINDOW_DELAY_SECONDS", "0.5")
    return cli


def run(cli: CliRunner, *args: str, expect: int = 0, typed: str | None = None) -> str:
    """The command's output as one line of words: table borders and wrapping removed."""
    result = cli.invoke(app, list(args), input=typed)
    assert result.exit_code == expect, result.output
    return " ".join(re.sub("[\u2500-\u257f]", " ", result.output).split())


def catalogue_csv(live: LiveSandbox, path: Path, *, without: str) -> Path:
    """The seller's merchant SKUs as articles of the same number, except ``without``."""
    rows = ["article_number,name,tax_class"] + [
        f"{p.sku},{p.title.replace(',', ' ')},{'reduced' if p.reduced_vat else 'standard'}"
        for p in catalogue(live.sandbox.config.seed, live.seller.seller_id)
        if not p.fulfilled_by_amazon and p.sku != without
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def settle() -> None:
    """Let Amazon's two-minute rule (time-scaled) and the import's delay pass."""
    time.sleep(2)


def test_connect_check_import_and_clear_a_hold(
    cli: CliRunner, live: LiveSandbox, tmp_path: Path
) -> None:
    run(cli, "init")
    run(cli, "articles", "import", str(catalogue_csv(live, tmp_path / "a.csv", without="SB-0002")))
    run(
        cli,
        "articles",
        "import",
        str(write(tmp_path / "b.csv", "article_number,name\nOWN-2,Crema\n")),
    )
    run(cli, "stock", "receive", "OWN-2", "5")
    seller = live.seller
    connected = run(
        cli, "amazon", "connect", "--seller-id", seller.seller_id,
        "--client-id", live.app.client_id, "--client-secret", live.app.client_secret,
        "--refresh-token", seller.refresh_token, "--sandbox", live.base_url, "--fbm", "--no-fba",
    )  # fmt: skip
    assert f"Connected Amazon account main (seller {seller.seller_id})" in connected
    assert "amazon-main-de-fbm" in connected
    assert "amazon-main-fr-fba" in connected

    checked = run(cli, "amazon", "check")
    assert "ok Login with Amazon" in checked
    assert re.search(r"ok Marketplaces: selling on DE, .*FR", checked)

    good = live.admin("POST", "/orders", json={"items": [{"sku": "SB-0001", "quantity": 2}]})
    unknown = live.admin("POST", "/orders", json={"items": [{"sku": "SB-0002"}]})
    live.admin("POST", "/orders", json={"fulfilled_by": "AMAZON", "status": "SHIPPED"})
    settle()
    imported = run(cli, "amazon", "import")
    assert "2 created" in imported  # the FBA order is not imported: --no-fba

    shown = run(cli, "orders", "show", good["order_id"])
    assert "Order AZ-0000001 open" in shown
    assert f"Amazon order {good['order_id']}" in shown
    held = run(cli, "orders", "show", unknown["order_id"])
    assert "on hold" in held
    assert "No article is known for SKU SB-0002" in held

    mapped = run(cli, "skus", "map", "SB-0002", "OWN-2")
    assert "SKU SB-0002 sells OWN-2; 1 waiting line(s) updated" in mapped
    assert "Ready to release: AZ-0000002" in mapped
    assert "released" in run(cli, "orders", "release", "AZ-0000002")
    assert "SB-0002 OWN-2" in run(cli, "skus", "list")

    # The seller revokes the authorisation in Seller Central.
    live.admin("POST", f"/sellers/{seller.seller_id}/revoke")
    live.admin("POST", "/tokens/expire")
    refused = run(cli, "amazon", "check", expect=1)
    assert "FAIL Login with Amazon" in refused
    assert "authorise the app again" in refused
    failed = run(cli, "amazon", "import", expect=1)
    assert "Error: Login with Amazon refused" in failed
    assert "authorise the app again" in failed
    assert "sellerbridge amazon credentials --refresh-token" in failed + refused
    assert seller.refresh_token not in failed + refused

    # The seller authorises the app again; the operator stores the new refresh token.
    renewed = live.admin("POST", f"/sellers/{seller.seller_id}/authorise")["refresh_token"]
    wrong = run(cli, "amazon", "credentials", "--refresh-token", typed="Atzr|wrong\n", expect=1)
    assert "invalid_grant" in wrong
    stored = run(cli, "amazon", "credentials", "--refresh-token", typed=f"{renewed}\n")
    assert "Stored the new credentials of account main; Amazon accepts them." in stored
    assert renewed not in stored
    assert "ok Login with Amazon" in run(cli, "amazon", "check")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_import_rules_and_channel_mapping_can_be_changed(cli: CliRunner, live: LiveSandbox) -> None:
    run(cli, "init")
    seller = live.seller
    run(
        cli, "amazon", "connect", "--name", "shop", "--seller-id", seller.seller_id,
        "--client-id", live.app.client_id, "--client-secret", live.app.client_secret,
        "--refresh-token", seller.refresh_token, "--sandbox", live.base_url,
    )  # fmt: skip

    accounts = run(
        cli, "amazon", "configure", "--marketplaces", "DE,fr", "--no-fba", "--mode", "automatic"
    )
    assert re.search(r"shop EU \S+ automatic FBM .* DE, FR", accounts)
    bad = run(cli, "amazon", "configure", "--marketplaces", "DE,XX", expect=1)
    assert "'XX' is not a marketplace of account shop" in bad

    channels = run(cli, "amazon", "channel", "DE", "FBA", "--series", "amazon")
    assert "amazon-shop-de-fba FBA-EU amazon" in channels
    wrong = run(cli, "amazon", "channel", "DE", "FBM", "--warehouse", "FBA-EU", expect=1)
    assert "FBM orders ship from your own warehouses, and FBA-EU is not one" in wrong
