"""All models, imported here so that the metadata Alembic compares against is complete."""

from sellerbridge.db.models.alerts import Alert, Severity
from sellerbridge.db.models.amazon import (
    AmazonAccount,
    AmazonChannel,
    AmazonCustomerBinding,
    AmazonFbaInventory,
    AmazonMarketplace,
    AmazonOffer,
    AmazonOrderBinding,
    AmazonOrderFailure,
    AmazonSkuBinding,
    AmazonStockSubmission,
    Fulfillment,
    ImportCursor,
    ImportMode,
    OfferResult,
    RateLimitBucket,
    SpApiCall,
    SubmissionStatus,
)
from sellerbridge.db.models.catalog import Article, BundleComponent, Warehouse
from sellerbridge.db.models.documents import (
    Document,
    DocumentLineRecord,
    DocumentMail,
    DocumentMailAttempt,
    MailStatus,
)
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
from sellerbridge.db.models.shipping import (
    ConfirmationStatus,
    Shipment,
    ShipmentConfirmation,
    ShipmentLine,
)
from sellerbridge.db.models.stock import StockLevelRecord, StockMovement, StockReservation

__all__ = [
    "AddressRecord",
    "Alert",
    "AmazonAccount",
    "AmazonChannel",
    "AmazonCustomerBinding",
    "AmazonFbaInventory",
    "AmazonMarketplace",
    "AmazonOffer",
    "AmazonOrderBinding",
    "AmazonOrderFailure",
    "AmazonSkuBinding",
    "AmazonStockSubmission",
    "Article",
    "BundleComponent",
    "ConfirmationStatus",
    "Customer",
    "Document",
    "DocumentLineRecord",
    "DocumentMail",
    "DocumentMailAttempt",
    "Fulfillment",
    "ImportCursor",
    "ImportMode",
    "MailStatus",
    "NumberSeries",
    "OfferResult",
    "OrderEvent",
    "OrderHold",
    "RateLimitBucket",
    "SalesChannel",
    "SalesOrder",
    "SalesOrderCharge",
    "SalesOrderLine",
    "Severity",
    "Shipment",
    "ShipmentConfirmation",
    "ShipmentLine",
    "SpApiCall",
    "StockLevelRecord",
    "StockMovement",
    "StockReservation",
    "SubmissionStatus",
    "Warehouse",
]
