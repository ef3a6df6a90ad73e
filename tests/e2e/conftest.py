"""What every command-line test needs: a CLI runner on the test's database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> CliRunner:
    """The ``sellerbridge`` CLI with its data directory in ``tmp_path / "data"``."""
    monkeypatch.setenv("SELLERBRIDGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SELLERBRIDGE_DATABASE_URL", database_url)
    monkeypatch.delenv("SELLERBRIDGE_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")  # wide tables: no wrapped cells in the assertions
    return CliRunner()
