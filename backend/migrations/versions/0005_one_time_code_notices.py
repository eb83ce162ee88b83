"""One-time codes go through the outbox: a notice may go straight to a mobile, in a language,
before any request exists; a code's challenge names its notice; challenges looked up by mobile.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OTP_NOTICE_FK = "fk_otp_challenge_notice_id_notice"


def upgrade() -> None:
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("to_mobile", sa.String(length=13), nullable=True))
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))

    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_otp_challenge_mobile"), ["mobile"], unique=False)
        batch_op.create_foreign_key(OTP_NOTICE_FK, "notice", ["notice_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("otp_challenge", schema=None) as batch_op:
        batch_op.drop_constraint(OTP_NOTICE_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_otp_challenge_mobile"))
        batch_op.drop_column("notice_id")

    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("locale")
        batch_op.drop_column("to_mobile")
