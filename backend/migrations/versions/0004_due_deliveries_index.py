"""An index on when notice deliveries are due: the relay looks for them every few seconds.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 09:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notice_delivery_next_attempt_at", ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notice_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_delivery_next_attempt_at")
