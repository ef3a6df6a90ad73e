"""Amazon orders the import could not store, kept to be tried again (never dropped); order
bindings no longer keep a hash of the payload (every update is applied idempotently).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 06:05:07.769883
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sellerbridge.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("amazon_order_bindings", schema=None) as batch_op:
        batch_op.drop_column("payload_hash")

    op.create_table(
        "amazon_order_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=20), nullable=False),
        sa.Column("amazon_order_id", sa.String(length=30), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "first_failed_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_failed_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("resolved_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["amazon_accounts.id"],
            name=op.f("fk_amazon_order_failures_account_id_amazon_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_order_failures")),
        sa.UniqueConstraint(
            "account_id",
            "marketplace_id",
            "amazon_order_id",
            name=op.f("uq_amazon_order_failures_account_id_marketplace_id_amazon_order_id"),
        ),
    )
    with op.batch_alter_table("amazon_order_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_amazon_order_failures_resolved_at"), ["resolved_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("amazon_order_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_amazon_order_failures_resolved_at"))

    op.drop_table("amazon_order_failures")

    with op.batch_alter_table("amazon_order_bindings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payload_hash", sa.String(length=64), nullable=False, server_default="")
        )
