"""Tables of the integrations (revision 0007), on the shared ``metadata``.

- ``notify_events``: the outbox. The store writes an event (``job.finished``,
  ``task.failed``, ``worker.down``, and whatever type other features emit) in the
  transaction that caused it; the delivery loop fans it out to the matching rules
  and sets ``fanned_out``.
- ``notification_rules``: what to notify about and where; the secret (webhook
  HMAC key or SMTP password) is encrypted (``SecretBox``) and never read back out
  through the API.
- ``notification_deliveries``: one row per (rule, event), the durable queue. Its
  ``delivery_key`` is the idempotency id sent with every attempt; a lease
  (``lease_owner``/``lease_until``) lets another process take over after a crash.
- ``notification_attempts``: the delivery log (one row per attempt), per rule.
- ``inventory_sources``, ``inventory_sync_reports``: NetBox/Nautobot sources
  (token encrypted) and what each sync did.
- ``device_sources``: which source a device came from, and when it was disabled
  because it disappeared upstream (disabled devices are not targeted).
"""

from __future__ import annotations

import sqlalchemy as sa

from netfleet.store.schema import BigId, Time, metadata

notify_events = sa.Table(
    "notify_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Time, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("dedup_key", sa.String(255), unique=True),
    sa.Column("fanned_out", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "fanned_out", "id"),
    sqlite_autoincrement=True,
)

notification_rules = sa.Table(
    "notification_rules",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("match", sa.JSON, nullable=False),
    sa.Column("target", sa.JSON, nullable=False),
    sa.Column("secret_enc", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("origin", sa.String(16), nullable=False, server_default="api"),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sqlite_autoincrement=True,
)

notification_deliveries = sa.Table(
    "notification_deliveries",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "rule_id",
        BigId,
        sa.ForeignKey("notification_rules.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", BigId, nullable=False),
    sa.Column("delivery_key", sa.String(64), nullable=False, unique=True),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_at", Time, nullable=False),
    sa.Column("lease_owner", sa.String(255)),
    sa.Column("lease_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("finished_at", Time),
    sa.UniqueConstraint("rule_id", "event_id"),
    sa.Index(None, "state", "next_at"),
    sqlite_autoincrement=True,
)

notification_attempts = sa.Table(
    "notification_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "delivery_id",
        BigId,
        sa.ForeignKey("notification_deliveries.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("rule_id", BigId, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("duration_ms", sa.Double, nullable=False, server_default="0"),
    sa.Index(None, "rule_id", "id"),
    sa.Index(None, "delivery_id"),
    sqlite_autoincrement=True,
)

inventory_sources = sa.Table(
    "inventory_sources",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("token_enc", sa.Text, nullable=False),
    sa.Column("interval_s", sa.Double),
    sa.Column("next_sync_at", Time),
    sa.Column("lease_until", Time),
    sa.Column("last_sync_at", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sqlite_autoincrement=True,
)

inventory_sync_reports = sa.Table(
    "inventory_sync_reports",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "source_id",
        BigId,
        sa.ForeignKey("inventory_sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("finished_at", Time, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("summary", sa.Text, nullable=False, server_default=""),
    sa.Column("error", sa.Text),
    sa.Column("requests", sa.Integer, nullable=False, server_default="0"),
    sa.Column("report", sa.JSON, nullable=False),
    sa.Index(None, "source_id", "id"),
    sqlite_autoincrement=True,
)

device_sources = sa.Table(
    "device_sources",
    metadata,
    sa.Column(
        "device_id", BigId, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "source_id",
        BigId,
        sa.ForeignKey("inventory_sources.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("upstream_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("disabled_at", Time),
    sa.Column("disabled_reason", sa.Text),
    sa.Index(None, "source_id"),
    sa.Index(None, "disabled_at"),
)
