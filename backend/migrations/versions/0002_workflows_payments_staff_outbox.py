"""Workflows, payments, staff, holidays, the notice outbox, OTPs and SMS opt-outs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:14:39.284865
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ASSIGNEE_FK = "fk_service_request_assignee_id_staff"
CORRECTED_BILL_FK = "fk_service_request_corrected_bill_id_bill"


def upgrade() -> None:
    op.create_table(
        "holiday",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "otp_challenge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.String(length=13), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sms_opt_out",
        sa.Column("mobile", sa.String(length=13), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("mobile"),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=13), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone"),
    )
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("essential", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_relayed_at"), ["relayed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_request_id"), ["request_id"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("amount_rials", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=True),
        sa.Column("provider_ref", sa.String(length=100), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_request_id"), ["request_id"], unique=False)

    op.create_table(
        "notice_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("raw_code", sa.String(length=50), nullable=True),
        sa.Column("provider_message_id", sa.String(length=100), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notice.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "channel"),
    )
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_delivery_notice_id"), ["notice_id"], unique=False
        )

    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("proposed_amount_rials", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("corrected_bill_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("fee_rials", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("meter_test_result", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("meter_test_reading", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("terms", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("final_reading", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("statement_rials", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "no_refund_acknowledged", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.create_index(
            batch_op.f("ix_service_request_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_foreign_key(ASSIGNEE_FK, "staff", ["assignee_id"], ["id"])
        batch_op.create_foreign_key(CORRECTED_BILL_FK, "bill", ["corrected_bill_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_constraint(CORRECTED_BILL_FK, type_="foreignkey")
        batch_op.drop_constraint(ASSIGNEE_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_service_request_assignee_id"))
        batch_op.drop_column("no_refund_acknowledged")
        batch_op.drop_column("statement_rials")
        batch_op.drop_column("final_reading")
        batch_op.drop_column("terms")
        batch_op.drop_column("meter_test_reading")
        batch_op.drop_column("meter_test_result")
        batch_op.drop_column("fee_rials")
        batch_op.drop_column("corrected_bill_id")
        batch_op.drop_column("proposed_amount_rials")
        batch_op.drop_column("decision_note")
        batch_op.drop_column("decision_reason")
        batch_op.drop_column("assignee_id")

    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_delivery_notice_id"))

    op.drop_table("notice_delivery")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_request_id"))

    op.drop_table("payment")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_request_id"))
        batch_op.drop_index(batch_op.f("ix_notice_relayed_at"))

    op.drop_table("notice")
    op.drop_table("staff")
    op.drop_table("sms_opt_out")
    op.drop_table("otp_challenge")
    op.drop_table("holiday")
