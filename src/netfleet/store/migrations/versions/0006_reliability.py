"""Reliability: hold epochs (exact session accounting), config progress marks and
schedule skip counts.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("session_holds") as batch:
        batch.add_column(sa.Column("epoch", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        op.f("ix_session_holds_worker_id_epoch"), "session_holds", ["worker_id", "epoch"]
    )
    op.create_table(
        "config_marks",
        sa.Column("task_id", BIG_ID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=255), nullable=False),
        sa.Column("marked_at", sa.Double(), nullable=False),
        sa.Column("first_line", sa.Text(), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_config_marks_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_config_marks")),
    )
    op.create_table(
        "schedule_skips",
        sa.Column("schedule_id", BIG_ID, nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("skipped", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_skips_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("schedule_id", "reason", name=op.f("pk_schedule_skips")),
    )


def downgrade() -> None:
    op.drop_table("schedule_skips")
    op.drop_table("config_marks")
    op.drop_index(op.f("ix_session_holds_worker_id_epoch"), table_name="session_holds")
    with op.batch_alter_table("session_holds") as batch:
        batch.drop_column("epoch")
