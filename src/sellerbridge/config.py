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
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from sellerbridge.core.vat import SellerTaxProfile

CONFIG_FILE_NAME = "sellerbridge.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the setting and the file."""


def default_data_dir() -> Path:
    return platformdirs.user_data_path("sellerbridge")


class SellerSettings(BaseModel):
    """The merchant as printed on its documents (§ 14 Abs. 4 Nr. 1 and 2 UStG): the ``[seller]``
    table of the TOML file, or ``SELLERBRIDGE_SELLER__<NAME>`` variables."""

    model_config = ConfigDict(extra="forbid")

    company: str | None = Field(default=None, description="Legal name, e.g. 'Kaffeehaus GmbH'.")
    street: str | None = Field(default=None, description="Street and number.")
    postal_code: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, description="ISO code; default: home_country.")
    tax_number: str | None = Field(default=None, description="Steuernummer.")
    vat_ids: dict[str, str] = Field(
        default_factory=dict,
        description="VAT ID per country where the merchant is registered, e.g. "
        "{DE = 'DE…', PL = 'PL…'}; printed for sales taxed in that country.",
    )
    distance_sales_at_destination: bool = Field(
        default=True,
        description="Tax B2C sales to other EU countries at the destination's rate (OSS; "
        "the EU-wide 10,000 EUR threshold is exceeded or the merchant opted in).",
    )
    email: str | None = None
    phone: str | None = None
    account_holder: str | None = Field(default=None, description="Bank details (optional).")
    iban: str | None = None
    bic: str | None = None
    bank_name: str | None = None

    def tax_profile(self, home_country: str) -> SellerTaxProfile:
        """The merchant's VAT registrations, as the tax engine needs them."""
        return SellerTaxProfile(
            home_country=self.country or home_country,
            vat_ids=self.vat_ids,
            distance_sales_at_destination=self.distance_sales_at_destination,
        )

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.strip().upper() if value else value

    @field_validator("vat_ids")
    @classmethod
    def _upper_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return {country.strip().upper(): vat_id.strip() for country, vat_id in value.items()}


class SmtpSettings(BaseModel):
    """The mail server invoices are sent through: the ``[smtp]`` table, or
    ``SELLERBRIDGE_SMTP__<NAME>`` variables. Without a host, nothing is e-mailed."""

    model_config = ConfigDict(extra="forbid")

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = Field(default=None, description="From address of invoice e-mails.")
    reply_to: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    ca_file: Path | None = Field(
        default=None, description="Trust this CA file instead of the system's (a private CA)."
    )
    max_attempts: int = Field(
        default=6, ge=1, description="Tries before a mail is marked failed and alerted."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SELLERBRIDGE_", env_nested_delimiter="__", extra="forbid"
    )

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
    auto_dispatch: bool = Field(
        default=False,
        description="Let the worker dispatch released orders by itself (Autoversand): "
        "delivery note and invoice, and the shipment once a label is bought.",
    )
    invoice_upload_after_days: float = Field(
        default=1,
        ge=0,
        description="An FBM invoice is uploaded to Amazon once Amazon shows every package of "
        "its order, or this many days after it was issued, whichever comes first.",
    )
    invoice_upload_unknown_wait_minutes: float = Field(
        default=60,
        ge=0,
        description="An invoice upload whose outcome is unknown (a lost answer, a run that "
        "died) is looked up in Amazon's VAT invoice data report after this long — longer than "
        "Amazon takes to process a feed — and sent again only if Amazon does not have it.",
    )
    invoice_data_minutes: float = Field(
        default=60,
        ge=0,
        le=720,
        description="How often Amazon's refunds (Finances API) and, for VCS, its VAT invoice "
        "data report are read; at most 12 hours, as Amazon wants the report read at least "
        "twice a day.",
    )
    stock_full_reconcile_hours: float = Field(
        default=12,
        gt=0,
        description="How often Amazon's FBM quantities are read back in full (a listings "
        "report per marketplace) and every difference sent again.",
    )
    stock_patch_limit: int = Field(
        default=20,
        ge=0,
        description="Up to this many changed SKUs go out one by one with patchListingsItem "
        "(seconds); more go in JSON_LISTINGS_FEED batches. A sell-out (0) always goes at once.",
    )
    stock_untracked_quantity: int = Field(
        default=100,
        ge=0,
        description="The quantity offered of an article without tracked stock (a service, a "
        "made-to-order item); a SKU's maximum caps it.",
    )
    fba_inventory_minutes: float = Field(
        default=30,
        gt=0,
        description="How often FBA inventory is imported into the FBA warehouse.",
    )
    partial_shipments: bool = Field(
        default=False,
        description="Let the automatic dispatch ship what is in stock and the rest when it "
        "arrives (Teillieferung); otherwise an order waits until all of its stock is there.",
    )
    shipping_methods: dict[str, str] = Field(
        default_factory=dict,
        description="Shipping method per Amazon service level, for parcels shipped without "
        "one named, e.g. {STANDARD = 'DHL Paket', NEXT_DAY = 'DHL Express'}; it is sent to "
        "Amazon with the shipment confirmation.",
    )
    seller: SellerSettings = Field(default_factory=SellerSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
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
    label_rule: Literal["cheapest", "fastest"] = Field(
        default="cheapest",
        description="Which Buy Shipping service a label is bought from, among those that meet "
        "the order's ship-by and deliver-by dates: the cheapest, or the one that delivers "
        "soonest (then the cheapest of those).",
    )
    label_parcel_length_cm: Decimal = Field(
        default=Decimal(30), gt=0, description="Length of the parcel labels are bought for."
    )
    label_parcel_width_cm: Decimal = Field(
        default=Decimal(20), gt=0, description="Width of the parcel labels are bought for."
    )
    label_parcel_height_cm: Decimal = Field(
        default=Decimal(15), gt=0, description="Height of the parcel labels are bought for."
    )
    label_default_article_weight_g: int = Field(
        default=1000,
        gt=0,
        description="Weight assumed per unit of an article without a weight, when a parcel's "
        "weight is summed from its articles.",
    )
    amazon_carrier_codes: dict[str, str] = Field(
        default_factory=dict,
        description="Amazon carrier code per ERP carrier name, e.g. {'Hermes' = 'Hermes "
        "Logistik Gruppe', 'PostNL' = 'Other'}; wins over the built-in table. A carrier that "
        "neither maps goes to Amazon as 'Other' with its name.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, use e.g. Europe/Berlin") from None
        return value

    @field_validator("shipping_methods")
    @classmethod
    def _upper_levels(cls, value: dict[str, str]) -> dict[str, str]:
        return {level.strip().upper(): method for level, method in value.items()}

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
