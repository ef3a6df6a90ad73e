"""Setting up a workspace: the schema, the main warehouse, the manual channel, number series."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from sellerbridge.core.channels import ChannelKind
from sellerbridge.core.numbering import SeriesFormat
from sellerbridge.core.parties import check_country
from sellerbridge.core.warehouses import WarehouseKind
from sellerbridge.db.models import NumberSeries, SalesChannel, Warehouse
from sellerbridge.db.uow import UnitOfWork

MAIN_WAREHOUSE = "MAIN"


@dataclass(frozen=True)
class Series:
    document_type: str
    series: str
    format: SeriesFormat


STANDARD_SERIES = (
    Series("sales_order", "manual", SeriesFormat("SO-", 6)),
    Series("customer", "default", SeriesFormat("C-", 6)),
    # Documents, per channel's document series (migration 0004 adds these to older workspaces).
    Series("invoice", "default", SeriesFormat("RE-", 6)),
    Series("correction", "default", SeriesFormat("RK-", 6)),
    Series("delivery_note", "default", SeriesFormat("LS-", 6)),
)


def initialise(uow: UnitOfWork, *, home_country: str) -> list[str]:
    """Create what a new workspace needs; safe to run again. Returns what was created."""
    country = check_country(home_country, field="home_country")
    created: list[str] = []
    with uow:
        session = uow.session
        warehouse = session.scalars(
            select(Warehouse).where(Warehouse.code == MAIN_WAREHOUSE)
        ).first()
        if warehouse is None:
            warehouse = Warehouse(
                code=MAIN_WAREHOUSE, name="Main warehouse", kind=WarehouseKind.OWN, country=country
            )
            session.add(warehouse)
            created.append(f"warehouse {MAIN_WAREHOUSE}")
        if (
            session.scalars(select(SalesChannel).where(SalesChannel.code == "manual")).first()
            is None
        ):
            session.add(
                SalesChannel(
                    code="manual",
                    name="Manual orders",
                    kind=ChannelKind.MANUAL,
                    warehouse=warehouse,
                    order_series="manual",
                )
            )
            created.append("sales channel manual")
        for series in STANDARD_SERIES:
            exists = session.scalars(
                select(NumberSeries).where(
                    NumberSeries.document_type == series.document_type,
                    NumberSeries.series == series.series,
                )
            ).first()
            if exists is None:
                session.add(
                    NumberSeries(
                        document_type=series.document_type,
                        series=series.series,
                        prefix=series.format.prefix,
                        width=series.format.width,
                        next_value=1,
                    )
                )
                created.append(f"number series {series.document_type}/{series.series}")
        uow.commit()
    return created
