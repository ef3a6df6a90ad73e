"""Articles, bundles and warehouses."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sellerbridge.core.tax import TaxClass
from sellerbridge.core.warehouses import WarehouseKind
from sellerbridge.db.base import Base, Timestamped


class Article(Timestamped, Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    gtin: Mapped[str | None] = mapped_column(String(14), index=True)
    tax_class: Mapped[TaxClass]
    weight_g: Mapped[int | None]
    stock_tracked: Mapped[bool]
    allow_backorder: Mapped[bool]

    components: Mapped[list[BundleComponent]] = relationship(
        foreign_keys="BundleComponent.bundle_id",
        cascade="all, delete-orphan",
        order_by="BundleComponent.component_id",
    )

    @property
    def is_bundle(self) -> bool:
        return bool(self.components)


class BundleComponent(Base):
    """One component of a bundle article, with the quantity one bundle contains."""

    __tablename__ = "bundle_components"
    __table_args__ = (CheckConstraint("quantity > 0", name="positive_quantity"),)

    bundle_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    component_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    quantity: Mapped[int]

    component: Mapped[Article] = relationship(foreign_keys=[component_id])


class Warehouse(Timestamped, Base):
    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[WarehouseKind]
    country: Mapped[str | None] = mapped_column(String(2))
    read_only: Mapped[bool] = mapped_column(default=False)
