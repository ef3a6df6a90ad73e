"""Customers and their addresses.

Address fields that identify a person are personal data (PII) under Amazon's Data Protection
Policy and the GDPR. They are listed in :data:`PII_FIELDS` so that the storage layer can encrypt
them and a retention job can pseudonymise them 30 days after delivery; the country and region
stay because tax evidence needs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import pycountry
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumValidationError

from sellerbridge.core.errors import InvalidFields, InvalidInput
from sellerbridge.core.text import clean_text


class PickupPointType(StrEnum):
    """Deliveries to somewhere other than a front door (DHL Packstation, post office, ...)."""

    PACKSTATION = "packstation"
    POST_OFFICE = "post_office"
    PARCEL_SHOP = "parcel_shop"
    LOCKER = "locker"


@dataclass(frozen=True)
class Address:
    name: str
    street1: str
    postal_code: str
    city: str
    country: str  # ISO 3166-1 alpha-2
    company: str | None = None
    street2: str | None = None
    street3: str | None = None
    region: str | None = None
    phone: str | None = None
    email: str | None = None
    # Packstation and pickup points: the station or shop number, and the recipient's customer
    # number with the carrier (DHL "Postnummer"), which the carrier needs to deliver there.
    pickup_point_type: PickupPointType | None = None
    pickup_point_id: str | None = None
    pickup_customer_number: str | None = None


PII_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "company",
        "street1",
        "street2",
        "street3",
        "postal_code",
        "city",
        "phone",
        "email",
        "pickup_point_id",
        "pickup_customer_number",
    }
)
"""Address fields holding personal data; every other field is kept for tax evidence."""

FIELD_LENGTHS: dict[str, int] = {
    "name": 255,
    "company": 255,
    "street1": 255,
    "street2": 255,
    "street3": 255,
    "postal_code": 20,
    "city": 100,
    "region": 100,
    "phone": 50,
    "email": 255,
    "pickup_point_id": 50,
    "pickup_customer_number": 50,
}
"""The longest value each free-text field of an address may hold (the storage uses the same).
The country is a two-letter code, checked by :func:`check_country`."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_country(text: str, *, field: str = "country") -> str:
    code = text.strip().upper()
    if code == "UK":  # Amazon's and everyday spelling; ISO says GB
        code = "GB"
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise InvalidInput(
            field, f"{text!r} is not a country code", hint="Use the ISO code, e.g. DE, FR, AT."
        )
    return code


def validated_address(address: Address, *, field_prefix: str = "") -> Address:
    """Return the address trimmed and checked, or raise listing every problem."""
    problems: list[InvalidInput] = []
    cleaned: dict[str, Any] = {item.name: getattr(address, item.name) for item in fields(address)}
    cleaned["country"] = (address.country or "").strip() or None
    for name, max_length in FIELD_LENGTHS.items():
        try:
            cleaned[name] = clean_text(
                cleaned[name], field=field_prefix + name, max_length=max_length
            )
        except InvalidInput as problem:
            problems.append(problem)
            cleaned[name] = None
    for required in ("name", "street1", "postal_code", "city", "country"):
        if not cleaned[required] and not any(
            problem.field == field_prefix + required for problem in problems
        ):
            problems.append(InvalidInput(field_prefix + required, "is empty"))
    country = cleaned["country"]
    if isinstance(country, str):
        try:
            cleaned["country"] = check_country(country, field=field_prefix + "country")
        except InvalidInput as problem:
            problems.append(problem)
    email = cleaned["email"]
    if isinstance(email, str) and not _EMAIL.match(email):
        problems.append(InvalidInput(field_prefix + "email", f"{email!r} is not an e-mail address"))
    if cleaned["pickup_point_type"] is not None and not cleaned["pickup_point_id"]:
        problems.append(
            InvalidInput(
                field_prefix + "pickup_point_id",
                "is empty",
                hint="A pickup-point address needs the station or shop number.",
            )
        )
    if problems:
        raise InvalidFields(problems)
    return Address(**cleaned)


def check_vat_id(text: str, *, field: str = "vat_id") -> str:
    """Check the format and check digits of an EU VAT ID (not whether it is registered)."""
    try:
        compact: str = vat.validate(text)
    except StdnumValidationError as error:
        raise InvalidInput(
            field,
            f"{text!r} is not a valid EU VAT ID ({str(error).lower().rstrip('.')})",
            hint="Write it with its country prefix, e.g. DE123456789.",
        ) from None
    return compact
