"""Pishkhan counters (seed 002): the offices, their lifecycle events and documents, the services
delegated to them, their operators; the supervision checklist, versioned, and its visits.

A request filed at a counter records the counter and the operator who filed it; staff get the
counter they work at (operators) and the area they head (area heads).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("area", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("phone", sa.String(length=13), nullable=False),
        sa.Column("manager_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("status_reason", sa.String(length=40), nullable=True),
        sa.Column("agreement_signed_on", sa.Date(), nullable=True),
        sa.Column("step_deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    with op.batch_alter_table("counter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_area"), ["area"], unique=False)
        batch_op.create_index(batch_op.f("ix_counter_city"), ["city"], unique=False)
        batch_op.create_index(batch_op.f("ix_counter_status"), ["status"], unique=False)

    op.create_table(
        "counter_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=30), nullable=True),
        sa.Column("to_status", sa.String(length=30), nullable=True),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("counter_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_event_counter_id"), ["counter_id"])

    op.create_table(
        "counter_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=30), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("counter_document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_document_counter_id"), ["counter_id"])

    op.create_table(
        "counter_service",
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"]),
        sa.PrimaryKeyConstraint("counter_id", "kind"),
    )

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counter_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("area", sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f("ix_staff_counter_id"), ["counter_id"], unique=False)
        batch_op.create_foreign_key("fk_staff_counter_id", "counter", ["counter_id"], ["id"])

    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counter_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("filed_by_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_service_request_counter_id"), ["counter_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_service_request_counter_id", "counter", ["counter_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_service_request_filed_by_id", "staff", ["filed_by_id"], ["id"]
        )

    op.create_table(
        "checklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", "version"),
    )
    op.create_table(
        "checklist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("expected", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["checklist_id"], ["checklist.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checklist_id", "key"),
    )
    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counter_id", sa.Integer(), nullable=False),
        sa.Column("checklist_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["checklist_id"], ["checklist.id"]),
        sa.ForeignKeyConstraint(["counter_id"], ["counter.id"]),
        sa.ForeignKeyConstraint(["inspector_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_counter_id"), ["counter_id"])
    op.create_table(
        "inspection_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=10), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("photo_key", sa.String(length=200), nullable=True),
        sa.Column("recheck_of_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["inspection_id"], ["inspection.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["checklist_item.id"]),
        sa.ForeignKeyConstraint(["recheck_of_id"], ["inspection_answer.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("inspection_id", "item_id"),
    )


def downgrade() -> None:
    op.drop_table("inspection_answer")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_counter_id"))
    op.drop_table("inspection")
    op.drop_table("checklist_item")
    op.drop_table("checklist")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_constraint("fk_service_request_filed_by_id", type_="foreignkey")
        batch_op.drop_constraint("fk_service_request_counter_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_service_request_counter_id"))
        batch_op.drop_column("filed_by_id")
        batch_op.drop_column("counter_id")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint("fk_staff_counter_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_staff_counter_id"))
        batch_op.drop_column("area")
        batch_op.drop_column("counter_id")
    op.drop_table("counter_service")
    with op.batch_alter_table("counter_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_document_counter_id"))
    op.drop_table("counter_document")
    with op.batch_alter_table("counter_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_event_counter_id"))
    op.drop_table("counter_event")
    with op.batch_alter_table("counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_status"))
        batch_op.drop_index(batch_op.f("ix_counter_city"))
        batch_op.drop_index(batch_op.f("ix_counter_area"))
    op.drop_table("counter")
