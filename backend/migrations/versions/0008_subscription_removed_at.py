"""A subscription whose removal was closed with its clearance is removed from then on: when.

Removals closed before this were left active (their bills still offered for review, a second
removal still taken): they are marked removed now, on the day their removal was closed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLOSED_REMOVAL = (
    "r.subscription_id = subscription.id AND r.kind = 'connection_removal' AND r.status = 'closed'"
)


def upgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        f"""
        UPDATE subscription SET status = 'removed', removed_at = (
            SELECT max(e.created_at) FROM request_event e JOIN service_request r
            ON e.request_id = r.id
            WHERE {_CLOSED_REMOVAL} AND e.action = 'close'
        )
        WHERE EXISTS (SELECT 1 FROM service_request r WHERE {_CLOSED_REMOVAL})
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("subscription", schema=None) as batch_op:
        batch_op.drop_column("removed_at")
