"""Invoices Amazon issued in the seller's name (VCS with Amazon issuing), recorded for the books:
one row per Amazon invoice or credit note, its number unique per account.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 13:12:04.118305
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sellerbridge.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "amazon_vat_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("amazon_order_id", sa.String(length=30), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.String(length=60), nullable=False),
        sa.Column("transaction_type", sa.String(length=20), nullable=False),
        sa.Column("transaction_id", sa.String(length=80), nullable=False),
        sa.Column("invoice_number", sa.String(length=40), nullable=False),
        sa.Column("total_gross", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("total_tax", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_url", sa.Text(), nullable=True),
        sa.Column("issued_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_vat_invoices_account_id_amazon_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["sales_orders.id"],
            name=op.f("fk_amazon_vat_invoices_order_id_sales_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_vat_invoices")),
        sa.UniqueConstraint(
            "account_id",
            "invoice_number",
            name=op.f("uq_amazon_vat_invoices_account_id_invoice_number"),
        ),
    )
    with op.batch_alter_table("amazon_vat_invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_amazon_vat_invoices_amazon_order_id"), ["amazon_order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_amazon_vat_invoices_order_id"), ["order_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("amazon_vat_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_amazon_vat_invoices_order_id"))
        batch_op.drop_index(batch_op.f("ix_amazon_vat_invoices_amazon_order_id"))

    op.drop_table("amazon_vat_invoices")
