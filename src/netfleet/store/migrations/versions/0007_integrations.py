"""Integrations: notification rules, outbox and delivery queue, inventory sources.

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inventory_sources",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("token_enc", sa.Text(), nullable=False),
        sa.Column("interval_s", sa.Double(), nullable=True),
        sa.Column("next_sync_at", sa.Double(), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("last_sync_at", sa.Double(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_inventory_sources_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "notification_rules",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("match", sa.JSON(), nullable=False),
        sa.Column("target", sa.JSON(), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("origin", sa.String(length=16), server_default="api", nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_notification_rules_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "notify_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=True),
        sa.Column("fanned_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_events")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_notify_events_dedup_key")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_notify_events_fanned_out_id"), "notify_events", ["fanned_out", "id"], unique=False
    )
    op.create_table(
        "device_sources",
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("upstream_id", sa.String(length=64), server_default="", nullable=False),
        sa.Column("disabled_at", sa.Double(), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_sources_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["inventory_sources.id"],
            name=op.f("fk_device_sources_source_id_inventory_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_sources")),
    )
    op.create_index(
        op.f("ix_device_sources_disabled_at"), "device_sources", ["disabled_at"], unique=False
    )
    op.create_index(
        op.f("ix_device_sources_source_id"), "device_sources", ["source_id"], unique=False
    )
    op.create_table(
        "inventory_sync_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requests", sa.Integer(), server_default="0", nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["inventory_sources.id"],
            name=op.f("fk_inventory_sync_reports_source_id_inventory_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory_sync_reports")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_inventory_sync_reports_source_id_id"),
        "inventory_sync_reports",
        ["source_id", "id"],
        unique=False,
    )
    op.create_table(
        "notification_deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivery_key", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.Column("lease_owner", sa.String(length=255), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["notification_rules.id"],
            name=op.f("fk_notification_deliveries_rule_id_notification_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint("delivery_key", name=op.f("uq_notification_deliveries_delivery_key")),
        sa.UniqueConstraint(
            "rule_id", "event_id", name=op.f("uq_notification_deliveries_rule_id_event_id")
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_notification_deliveries_state_next_at"),
        "notification_deliveries",
        ["state", "next_at"],
        unique=False,
    )
    op.create_table(
        "notification_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column("duration_ms", sa.Double(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_deliveries.id"],
            name=op.f("fk_notification_attempts_delivery_id_notification_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempts")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        op.f("ix_notification_attempts_delivery_id"),
        "notification_attempts",
        ["delivery_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notification_attempts_rule_id_id"),
        "notification_attempts",
        ["rule_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_attempts_rule_id_id"), table_name="notification_attempts")
    op.drop_index(op.f("ix_notification_attempts_delivery_id"), table_name="notification_attempts")
    op.drop_table("notification_attempts")
    op.drop_index(
        op.f("ix_notification_deliveries_state_next_at"), table_name="notification_deliveries"
    )
    op.drop_table("notification_deliveries")
    op.drop_index(
        op.f("ix_inventory_sync_reports_source_id_id"), table_name="inventory_sync_reports"
    )
    op.drop_table("inventory_sync_reports")
    op.drop_index(op.f("ix_device_sources_source_id"), table_name="device_sources")
    op.drop_index(op.f("ix_device_sources_disabled_at"), table_name="device_sources")
    op.drop_table("device_sources")
    op.drop_index(op.f("ix_notify_events_fanned_out_id"), table_name="notify_events")
    op.drop_table("notify_events")
    op.drop_table("notification_rules")
    op.drop_table("inventory_sources")
