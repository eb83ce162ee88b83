"""Staff are told when a step passes its deadline, once: who was told, per step and level.

The unique key (request, the step's deadline, level) makes "once" hold across restarts and
clocks running side by side. `/find` needs no new index: bill IDs and national IDs are unique,
customers' mobiles, subscriptions' customers and requests' subscriptions are indexed already.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "deadline", "level"),
    )


def downgrade() -> None:
    op.drop_table("staff_alert")
