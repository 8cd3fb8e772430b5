"""Group-default credentials (``group_credentials``), and ``config_backups.
stale_notified_at``: when the current stale episode of a device's backups was
notified (``backup.stale``), cleared by the next good backup.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "group_credentials",
        sa.Column("group_name", sa.String(length=255), nullable=False),
        sa.Column("credential_id", BIG_ID, nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["credentials.id"],
            name=op.f("fk_group_credentials_credential_id_credentials"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("group_name", name=op.f("pk_group_credentials")),
    )
    op.create_index(
        op.f("ix_group_credentials_credential_id"),
        "group_credentials",
        ["credential_id"],
        unique=False,
    )
    with op.batch_alter_table("config_backups") as batch:
        batch.add_column(sa.Column("stale_notified_at", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("config_backups") as batch:
        batch.drop_column("stale_notified_at")
    op.drop_index(op.f("ix_group_credentials_credential_id"), table_name="group_credentials")
    op.drop_table("group_credentials")
