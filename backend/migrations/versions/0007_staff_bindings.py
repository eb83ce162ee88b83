"""Staff accounts are bound explicitly, after a one-time code to the staff phone: a binding row
per messenger account; a code's challenge says what it proves.

Until now a messenger account acted as staff as soon as it had shared a staff phone as its own
contact, which a forged update could do. No binding is carried over (any of them may have been
forged): staff bind again, with the code, and the admins are told of each binding.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_user_id", sa.String(length=64), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "external_user_id"),
    )
    with op.batch_alter_table("staff_binding", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_binding_staff_id"), ["staff_id"], unique=False)

    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        # The codes sent so far all proved a subscription's mobile.
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=20), nullable=False, server_default="mobile")
        )


def downgrade() -> None:
    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.drop_column("purpose")

    with op.batch_alter_table("staff_binding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_binding_staff_id"))
    op.drop_table("staff_binding")
