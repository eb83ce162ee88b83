"""Initial schema: customers, subscriptions, bills, requests, identities, conversations.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:50:53.396102
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=60), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "user_id"),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("national_id", sa.String(length=10), nullable=True),
        sa.Column("mobile", sa.String(length=13), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("national_id"),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_mobile"), ["mobile"], unique=False)

    op.create_table(
        "processed_event",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "event_id"),
    )
    op.create_table(
        "channel_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_user_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=13), nullable=True),
        sa.Column("phone_verified", sa.Boolean(), nullable=False),
        sa.Column("reachable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "external_user_id"),
    )
    with op.batch_alter_table("channel_identity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_channel_identity_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_id", sa.String(length=13), nullable=False),
        sa.Column("subscription_number", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("feeder", sa.String(length=50), nullable=False),
        sa.Column("tariff", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bill_id"),
        sa.UniqueConstraint("subscription_number"),
    )
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscription_city"), ["city"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_subscription_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_subscription_feeder"), ["feeder"], unique=False)

    op.create_table(
        "bill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("jalali_year", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("previous_reading_date", sa.Date(), nullable=False),
        sa.Column("current_reading_date", sa.Date(), nullable=False),
        sa.Column("previous_reading", sa.Integer(), nullable=False),
        sa.Column("current_reading", sa.Integer(), nullable=False),
        sa.Column("consumption_kwh", sa.Integer(), nullable=False),
        sa.Column("amount_rials", sa.BigInteger(), nullable=False),
        sa.Column("payment_id", sa.String(length=13), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("corrects_bill_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corrects_bill_id"],
            ["bill.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bill", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bill_subscription_id"), ["subscription_id"], unique=False
        )
        batch_op.create_index(
            "uq_bill_period",
            ["subscription_id", "jalali_year", "period"],
            unique=True,
            sqlite_where=sa.text("corrects_bill_id IS NULL"),
            postgresql_where=sa.text("corrects_bill_id IS NULL"),
        )

    op.create_table(
        "service_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("tracking_code", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("channel_user_id", sa.String(length=64), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("disputed_bill_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["disputed_bill_id"],
            ["bill.id"],
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscription.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tracking_code"),
    )
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_request_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_request_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_service_request_step_deadline"), ["step_deadline"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_service_request_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "request_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=30), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_document_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "request_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=True),
        sa.Column("to_status", sa.String(length=30), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("request_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_request_event_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("request_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_event_request_id"))

    op.drop_table("request_event")
    with op.batch_alter_table("request_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_document_request_id"))

    op.drop_table("request_document")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_request_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_service_request_step_deadline"))
        batch_op.drop_index(batch_op.f("ix_service_request_status"))
        batch_op.drop_index(batch_op.f("ix_service_request_kind"))

    op.drop_table("service_request")
    with op.batch_alter_table("bill", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_bill_period",
            sqlite_where=sa.text("corrects_bill_id IS NULL"),
            postgresql_where=sa.text("corrects_bill_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_bill_subscription_id"))

    op.drop_table("bill")
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_feeder"))
        batch_op.drop_index(batch_op.f("ix_subscription_customer_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_city"))

    op.drop_table("subscription")
    with op.batch_alter_table("channel_identity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_identity_customer_id"))

    op.drop_table("channel_identity")
    op.drop_table("processed_event")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_mobile"))

    op.drop_table("customer")
    op.drop_table("conversation")
