"""ERP core: articles, warehouses, stock, customers, orders, number series

The stock ledger is append-only: triggers refuse UPDATE and DELETE on ``stock_movements`` on
both engines, so a correction is always a new movement.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 03:32:11.767489
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sellerbridge.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("company", sa.String(length=255), nullable=True),
        sa.Column("street1", sa.String(length=255), nullable=False),
        sa.Column("street2", sa.String(length=255), nullable=True),
        sa.Column("street3", sa.String(length=255), nullable=True),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column(
            "pickup_point_type",
            sa.Enum(
                "packstation",
                "post_office",
                "parcel_shop",
                "locker",
                name="pickuppointtype",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("pickup_point_id", sa.String(length=50), nullable=True),
        sa.Column("pickup_customer_number", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    op.create_table(
        "articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column(
            "tax_class",
            sa.Enum(
                "standard",
                "reduced",
                "super_reduced",
                "zero",
                name="taxclass",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("weight_g", sa.Integer(), nullable=True),
        sa.Column("stock_tracked", sa.Boolean(), nullable=False),
        sa.Column("allow_backorder", sa.Boolean(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("number", name=op.f("uq_articles_number")),
    )
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_articles_gtin"), ["gtin"], unique=False)

    op.create_table(
        "number_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_type", sa.String(length=40), nullable=False),
        sa.Column("series", sa.String(length=40), nullable=False),
        sa.Column("prefix", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("next_value", sa.Integer(), nullable=False),
        sa.CheckConstraint("next_value > 0", name=op.f("ck_number_series_positive_next_value")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_number_series")),
        sa.UniqueConstraint(
            "document_type", "series", name=op.f("uq_number_series_document_type_series")
        ),
    )
    op.create_table(
        "warehouses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("own", "fba", name="warehousekind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("code", name=op.f("uq_warehouses_code")),
    )
    op.create_table(
        "bundle_components",
        sa.Column("bundle_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_bundle_components_positive_quantity")),
        sa.ForeignKeyConstraint(
            ["bundle_id"], ["articles.id"], name=op.f("fk_bundle_components_bundle_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["articles.id"],
            name=op.f("fk_bundle_components_component_id_articles"),
        ),
        sa.PrimaryKeyConstraint("bundle_id", "component_id", name=op.f("pk_bundle_components")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("vat_id", sa.String(length=20), nullable=True),
        sa.Column("address_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["address_id"], ["addresses.id"], name=op.f("fk_customers_address_id_addresses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("number", name=op.f("uq_customers_number")),
    )
    op.create_table(
        "sales_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("manual", "amazon", name="channelkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("order_series", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_sales_channels_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_channels")),
        sa.UniqueConstraint("code", name=op.f("uq_sales_channels_code")),
    )
    op.create_table(
        "stock_levels",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_levels_on_hand_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_levels_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_stock_levels_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_levels_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("article_id", "warehouse_id", name=op.f("pk_stock_levels")),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "receipt",
                "adjustment",
                "shipment",
                "return",
                "transfer",
                name="movementkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.CheckConstraint("quantity <> 0", name=op.f("ck_stock_movements_nonzero_quantity")),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_stock_movements_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_movements_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_movements_article_warehouse", ["article_id", "warehouse_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stock_movements_reference"), ["reference"], unique=False
        )

    op.create_table(
        "sales_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("external_reference", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("billing_address_id", sa.Integer(), nullable=False),
        sa.Column("shipping_address_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "on_hold",
                "open",
                "released",
                "partially_shipped",
                "shipped",
                "completed",
                "cancelled",
                name="orderstate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("ordered_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ship_by", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deliver_by", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("total_net", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("total_tax", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("total_gross", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["billing_address_id"],
            ["addresses.id"],
            name=op.f("fk_sales_orders_billing_address_id_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["sales_channels.id"],
            name=op.f("fk_sales_orders_channel_id_sales_channels"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_sales_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["shipping_address_id"],
            ["addresses.id"],
            name=op.f("fk_sales_orders_shipping_address_id_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_sales_orders_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_orders")),
        sa.UniqueConstraint(
            "channel_id",
            "external_reference",
            name=op.f("uq_sales_orders_channel_id_external_reference"),
        ),
        sa.UniqueConstraint("number", name=op.f("uq_sales_orders_number")),
    )
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sales_orders_state"), ["state"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_orders.id"], name=op.f("fk_order_events_order_id_sales_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)

    op.create_table(
        "order_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("resolved_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_orders.id"], name=op.f("fk_order_holds_order_id_sales_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_holds")),
    )
    with op.batch_alter_table("order_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_holds_order_id"), ["order_id"], unique=False)

    op.create_table(
        "sales_order_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "shipping",
                "gift_wrap",
                "cod",
                "other",
                name="chargekind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("tax_rate", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("net", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("tax", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("gross", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_sales_order_charges_order_id_sales_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_charges")),
    )
    op.create_table(
        "sales_order_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("article_number", sa.String(length=40), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("shipped_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_net", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column(
            "unit_price_gross", sellerbridge.db.types.ExactDecimal(length=40), nullable=False
        ),
        sa.Column("tax_rate", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("discount", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("net", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("tax", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("gross", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_sales_order_lines_positive_quantity")),
        sa.CheckConstraint(
            "shipped_quantity >= 0 AND shipped_quantity <= quantity",
            name=op.f("ck_sales_order_lines_shipped_within_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_sales_order_lines_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_sales_order_lines_order_id_sales_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order_lines")),
        sa.UniqueConstraint(
            "order_id", "position", name=op.f("uq_sales_order_lines_order_id_position")
        ),
    )
    op.create_table(
        "stock_reservations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=False),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reserved >= 0 AND reserved <= wanted",
            name=op.f("ck_stock_reservations_reserved_within_wanted"),
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_stock_reservations_article_id_articles")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["sales_order_lines.id"],
            name=op.f("fk_stock_reservations_order_line_id_sales_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_reservations_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_reservations")),
        sa.UniqueConstraint(
            "order_line_id",
            "article_id",
            name=op.f("uq_stock_reservations_order_line_id_article_id"),
        ),
    )
    with op.batch_alter_table("stock_reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_reservations_article_warehouse", ["article_id", "warehouse_id"], unique=False
        )

    _create_append_only_triggers()


APPEND_ONLY_MESSAGE = "stock movements are append-only; book a correcting movement instead"


def _create_append_only_triggers() -> None:
    if op.get_context().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER stock_movements_no_{action.lower()} BEFORE {action} "
                f"ON stock_movements BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER stock_movements_append_only BEFORE UPDATE OR DELETE ON stock_movements "
        "FOR EACH ROW EXECUTE FUNCTION stock_movements_append_only()"
    )


def _drop_append_only_triggers() -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS stock_movements_no_update")
        op.execute("DROP TRIGGER IF EXISTS stock_movements_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS stock_movements_append_only ON stock_movements")
    op.execute("DROP FUNCTION IF EXISTS stock_movements_append_only()")


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table("stock_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_reservations_article_warehouse")

    op.drop_table("stock_reservations")
    op.drop_table("sales_order_lines")
    op.drop_table("sales_order_charges")
    with op.batch_alter_table("order_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_holds_order_id"))

    op.drop_table("order_holds")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_order_id"))

    op.drop_table("order_events")
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sales_orders_state"))

    op.drop_table("sales_orders")
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_movements_reference"))
        batch_op.drop_index("ix_stock_movements_article_warehouse")

    op.drop_table("stock_movements")
    op.drop_table("stock_levels")
    op.drop_table("sales_channels")
    op.drop_table("customers")
    op.drop_table("bundle_components")
    op.drop_table("warehouses")
    op.drop_table("number_series")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_gtin"))

    op.drop_table("articles")
    op.drop_table("addresses")
