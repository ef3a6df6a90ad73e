"""All models, imported here so that the metadata Alembic compares against is complete."""

from sellerbridge.db.models.catalog import Article, BundleComponent, Warehouse
from sellerbridge.db.models.numbering import NumberSeries
from sellerbridge.db.models.orders import (
    OrderEvent,
    OrderHold,
    SalesChannel,
    SalesOrder,
    SalesOrderCharge,
    SalesOrderLine,
)
from sellerbridge.db.models.parties import AddressRecord, Customer
from sellerbridge.db.models.stock import StockLevelRecord, StockMovement, StockReservation

__all__ = [
    "AddressRecord",
    "Article",
    "BundleComponent",
    "Customer",
    "NumberSeries",
    "OrderEvent",
    "OrderHold",
    "SalesChannel",
    "SalesOrder",
    "SalesOrderCharge",
    "SalesOrderLine",
    "StockLevelRecord",
    "StockMovement",
    "StockReservation",
    "Warehouse",
]
