"""A request keeps the language it was filed in, for its SMS; a followed bill ID may carry a label.

SMS notices went out in the language of whichever chat changed last; from now on they follow the
language the subscriber chose where they filed (kept up to date when they switch it there).
Requests filed before this take the language their chat has now. A label («خانه», «مغازه») names
a followed bill ID for its follower.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))
    op.execute(
        """
        UPDATE service_request SET locale = (
            SELECT c.locale FROM conversation c
            WHERE c.channel = service_request.channel
            AND c.user_id = service_request.channel_user_id
        )
        """
    )
    with op.batch_alter_table("followed_subscription", schema=None) as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("followed_subscription", schema=None) as batch_op:
        batch_op.drop_column("label")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_column("locale")
