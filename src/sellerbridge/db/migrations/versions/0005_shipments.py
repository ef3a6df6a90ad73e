"""Shipments (packages with their lines and labels) and their confirmations to Amazon; whether
an account e-mails its FBA invoices; an order's service level.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 08:07:46.616085
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sellerbridge.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("service_level", sa.String(length=30), nullable=True))
    with op.batch_alter_table("amazon_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_fba_invoices", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=60), nullable=False),
        sa.Column("shipping_method", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("shipped_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("label", sa.LargeBinary(), nullable=True),
        sa.Column("label_format", sa.String(length=10), nullable=True),
        sa.Column("label_reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_orders.id"], name=op.f("fk_shipments_order_id_sales_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
    )
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_shipments_tracking_number"), ["tracking_number"], unique=False
        )

    op.create_table(
        "shipment_confirmations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("amazon_order_id", sa.String(length=30), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "verified",
                "failed",
                name="confirmationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("request_id", sa.String(length=80), nullable=True),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_shipment_confirmations_account_id_amazon_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_shipment_confirmations_shipment_id_shipments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_confirmations")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_shipment_confirmations_shipment_id")),
    )
    with op.batch_alter_table("shipment_confirmations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_shipment_confirmations_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_shipment_confirmations_status"), ["status"], unique=False
        )

    op.create_table(
        "shipment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["sales_order_lines.id"],
            name=op.f("fk_shipment_lines_order_line_id_sales_order_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_shipment_lines_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_lines")),
        sa.UniqueConstraint(
            "shipment_id", "order_line_id", name=op.f("uq_shipment_lines_shipment_id_order_line_id")
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("sales_orders", schema=None) as batch_op:
        batch_op.drop_column("service_level")
    with op.batch_alter_table("amazon_accounts", schema=None) as batch_op:
        batch_op.drop_column("mail_fba_invoices")
    op.drop_table("shipment_lines")
    with op.batch_alter_table("shipment_confirmations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipment_confirmations_status"))
        batch_op.drop_index(batch_op.f("ix_shipment_confirmations_account_id"))

    op.drop_table("shipment_confirmations")
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shipments_tracking_number"))
        batch_op.drop_index(batch_op.f("ix_shipments_order_id"))

    op.drop_table("shipments")
