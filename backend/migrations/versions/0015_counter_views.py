"""Counters as staff and subscribers see them: the supervision checklist in English too, and
who was told of a counter's lifecycle step past its deadline (once per step, by its key).

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A version stored before holds Persian only; its English is left empty.
    with op.batch_alter_table("checklist", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("title_en", sa.String(length=200), nullable=False, server_default="")
        )
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("topic_en", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("text_en", sa.String(length=500), nullable=False, server_default="")
        )
    op.create_table(
        "counter_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("counter_id", "deadline"),
    )


def downgrade() -> None:
    op.drop_table("counter_alert")
    with op.batch_alter_table("checklist_item", schema=None) as batch_op:
        batch_op.drop_column("text_en")
        batch_op.drop_column("topic_en")
    with op.batch_alter_table("checklist", schema=None) as batch_op:
        batch_op.drop_column("title_en")
