"""Safe changes: job gates (approval, change windows, staged rollout), change windows;
``jobs.state`` widened to 24 characters for the gate states.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Gate states ("awaiting_approval") are longer than 16 characters. SQLite does
    # not enforce VARCHAR lengths; PostgreSQL widens without rewriting the table.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("jobs", "state", type_=sa.String(length=24), existing_nullable=False)
    op.create_table(
        "job_gates",
        sa.Column("job_id", BIG_ID, nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("submitted_by", sa.String(length=255)),
        sa.Column("needs_approval", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("decision", sa.String(length=16)),
        sa.Column("decided_by", sa.String(length=255)),
        sa.Column("decided_at", sa.Double()),
        sa.Column("emergency", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("plan", sa.JSON()),
        sa.Column("batch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("released", sa.Integer(), server_default="0", nullable=False),
        sa.Column("budget", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_base", sa.Integer(), server_default="0", nullable=False),
        sa.Column("pause_s", sa.Double(), server_default="0", nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("window", sa.String(length=1024)),
        sa.Column("next_opening", sa.Double()),
        sa.Column("not_before", sa.Double()),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.CheckConstraint(
            "released >= 0 AND batch >= 0", name=op.f("ck_job_gates_progress_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_job_gates_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_gates")),
    )
    op.create_index(op.f("ix_job_gates_state"), "job_gates", ["state"])
    op.create_table(
        "change_windows",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.CheckConstraint("kind IN ('allow', 'blackout')", name=op.f("ck_change_windows_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_windows")),
        sa.UniqueConstraint("name", name=op.f("uq_change_windows_name")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("jobs", "state", type_=sa.String(length=16), existing_nullable=False)
    op.drop_table("change_windows")
    op.drop_index(op.f("ix_job_gates_state"), table_name="job_gates")
    op.drop_table("job_gates")
