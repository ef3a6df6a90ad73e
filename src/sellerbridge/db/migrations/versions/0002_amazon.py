"""Amazon connection and order import: accounts, marketplaces, channel mapping, bindings,
import cursors, the SP-API call log, shared rate-limit buckets, alerts; order lines get the
channel's line id, channels say whether they ship their orders themselves (FBA).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 04:55:46.767160
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sellerbridge.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column(
            "severity",
            sa.Enum("info", "warning", "error", name="severity", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("resolved_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_created_at"), ["created_at"], unique=False)

    op.create_table(
        "amazon_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("lwa_client_id", sa.String(length=200), nullable=False),
        sa.Column("lwa_client_secret_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=False),
        sa.Column("api_endpoint", sa.String(length=200), nullable=True),
        sa.Column("lwa_endpoint", sa.String(length=200), nullable=True),
        sa.Column(
            "import_mode",
            sa.Enum("demo", "manual", "automatic", name="importmode", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("import_fbm", sa.Boolean(), nullable=False),
        sa.Column("import_fba", sa.Boolean(), nullable=False),
        sa.Column("start_date", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_amazon_accounts_name")),
        sa.UniqueConstraint(
            "region", "seller_id", name=op.f("uq_amazon_accounts_region_seller_id")
        ),
    )
    op.create_table(
        "spapi_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seller_id", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=80), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=80), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spapi_calls")),
    )
    with op.batch_alter_table("spapi_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spapi_calls_at"), ["at"], unique=False)
        batch_op.create_index("ix_spapi_calls_operation_at", ["operation", "at"], unique=False)

    op.create_table(
        "spapi_rate_buckets",
        sa.Column("partner", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=80), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("burst", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("partner", "operation", name=op.f("pk_spapi_rate_buckets")),
    )
    op.create_table(
        "amazon_import_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("watermark", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_after", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_before", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pagination_token", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_import_cursors_account_id_amazon_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_import_cursors")),
        sa.UniqueConstraint(
            "account_id", "stream", name=op.f("uq_amazon_import_cursors_account_id_stream")
        ),
    )
    op.create_table(
        "amazon_marketplaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("participating", sa.Boolean(), nullable=False),
        sa.Column("import_enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_marketplaces_account_id_amazon_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_marketplaces")),
        sa.UniqueConstraint(
            "account_id",
            "marketplace_id",
            name=op.f("uq_amazon_marketplaces_account_id_marketplace_id"),
        ),
    )
    op.create_table(
        "amazon_sku_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("seller_sku", sa.String(length=40), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_sku_bindings_account_id_amazon_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_amazon_sku_bindings_article_id_articles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_sku_bindings")),
        sa.UniqueConstraint(
            "account_id", "seller_sku", name=op.f("uq_amazon_sku_bindings_account_id_seller_sku")
        ),
    )
    op.create_table(
        "amazon_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column(
            "fulfillment",
            sa.Enum("FBM", "FBA", name="fulfillment", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_channels_account_id_amazon_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["sales_channels.id"],
            name=op.f("fk_amazon_channels_channel_id_sales_channels"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_channels")),
        sa.UniqueConstraint(
            "account_id",
            "marketplace_id",
            "fulfillment",
            name=op.f("uq_amazon_channels_account_id_marketplace_id_fulfillment"),
        ),
        sa.UniqueConstraint("channel_id", name=op.f("uq_amazon_channels_channel_id")),
    )
    op.create_table(
        "amazon_customer_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("buyer_key", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_customer_bindings_account_id_amazon_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_amazon_customer_bindings_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_customer_bindings")),
        sa.UniqueConstraint(
            "account_id", "buyer_key", name=op.f("uq_amazon_customer_bindings_account_id_buyer_key")
        ),
    )
    op.create_table(
        "amazon_order_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("amazon_order_id", sa.String(length=30), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("amazon_status", sa.String(length=30), nullable=False),
        sa.Column(
            "fulfillment",
            sa.Enum("FBM", "FBA", name="fulfillment", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "last_updated_time", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "first_seen_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_order_bindings_account_id_amazon_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_amazon_order_bindings_order_id_sales_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_order_bindings")),
        sa.UniqueConstraint(
            "account_id",
            "marketplace_id",
            "amazon_order_id",
            name=op.f("uq_amazon_order_bindings_account_id_marketplace_id_amazon_order_id"),
        ),
        sa.UniqueConstraint("order_id", name=op.f("uq_amazon_order_bindings_order_id")),
    )
    with op.batch_alter_table("amazon_order_bindings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_amazon_order_bindings_amazon_status"), ["amazon_status"], unique=False
        )

    with op.batch_alter_table("sales_channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "fulfilled_externally", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )

    with op.batch_alter_table("sales_order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_reference", sa.String(length=40), nullable=True))

    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sales_orders_external_reference"), ["external_reference"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_orders_external_reference"))

    with op.batch_alter_table("sales_order_lines", schema=None) as batch_op:
        batch_op.drop_column("external_reference")

    with op.batch_alter_table("sales_channels", schema=None) as batch_op:
        batch_op.drop_column("fulfilled_externally")

    with op.batch_alter_table("amazon_order_bindings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_amazon_order_bindings_amazon_status"))

    op.drop_table("amazon_order_bindings")
    op.drop_table("amazon_customer_bindings")
    op.drop_table("amazon_channels")
    op.drop_table("amazon_sku_bindings")
    op.drop_table("amazon_marketplaces")
    op.drop_table("amazon_import_cursors")
    op.drop_table("spapi_rate_buckets")
    with op.batch_alter_table("spapi_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_spapi_calls_operation_at")
        batch_op.drop_index(batch_op.f("ix_spapi_calls_at"))

    op.drop_table("spapi_calls")
    op.drop_table("amazon_accounts")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_created_at"))

    op.drop_table("alerts")
