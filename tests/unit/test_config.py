"""Settings come from the environment, then the TOML file, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from sellerbridge.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SELLERBRIDGE_CONFIG", "SELLERBRIDGE_DATABASE_URL", "SELLERBRIDGE_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SELLERBRIDGE_DATA_DIR", str(tmp_path))


def test_defaults_put_the_database_in_the_data_directory(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == tmp_path
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'sellerbridge.db'}"


def test_the_toml_file_in_the_data_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "sellerbridge.toml").write_text('timezone = "Europe/Vienna"\n')
    assert load_settings().timezone == "Europe/Vienna"


def test_environment_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "other.toml"
    config.write_text('database_url = "sqlite:////from/file.db"\n')
    monkeypatch.setenv("SELLERBRIDGE_CONFIG", str(config))
    assert load_settings().database_url == "sqlite:////from/file.db"
    monkeypatch.setenv("SELLERBRIDGE_DATABASE_URL", "postgresql+psycopg://db/erp")
    assert load_settings().database_url == "postgresql+psycopg://db/erp"


def test_a_typo_in_the_file_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    config = tmp_path / "sellerbridge.toml"
    config.write_text('databse_url = "sqlite:////x.db"\n')
    with pytest.raises(ConfigError, match="databse_url"):
        load_settings()


def test_bad_values_and_missing_files_are_explained(tmp_path: Path) -> None:
    (tmp_path / "sellerbridge.toml").write_text('timezone = "Mars/Olympus"\n')
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings()
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")
    (tmp_path / "broken.toml").write_text("timezone = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path / "broken.toml")
