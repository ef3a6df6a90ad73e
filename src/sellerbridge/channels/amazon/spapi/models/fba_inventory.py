"""FBA Inventory API v1: ``getInventorySummaries`` as sellerbridge reads it.

:class:`GetInventorySummariesResponse` and the models under it are Amazon's answer as it is
nested; :meth:`GetInventorySummariesResponse.page` gives what a caller reads, one flat
:class:`InventorySummary` per SKU. Amazon's model makes every count optional; a count missing
from the details Amazon sends is read as 0.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class InventorySummary(_Model):
    """The units of one FBA SKU in one marketplace.

    The figures after ``total_quantity`` come from Amazon's inventory details: they are
    ``None`` on a page read without them (``details=False``).
    """

    seller_sku: str
    asin: str | None
    fn_sku: str | None
    total_quantity: int
    """Every unit in Amazon's fulfilment centres or on the way there."""
    fulfillable_quantity: int | None
    """Units Amazon can ship to buyers now."""
    inbound: int | None
    """Units in inbound shipments: being worked on, shipped, and being received."""
    reserved_quantity: int | None
    """Units set aside: for buyers' orders, moving between fulfilment centres, or being
    processed there."""
    unfulfillable_quantity: int | None
    """Damaged, defective or expired units."""
    researching: int | None
    """Units Amazon is investigating, e.g. misplaced in a fulfilment centre."""
    last_updated_time: AwareDatetime | None = None


class InventoryPage(_Model):
    summaries: tuple[InventorySummary, ...]
    next_token: str | None = None
    """The next page's token; it expires 30 seconds after Amazon issued it."""


# --- Amazon's answer ---------------------------------------------------------------------------


class ReservedQuantity(_Model):
    total_reserved_quantity: int = Field(default=0, alias="totalReservedQuantity")


class ResearchingQuantity(_Model):
    total_researching_quantity: int = Field(default=0, alias="totalResearchingQuantity")


class UnfulfillableQuantity(_Model):
    total_unfulfillable_quantity: int = Field(default=0, alias="totalUnfulfillableQuantity")


class InventoryDetails(_Model):
    fulfillable_quantity: int = Field(default=0, alias="fulfillableQuantity")
    inbound_working_quantity: int = Field(default=0, alias="inboundWorkingQuantity")
    inbound_shipped_quantity: int = Field(default=0, alias="inboundShippedQuantity")
    inbound_receiving_quantity: int = Field(default=0, alias="inboundReceivingQuantity")
    reserved_quantity: ReservedQuantity = Field(
        default_factory=ReservedQuantity, alias="reservedQuantity"
    )
    researching_quantity: ResearchingQuantity = Field(
        default_factory=ResearchingQuantity, alias="researchingQuantity"
    )
    unfulfillable_quantity: UnfulfillableQuantity = Field(
        default_factory=UnfulfillableQuantity, alias="unfulfillableQuantity"
    )


class AmazonInventorySummary(_Model):
    seller_sku: str = Field(alias="sellerSku")
    asin: str | None = None
    fn_sku: str | None = Field(default=None, alias="fnSku")
    total_quantity: int = Field(alias="totalQuantity")
    last_updated_time: AwareDatetime | None = Field(default=None, alias="lastUpdatedTime")
    inventory_details: InventoryDetails | None = Field(default=None, alias="inventoryDetails")

    def summary(self) -> InventorySummary:
        details = self.inventory_details

        def figure(read: Callable[[InventoryDetails], int]) -> int | None:
            return None if details is None else read(details)

        return InventorySummary(
            seller_sku=self.seller_sku,
            asin=self.asin,
            fn_sku=self.fn_sku,
            total_quantity=self.total_quantity,
            fulfillable_quantity=figure(lambda d: d.fulfillable_quantity),
            inbound=figure(
                lambda d: (
                    d.inbound_working_quantity
                    + d.inbound_shipped_quantity
                    + d.inbound_receiving_quantity
                )
            ),
            reserved_quantity=figure(lambda d: d.reserved_quantity.total_reserved_quantity),
            unfulfillable_quantity=figure(
                lambda d: d.unfulfillable_quantity.total_unfulfillable_quantity
            ),
            researching=figure(lambda d: d.researching_quantity.total_researching_quantity),
            last_updated_time=self.last_updated_time,
        )


class GetInventorySummariesResult(_Model):
    inventory_summaries: tuple[AmazonInventorySummary, ...] = Field(alias="inventorySummaries")


class Pagination(_Model):
    next_token: str | None = Field(default=None, alias="nextToken")


class GetInventorySummariesResponse(_Model):
    payload: GetInventorySummariesResult
    """Optional in Amazon's model, but a successful answer without it has nothing to read."""
    pagination: Pagination | None = None

    def page(self) -> InventoryPage:
        return InventoryPage(
            summaries=tuple(item.summary() for item in self.payload.inventory_summaries),
            next_token=None if self.pagination is None else self.pagination.next_token,
        )
