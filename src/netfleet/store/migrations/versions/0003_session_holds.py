"""Session holds: idle pooled sessions counted in the device slots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "session_holds",
        sa.Column("worker_id", sa.String(length=255), nullable=False),
        sa.Column("device_id", BIG_ID, nullable=False),
        sa.Column("held", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.CheckConstraint("held >= 0", name=op.f("ck_session_holds_held_not_negative")),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_session_holds_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("worker_id", "device_id", name=op.f("pk_session_holds")),
    )
    op.create_index(op.f("ix_session_holds_expires_at"), "session_holds", ["expires_at"])
    op.create_index(op.f("ix_session_holds_device_id"), "session_holds", ["device_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_session_holds_device_id"), table_name="session_holds")
    op.drop_index(op.f("ix_session_holds_expires_at"), table_name="session_holds")
    op.drop_table("session_holds")
