"""The README's first command: the demo runs end to end in a process of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def run_demo(workspace: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "SELLERBRIDGE_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    environment.pop("SELLERBRIDGE_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "sellerbridge", "demo", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_demo_builds_a_workspace_and_prints_its_summary(tmp_path: Path) -> None:
    workspace = tmp_path / "demo"
    result = run_demo(workspace, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "SO-000002 waits for 1 × MUE-0010" in out
    assert "SO-000002 got what it waited for and was released" in out
    assert "Zoë Müller-Lüdenscheidt" in out
    # The Amazon day: the sandbox's orders imported, a SKU mapped, its orders released.
    assert "connected it as Amazon account 'demo'" in out
    imported = re.search(r"Imported (\d+) Amazon orders", out)
    assert imported is not None
    assert int(imported.group(1)) > 150
    assert re.search(r"Holds: \d+ × unknown SKU", out)
    assert re.search(r"Mapped SKU SB-0001 to article KAF-1000 .* released the [1-9]\d* order", out)
    summary = "Summary: manual orders 1 cancelled, 1 on hold, 2 released; Amazon orders"
    assert summary in out
    assert (workspace / "sellerbridge.db").exists()

    again = run_demo(workspace, tmp_path)  # a second run starts from scratch
    assert again.returncode == 0, again.stderr
    assert summary in again.stdout
    assert imported.group(0) in again.stdout


def test_the_demo_never_deletes_a_directory_it_did_not_make(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "invoices.pdf").write_text("keep me")
    result = run_demo(precious, tmp_path)
    assert result.returncode == 1
    assert "is not a sellerbridge demo workspace" in result.stderr
    assert (precious / "invoices.pdf").read_text() == "keep me"
