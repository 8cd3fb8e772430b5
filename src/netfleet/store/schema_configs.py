"""Tables of configuration backups (on the shared ``metadata``).

``config_versions`` holds each device's versions, keyed by device *name* so that the
history outlives the inventory entry and job retention (``job_id`` is no foreign key).
``blob`` is ``netfleet.configs.compress`` data: the latest version full, older ones
reverse deltas. ``config_backups`` keeps the last attempt per device (status, stale).
"""

from __future__ import annotations

import sqlalchemy as sa

from netfleet.store.schema import BigId, Time, metadata

config_versions = sa.Table(
    "config_versions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("device", sa.String(255), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("job_id", sa.BigInteger),
    sa.Column("platform", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("added", sa.Integer, nullable=False),
    sa.Column("removed", sa.Integer, nullable=False),
    sa.Column("is_latest", sa.Boolean, nullable=False),
    sa.Column("is_full", sa.Boolean, nullable=False),
    sa.Column("blob", sa.LargeBinary, nullable=False),
    sa.Column("raw_enc", sa.Text),
    sa.UniqueConstraint("device", "version"),
    sa.Index(None, "is_latest", "device"),
    sa.Index(None, "created_at"),
    sqlite_autoincrement=True,
)
"""``raw_enc``: the unmasked text, encrypted, only with ``[masking] keep_raw``."""

config_backups = sa.Table(
    "config_backups",
    metadata,
    sa.Column("device", sa.String(255), primary_key=True),
    sa.Column("attempt_at", Time, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("job_id", sa.BigInteger),
    sa.Column("ok_at", Time),
    sa.Column("changes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("stale_notified_at", Time),
)
"""The last backup attempt per device; ``changes`` counts new versions (a metric);
``stale_notified_at``: when ``backup.stale`` was emitted for the current stale episode
(revision 0010; a good backup clears it)."""
