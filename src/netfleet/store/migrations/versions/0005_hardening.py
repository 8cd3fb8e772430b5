"""Hardening: durable token revocation, dashboard sessions, encrypted raw outputs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "revoked_token_hashes",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_revoked_token_hashes")),
    )
    # Tokens revoked before this revision keep their revocation too.
    op.execute(
        "INSERT INTO revoked_token_hashes (token_hash, name, revoked_at) "
        "SELECT token_hash, name, revoked_at FROM api_tokens WHERE revoked_at IS NOT NULL"
    )
    op.create_table(
        "dashboard_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", BIG_ID, nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("last_seen_at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_dashboard_sessions_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_dashboard_sessions")),
    )
    op.create_index(op.f("ix_dashboard_sessions_token_id"), "dashboard_sessions", ["token_id"])
    op.create_index(op.f("ix_dashboard_sessions_expires_at"), "dashboard_sessions", ["expires_at"])
    op.create_table(
        "task_raw_outputs",
        sa.Column("output_id", BIG_ID, nullable=False),
        sa.Column("task_id", BIG_ID, nullable=False),
        sa.Column("output_enc", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["output_id"],
            ["task_outputs.id"],
            name=op.f("fk_task_raw_outputs_output_id_task_outputs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_raw_outputs_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("output_id", name=op.f("pk_task_raw_outputs")),
    )
    op.create_index(op.f("ix_task_raw_outputs_task_id"), "task_raw_outputs", ["task_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_task_raw_outputs_task_id"), table_name="task_raw_outputs")
    op.drop_table("task_raw_outputs")
    op.drop_index(op.f("ix_dashboard_sessions_expires_at"), table_name="dashboard_sessions")
    op.drop_index(op.f("ix_dashboard_sessions_token_id"), table_name="dashboard_sessions")
    op.drop_table("dashboard_sessions")
    op.drop_table("revoked_token_hashes")
