"""Self-service bills (issue 15): a bill paid online, the gateway's transactions of a payment,
and what a dispute assessment reads of a bill — the tariff it was charged at, and whether its
reading was estimated.

A payment is now a request's or a bill's (`bill_id`); the transactions a gateway opened for a
payment (`payment_attempt`) are what its callback must name. Bills imported before this have no
tariff (None) and count as read, not estimated.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bill", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tariff", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("estimated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.alter_column("request_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("bill_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_payment_bill_id_bill", "bill", ["bill_id"], ["id"])
        batch_op.create_index("ix_payment_bill_id", ["bill_id"], unique=False)
    op.create_table(
        "payment_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("attempt", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "attempt"),
    )
    op.create_index("ix_payment_attempt_payment_id", "payment_attempt", ["payment_id"])


def downgrade() -> None:
    op.drop_index("ix_payment_attempt_payment_id", table_name="payment_attempt")
    op.drop_table("payment_attempt")
    op.execute("DELETE FROM payment WHERE request_id IS NULL")
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_bill_id")
        batch_op.drop_constraint("fk_payment_bill_id_bill", type_="foreignkey")
        batch_op.drop_column("bill_id")
        batch_op.alter_column("request_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("bill", schema=None) as batch_op:
        batch_op.drop_column("estimated")
        batch_op.drop_column("tariff")
