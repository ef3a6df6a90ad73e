"""Issued documents with their lines (append-only, refused UPDATE and DELETE by triggers), their
e-mail deliveries, the document number series, and each channel's document series.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 07:33:40.404930
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sellerbridge.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "invoice",
                "correction",
                "delivery_note",
                name="documentkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_net", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("total_tax", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("total_gross", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("issued_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_id"], ["documents.id"], name=op.f("fk_documents_corrects_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["sales_orders.id"], name=op.f("fk_documents_order_id_sales_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_corrects_id"), ["corrects_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_order_id"), ["order_id"], unique=False)

    op.create_table(
        "document_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column(
            "charge_kind",
            sa.Enum(
                "shipping",
                "gift_wrap",
                "cod",
                "other",
                name="chargekind",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("tax_rate", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("net", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("tax", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.Column("gross", sellerbridge.db.types.ExactDecimal(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_lines_document_id_documents")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["sales_order_lines.id"],
            name=op.f("fk_document_lines_order_line_id_sales_order_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_lines")),
        sa.UniqueConstraint(
            "document_id", "position", name=op.f("uq_document_lines_document_id_position")
        ),
    )
    op.create_table(
        "document_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("pending", "sent", "failed", name="mailstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_mails_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_mails")),
    )
    with op.batch_alter_table("document_mails", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_mails_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_document_mails_status"), ["status"], unique=False)

    op.create_table(
        "document_mail_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("at", sellerbridge.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["document_mails.id"],
            name=op.f("fk_document_mail_attempts_mail_id_document_mails"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_mail_attempts")),
    )
    with op.batch_alter_table("document_mail_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_mail_attempts_mail_id"), ["mail_id"], unique=False
        )

    with op.batch_alter_table("sales_channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "document_series", sa.String(length=40), nullable=False, server_default="default"
            )
        )

    series = sa.table(
        "number_series",
        sa.column("document_type", sa.String),
        sa.column("series", sa.String),
        sa.column("prefix", sa.String),
        sa.column("width", sa.Integer),
        sa.column("next_value", sa.Integer),
    )
    existing = {
        tuple(row)
        for row in op.get_bind().execute(sa.select(series.c.document_type, series.c.series))
    }
    op.bulk_insert(
        series,
        [
            {
                "document_type": kind,
                "series": "default",
                "prefix": prefix,
                "width": 6,
                "next_value": 1,
            }
            for kind, prefix in DOCUMENT_SERIES
            if (kind, "default") not in existing
        ],
    )
    for table in IMMUTABLE:
        _create_immutable_triggers(table)


DOCUMENT_SERIES = (("invoice", "RE-"), ("correction", "RK-"), ("delivery_note", "LS-"))
IMMUTABLE = ("documents", "document_lines")
IMMUTABLE_MESSAGE = "issued documents cannot be changed; issue a correction invoice instead"


def _create_immutable_triggers(table: str) -> None:
    if op.get_context().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} "
                f"ON {table} BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_immutable() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{IMMUTABLE_MESSAGE}'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_immutable()"
    )


def _drop_immutable_triggers(table: str) -> None:
    if op.get_context().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {table}_immutable()")


def downgrade() -> None:
    for table in IMMUTABLE:
        _drop_immutable_triggers(table)
    op.execute(
        "DELETE FROM number_series WHERE series = 'default' "
        "AND document_type IN ('invoice', 'correction', 'delivery_note')"
    )
    with op.batch_alter_table("sales_channels", schema=None) as batch_op:
        batch_op.drop_column("document_series")

    with op.batch_alter_table("document_mail_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_mail_attempts_mail_id"))

    op.drop_table("document_mail_attempts")
    with op.batch_alter_table("document_mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_mails_status"))
        batch_op.drop_index(batch_op.f("ix_document_mails_document_id"))

    op.drop_table("document_mails")
    op.drop_table("document_lines")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_order_id"))
        batch_op.drop_index(batch_op.f("ix_documents_corrects_id"))

    op.drop_table("documents")
