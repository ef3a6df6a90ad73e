"""Customers and addresses. Columns holding personal data carry ``info={"pii": True}``."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column, relationship

from sellerbridge.core.parties import FIELD_LENGTHS, PII_FIELDS, Address, PickupPointType
from sellerbridge.db.base import Base, Timestamped


def _text(field: str) -> MappedColumn[str]:
    return mapped_column(String(FIELD_LENGTHS[field]), info={"pii": field in PII_FIELDS})


def _optional_text(field: str) -> MappedColumn[str | None]:
    return mapped_column(
        String(FIELD_LENGTHS[field]), nullable=True, info={"pii": field in PII_FIELDS}
    )


class AddressRecord(Base):
    """A postal address. Orders keep their own copies, so later edits never change history."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = _text("name")
    company: Mapped[str | None] = _optional_text("company")
    street1: Mapped[str] = _text("street1")
    street2: Mapped[str | None] = _optional_text("street2")
    street3: Mapped[str | None] = _optional_text("street3")
    postal_code: Mapped[str] = _text("postal_code")
    city: Mapped[str] = _text("city")
    region: Mapped[str | None] = _optional_text("region")
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = _optional_text("phone")
    email: Mapped[str | None] = _optional_text("email")
    pickup_point_type: Mapped[PickupPointType | None]
    pickup_point_id: Mapped[str | None] = _optional_text("pickup_point_id")
    pickup_customer_number: Mapped[str | None] = _optional_text("pickup_customer_number")

    @classmethod
    def of(cls, address: Address) -> AddressRecord:
        return cls(**{name: getattr(address, name) for name in Address.__dataclass_fields__})

    def to_address(self) -> Address:
        return Address(**{name: getattr(self, name) for name in Address.__dataclass_fields__})


class Customer(Timestamped, Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    vat_id: Mapped[str | None] = mapped_column(String(20))
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))

    address: Mapped[AddressRecord] = relationship()
