from __future__ import annotations

import pytest

from sellerbridge.core.errors import InvalidFields, InvalidInput
from sellerbridge.core.parties import (
    PII_FIELDS,
    Address,
    PickupPointType,
    check_vat_id,
    validated_address,
)


def test_addresses_are_trimmed_and_countries_normalised() -> None:
    address = validated_address(
        Address(
            name=" Zoë Brontë ",
            street1="1 High St",
            postal_code="SW1A 1AA",
            city="London",
            country="uk",
            street2="  ",
        )
    )
    assert address.name == "Zoë Brontë"
    assert address.country == "GB"
    assert address.street2 is None


def test_every_address_problem_is_listed() -> None:
    with pytest.raises(InvalidFields) as raised:
        validated_address(
            Address(
                name="",
                street1="Packstation 5",
                postal_code="80331",
                city="",
                country="Germany",
                email="nope",
                pickup_point_type=PickupPointType.PACKSTATION,
            ),
            field_prefix="shipping.",
        )
    assert [p.field for p in raised.value.problems] == [
        "shipping.name",
        "shipping.city",
        "shipping.country",
        "shipping.email",
        "shipping.pickup_point_id",
    ]


def test_vat_ids_are_checked_with_their_check_digits() -> None:
    assert check_vat_id("DE 136 695 976") == "DE136695976"
    with pytest.raises(InvalidInput, match="not a valid EU VAT ID"):
        check_vat_id("DE123456789")


def test_personal_fields_are_marked_and_tax_evidence_is_not() -> None:
    assert {"name", "street1", "email", "phone", "pickup_customer_number"} <= PII_FIELDS
    assert "country" not in PII_FIELDS
    assert "region" not in PII_FIELDS
