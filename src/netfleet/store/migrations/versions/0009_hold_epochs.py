"""Hold epochs: one row per worker judges the liveness of all its session holds, so
a heartbeat renews one row, not one per hold.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hold_epochs",
        sa.Column("worker_id", sa.String(length=255), nullable=False),
        sa.Column("epoch", sa.Integer(), server_default="0", nullable=False),
        sa.Column("term", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_hold_epochs")),
    )
    with op.batch_alter_table("session_holds") as batch:
        batch.add_column(sa.Column("term", sa.Integer(), server_default="0", nullable=False))
    # Existing holds keep living as long as they did: their worker's newest epoch, the
    # latest expiry; holds of older epochs are dead (freed by the next reap).
    op.execute(
        "INSERT INTO hold_epochs (worker_id, epoch, term, expires_at) "
        "SELECT worker_id, max(epoch), 0, max(expires_at) FROM session_holds "
        "GROUP BY worker_id"
    )


def downgrade() -> None:
    with op.batch_alter_table("session_holds") as batch:
        batch.drop_column("term")
    op.drop_table("hold_epochs")
