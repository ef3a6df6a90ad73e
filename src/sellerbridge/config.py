"""Configuration: one settings class, read from ``SELLERBRIDGE_*`` variables and a TOML file.

Where a value comes from, strongest first:

1. an environment variable ``SELLERBRIDGE_<NAME>`` (e.g. ``SELLERBRIDGE_DATABASE_URL``);
2. the TOML file: ``SELLERBRIDGE_CONFIG`` if set, else ``sellerbridge.toml`` in the data
   directory;
3. the defaults below.

Unknown keys in the TOML file are errors, so a typo never silently falls back to a default.
``docs/configuration.md`` lists every setting.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

CONFIG_FILE_NAME = "sellerbridge.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the setting and the file."""


def default_data_dir() -> Path:
    return platformdirs.user_data_path("sellerbridge")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SELLERBRIDGE_", extra="forbid")

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the database (by default), documents and keys are kept.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file sellerbridge.db in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host/dbname",
    )
    timezone: str = Field(
        default="Europe/Berlin", description="Time zone used to show times to people."
    )
    home_country: str = Field(
        default="DE", description="Country of the merchant's seat (ISO code); its VAT rates apply."
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts stored credentials (Fernet); default: the key file.",
    )
    secret_key_file: Path | None = Field(
        default=None, description="File with the key; default: secret.key in the data directory."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the job queue and the shared SP-API rate limits of several "
        "machines; default: both kept in the database and a SQLite file.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        default=None,
        description="Which log lines are written (to standard error); default: WARNING for "
        "commands, INFO for the worker, which logs every SP-API call.",
    )
    log_json: bool = Field(
        default=False, description="Write log lines as JSON objects (for log collectors)."
    )
    amazon_window_delay_seconds: float = Field(
        default=150.0,
        ge=0,
        description="How far in the past an order import window ends (Amazon: at least 2 "
        "minutes, plus a margin for clock differences).",
    )
    amazon_window_overlap_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How far each import window reaches back into the previous one, so an "
        "order Amazon updated late in that window is not missed.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, use e.g. Europe/Berlin") from None
        return value

    @field_validator("home_country")
    @classmethod
    def _upper_country(cls, value: str) -> str:
        return value.strip().upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: values from the TOML file arrive as init arguments and must not
        # override what an operator set in the environment.
        return (env_settings, init_settings)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'sellerbridge.db'}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def config_file_path(explicit: Path | None = None) -> Path:
    if explicit is not None:
        return explicit
    if env := os.environ.get("SELLERBRIDGE_CONFIG"):
        return Path(env)
    data_dir = os.environ.get("SELLERBRIDGE_DATA_DIR")
    return (Path(data_dir) if data_dir else default_data_dir()) / CONFIG_FILE_NAME


def load_settings(config_file: Path | None = None) -> Settings:
    """Read the settings; raise :class:`ConfigError` with a readable reason if they are wrong."""
    path = config_file_path(config_file)
    values: dict[str, Any] = {}
    if path.exists():
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path} is not valid TOML: {error}") from None
    elif config_file is not None or os.environ.get("SELLERBRIDGE_CONFIG"):
        raise ConfigError(f"The configuration file {path} does not exist.")
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ConfigError(
            f"Invalid configuration (from {path} or SELLERBRIDGE_*): {problems}"
        ) from None
