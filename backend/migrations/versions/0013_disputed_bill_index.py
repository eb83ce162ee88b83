"""Requests looked up by the bill they dispute: a filing asks whether that bill already has an
open review, twice (when the bill is chosen and when the review is filed); on a province's
200,000 requests that was a scan each time (bench/province.py, bench/interactive.py --database).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 21:15:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_service_request_disputed_bill_id", "service_request", ["disputed_bill_id"])


def downgrade() -> None:
    op.drop_index("ix_service_request_disputed_bill_id", table_name="service_request")
