"""The Amazon channel's records: accounts, marketplaces, bindings, cursors, call log, buckets.

Bindings link a core record to its Amazon identity with a unique constraint, so that two
importers (two worker processes, a crash and its retry) can never create the same order twice:
the database refuses the second, not the hope that nobody raced.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sellerbridge.core.clock import utcnow
from sellerbridge.db.base import Base, Timestamped
from sellerbridge.db.models.catalog import Article
from sellerbridge.db.models.orders import SalesChannel, SalesOrder
from sellerbridge.db.models.parties import Customer
from sellerbridge.db.types import ExactDecimal


class ImportMode(StrEnum):
    DEMO = "demo"  # read only: nothing is ever written to Amazon
    MANUAL = "manual"  # imports when the operator says so
    AUTOMATIC = "automatic"  # the periodic task imports too


class Fulfillment(StrEnum):
    FBM = "FBM"  # the merchant ships ("MERCHANT" in the Orders API)
    FBA = "FBA"  # Amazon ships ("AMAZON")


class InvoiceMode(StrEnum):
    """Who invoices an account's orders of one fulfilment channel, and how Amazon gets it."""

    NONE = "none"  # invoices are the merchant's business; nothing goes to Amazon
    UPLOAD = "upload"  # own invoices, uploaded (UPLOAD_VAT_INVOICE)
    VCS_OWN = "vcs_own"  # VCS: Amazon calculates the VAT, own invoices from its data, uploaded
    VCS_AMAZON = "vcs_amazon"  # VCS: Amazon issues the invoices; none of our own


class AmazonAccount(Timestamped, Base):
    """A seller account the merchant connected, with its (encrypted) LWA credentials."""

    __tablename__ = "amazon_accounts"
    __table_args__ = (UniqueConstraint("region", "seller_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    region: Mapped[str] = mapped_column(String(2))
    seller_id: Mapped[str] = mapped_column(String(40))
    lwa_client_id: Mapped[str] = mapped_column(String(200))
    lwa_client_secret_encrypted: Mapped[str] = mapped_column(Text)
    refresh_token_encrypted: Mapped[str] = mapped_column(Text)
    api_endpoint: Mapped[str | None] = mapped_column(String(200))
    """SP-API base URL when not Amazon's host for the region (the sandbox)."""
    lwa_endpoint: Mapped[str | None] = mapped_column(String(200))
    import_mode: Mapped[ImportMode] = mapped_column(default=ImportMode.MANUAL)
    import_fbm: Mapped[bool] = mapped_column(default=True)
    import_fba: Mapped[bool] = mapped_column(default=True)
    mail_fba_invoices: Mapped[bool] = mapped_column(default=False)
    invoice_mode_fbm: Mapped[InvoiceMode] = mapped_column(default=InvoiceMode.NONE)
    invoice_mode_fba: Mapped[InvoiceMode] = mapped_column(default=InvoiceMode.NONE)
    invoice_upload_from: Mapped[datetime | None]
    """Documents issued from then on are uploaded (a start date for retroactive uploads)."""
    stock_sync: Mapped[bool] = mapped_column(default=False)
    """Whether the periodic task keeps Amazon's FBM quantities in step with the stock."""
    offers_reconciled_at: Mapped[datetime | None]
    """The last full stock reconcile with Amazon's listings (None: never; the first push does
    one, so that no quantity goes out before Amazon has said which SKUs it fulfils)."""
    fba_inventory_at: Mapped[datetime | None]
    """The last FBA inventory import."""
    """E-mail the invoice of each FBA order to its buyer (Amazon's relay address)."""
    start_date: Mapped[datetime]
    """Orders created before this are not imported."""
    active: Mapped[bool] = mapped_column(default=True)

    marketplaces: Mapped[list[AmazonMarketplace]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="AmazonMarketplace.id"
    )


class AmazonMarketplace(Base):
    """A marketplace the seller takes part in, and whether its orders are imported."""

    __tablename__ = "amazon_marketplaces"
    __table_args__ = (UniqueConstraint("account_id", "marketplace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    country_code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(60))
    currency: Mapped[str] = mapped_column(String(3))
    participating: Mapped[bool]
    import_enabled: Mapped[bool] = mapped_column(default=True)

    account: Mapped[AmazonAccount] = relationship(back_populates="marketplaces")


class AmazonChannel(Base):
    """Which ERP sales channel (warehouse, number series) a marketplace's FBM or FBA orders use:
    the equivalent of Xentral's ``de_FBM`` / ``it_FBA`` projects."""

    __tablename__ = "amazon_channels"
    __table_args__ = (UniqueConstraint("account_id", "marketplace_id", "fulfillment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    fulfillment: Mapped[Fulfillment]
    channel_id: Mapped[int] = mapped_column(ForeignKey("sales_channels.id"), unique=True)

    channel: Mapped[SalesChannel] = relationship()


class AmazonOrderBinding(Base):
    """An Amazon order and the ERP order it became; unique per account and marketplace."""

    __tablename__ = "amazon_order_bindings"
    __table_args__ = (UniqueConstraint("account_id", "marketplace_id", "amazon_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    amazon_order_id: Mapped[str] = mapped_column(String(30))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id"), unique=True)
    amazon_status: Mapped[str] = mapped_column(String(30), index=True)
    fulfillment: Mapped[Fulfillment]
    last_updated_time: Mapped[datetime]
    """Amazon's lastUpdatedTime of the version applied: older versions are skipped."""
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    order: Mapped[SalesOrder] = relationship()


class AmazonOrderFailure(Base):
    """An Amazon order the import could not store: tried again on every import until it is."""

    __tablename__ = "amazon_order_failures"
    __table_args__ = (UniqueConstraint("account_id", "marketplace_id", "amazon_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    amazon_order_id: Mapped[str] = mapped_column(String(30))
    error: Mapped[str] = mapped_column(String(500))
    """What went wrong, without personal data."""
    attempts: Mapped[int] = mapped_column(default=1)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)


class AmazonSkuBinding(Timestamped, Base):
    """Which article a seller SKU sells (without one, an article numbered like the SKU)."""

    __tablename__ = "amazon_sku_bindings"
    __table_args__ = (UniqueConstraint("account_id", "seller_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    seller_sku: Mapped[str] = mapped_column(String(40))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    # How much of the free stock the SKU offers (core.offers.OfferRule) and its handling time.
    stock_buffer: Mapped[int] = mapped_column(default=0)
    stock_buffer_percent: Mapped[Decimal] = mapped_column(ExactDecimal(), default=Decimal(0))
    stock_zero_below: Mapped[int] = mapped_column(default=0)
    stock_minimum: Mapped[int] = mapped_column(default=0)
    stock_maximum: Mapped[int | None]
    handling_days: Mapped[int | None]
    """Days from order to shipment (Amazon's lead_time_to_ship_max_days); None: Amazon's."""

    article: Mapped[Article] = relationship()


class OfferResult(StrEnum):
    PENDING = "pending"  # sent; Amazon's answer is not read yet
    ACCEPTED = "accepted"
    FAILED = "failed"  # Amazon refused it: ``error`` says why


class AmazonOffer(Base):
    """A SKU on one marketplace, the quantity Amazon last acknowledged for it, and what was
    sent since. FBA offers are recorded (Amazon fulfils them) and never sent a quantity.

    ``stock_version`` is raised by a database trigger whenever the stock level of its article
    (or of a component of it) changes, in the same transaction; the exporter looks at offers
    whose version moved past ``checked_version``, so a change is never lost between reading
    the stock and recording what was sent.
    """

    __tablename__ = "amazon_offers"
    __table_args__ = (
        UniqueConstraint("account_id", "seller_sku", "marketplace_id"),
        Index("ix_amazon_offers_due", "account_id", "fulfillment", "stock_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    seller_sku: Mapped[str] = mapped_column(String(40))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    fulfillment: Mapped[Fulfillment] = mapped_column(default=Fulfillment.FBM)
    listed: Mapped[bool | None]
    """Whether Amazon's listings report shows the SKU on the marketplace (None: not asked)."""
    amazon_quantity: Mapped[int | None]
    """The quantity Amazon's last listings report showed."""
    stock_version: Mapped[int] = mapped_column(default=0)
    checked_version: Mapped[int] = mapped_column(default=-1)
    sent_quantity: Mapped[int | None]
    """The quantity Amazon last acknowledged (None: none yet)."""
    sent_at: Mapped[datetime | None]
    pending_quantity: Mapped[int | None]
    pending_version: Mapped[int | None]
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("amazon_stock_submissions.id"))
    result: Mapped[OfferResult | None]
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SubmissionStatus(StrEnum):
    PREPARED = "prepared"  # written, not sent yet (or its sending was interrupted)
    SUBMITTED = "submitted"  # Amazon has the feed; its report is not read yet
    DONE = "done"  # every message's result is recorded
    FAILED = "failed"  # the feed ended FATAL or could not be sent: its offers go again


class AmazonStockSubmission(Base):
    """A ``JSON_LISTINGS_FEED`` of quantities sent to Amazon. Its messages are its offers'
    SKUs in SKU order (``messageId`` 1, 2, ...), so its processing report maps back to them."""

    __tablename__ = "amazon_stock_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(index=True)
    marketplace_ids: Mapped[str] = mapped_column(String(300))
    """Comma-separated: the marketplaces every message of it applies to."""
    messages: Mapped[int]
    feed_id: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class UploadStatus(StrEnum):
    PENDING = "pending"  # due to be sent
    SENDING = "sending"  # claimed by a run; if that run died, whether Amazon has it is unknown
    SUBMITTED = "submitted"  # Amazon has the feed; its result is not read yet
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # Amazon's reason in ``reason``; `retry` after the cause is fixed
    UNKNOWN = "unknown"  # the feed may or may not have reached Amazon: never sent again by itself


class AmazonInvoiceUpload(Base):
    """An invoice or correction invoice uploaded to Amazon (``UPLOAD_VAT_INVOICE``), once."""

    __tablename__ = "amazon_invoice_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    marketplace_id: Mapped[str] = mapped_column(String(20))
    amazon_order_id: Mapped[str] = mapped_column(String(30))
    document_type: Mapped[str] = mapped_column(String(20))
    """``Invoice`` or ``CreditNote``."""
    transaction_id: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[UploadStatus] = mapped_column(index=True)
    feed_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class AmazonVatRow(Base):
    """One row of Amazon's VAT invoice data report: Amazon's VAT calculation of one order item
    in one shipment or refund (``transaction_id``), kept so that a row is worked on once.

    ``row_hash`` identifies Amazon's figures: a row seen again with the same hash is nothing
    new; one whose figures changed replaces them while no document was made from it.
    ``document_id`` is the invoice issued from it (VCS with own invoices).
    """

    __tablename__ = "amazon_vat_rows"
    __table_args__ = (UniqueConstraint("account_id", "transaction_id", "order_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    marketplace_id: Mapped[str] = mapped_column(String(20))
    amazon_order_id: Mapped[str] = mapped_column(String(30), index=True)
    transaction_type: Mapped[str] = mapped_column(String(20))
    """``SHIPMENT`` or ``REFUND``."""
    transaction_id: Mapped[str] = mapped_column(String(80))
    shipping_id: Mapped[str] = mapped_column(String(60))
    order_item_id: Mapped[str] = mapped_column(String(40))
    row_hash: Mapped[str] = mapped_column(String(64))
    values: Mapped[str] = mapped_column(Text)
    """The row's columns as JSON."""
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"))
    seen_at: Mapped[datetime]


class RefundStatus(StrEnum):
    WAITING = "waiting"  # not corrected yet: ``reason`` says why (tried again every run)
    CORRECTED = "corrected"  # its correction invoice is issued
    AMAZON = "amazon"  # Amazon invoices the order (VCS with Amazon issuing): nothing to do
    DISMISSED = "dismissed"  # a person took care of it (e.g. corrected the invoice by hand)


class AmazonRefund(Base):
    """A refund Amazon paid to a buyer (a refund event of the Finances API), once.

    ``refund_key`` identifies the event (its order and adjustment item ids); ``items`` holds
    what was refunded per order item as JSON. ``transaction_id`` is Amazon's id of the refund
    transaction, from the VAT invoice data report, which a credit note's upload names.
    """

    __tablename__ = "amazon_refunds"
    __table_args__ = (UniqueConstraint("account_id", "refund_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    amazon_order_id: Mapped[str] = mapped_column(String(30), index=True)
    refund_key: Mapped[str] = mapped_column(String(64))
    posted_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    total_gross: Mapped[Decimal] = mapped_column(ExactDecimal())
    """What the buyer got back, VAT included (positive)."""
    total_tax: Mapped[Decimal] = mapped_column(ExactDecimal())
    items: Mapped[str] = mapped_column(Text)
    status: Mapped[RefundStatus] = mapped_column(index=True)
    reason: Mapped[str | None] = mapped_column(String(500))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), unique=True)
    """The correction invoice."""
    transaction_id: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AmazonFbaInventory(Base):
    """Amazon's FBA inventory of a SKU, as ``getInventorySummaries`` last gave it."""

    __tablename__ = "amazon_fba_inventory"
    __table_args__ = (UniqueConstraint("account_id", "seller_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    seller_sku: Mapped[str] = mapped_column(String(40))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    fulfillable: Mapped[int]
    inbound: Mapped[int]
    reserved: Mapped[int]
    unfulfillable: Mapped[int]
    researching: Mapped[int]
    updated_at: Mapped[datetime]


class AmazonCustomerBinding(Base):
    """The ERP customer an Amazon buyer became (keyed by a hash, never by the e-mail itself)."""

    __tablename__ = "amazon_customer_bindings"
    __table_args__ = (UniqueConstraint("account_id", "buyer_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    buyer_key: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))

    customer: Mapped[Customer] = relationship()


class ImportCursor(Base):
    """Where an import stands, saved after every page so a crash resumes instead of restarting.

    ``watermark`` is the ``lastUpdatedAfter`` of the next window. While a window is open,
    ``window_after``/``window_before`` hold its bounds and ``pagination_token`` the next page.
    """

    __tablename__ = "amazon_import_cursors"
    __table_args__ = (UniqueConstraint("account_id", "stream"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("amazon_accounts.id"))
    stream: Mapped[str] = mapped_column(String(60))
    watermark: Mapped[datetime]
    window_after: Mapped[datetime | None]
    window_before: Mapped[datetime | None]
    pagination_token: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SpApiCall(Base):
    """One SP-API call as it went: never a token, a body or personal data."""

    __tablename__ = "spapi_calls"
    __table_args__ = (Index("ix_spapi_calls_operation_at", "operation", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    seller_id: Mapped[str] = mapped_column(String(40))
    operation: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    status: Mapped[int | None]
    request_id: Mapped[str | None] = mapped_column(String(80))
    duration_ms: Mapped[float] = mapped_column(Float)
    attempt: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(500))


class RateLimitBucket(Base):
    """A usage-plan token bucket shared by every process of this installation."""

    __tablename__ = "spapi_rate_buckets"

    partner: Mapped[str] = mapped_column(String(40), primary_key=True)
    operation: Mapped[str] = mapped_column(String(80), primary_key=True)
    rate: Mapped[float] = mapped_column(Float)
    burst: Mapped[int]
    tokens: Mapped[float] = mapped_column(Float)
    updated: Mapped[float] = mapped_column(Float)
    """Seconds since the epoch of the last refill (wall clock: buckets outlive processes)."""
