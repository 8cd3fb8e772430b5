"""Configuration backups: versions and the last attempt per device.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "config_versions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("device", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("is_latest", sa.Boolean(), nullable=False),
        sa.Column("is_full", sa.Boolean(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("raw_enc", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_versions")),
        sa.UniqueConstraint("device", "version", name=op.f("uq_config_versions_device_version")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_config_versions_is_latest_device"), "config_versions", ["is_latest", "device"]
    )
    op.create_index(op.f("ix_config_versions_created_at"), "config_versions", ["created_at"])
    op.create_table(
        "config_backups",
        sa.Column("device", sa.String(length=255), nullable=False),
        sa.Column("attempt_at", sa.Double(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("ok_at", sa.Double(), nullable=True),
        sa.Column("changes", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("device", name=op.f("pk_config_backups")),
    )


def downgrade() -> None:
    op.drop_table("config_backups")
    op.drop_index(op.f("ix_config_versions_created_at"), table_name="config_versions")
    op.drop_index(op.f("ix_config_versions_is_latest_device"), table_name="config_versions")
    op.drop_table("config_versions")
