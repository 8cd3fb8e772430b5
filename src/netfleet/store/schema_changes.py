"""Tables of safe changes: job gates (approval, change windows, staged rollout) and
change windows. On the shared ``metadata``; created by migration 0008."""

from __future__ import annotations

import sqlalchemy as sa

from netfleet.store.schema import BigId, Time, metadata

job_gates = sa.Table(
    "job_gates",
    metadata,
    sa.Column("job_id", BigId, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("submitted_by", sa.String(255)),
    sa.Column("needs_approval", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("decision", sa.String(16)),
    sa.Column("decided_by", sa.String(255)),
    sa.Column("decided_at", Time),
    sa.Column("emergency", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("plan", sa.JSON),
    sa.Column("batch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("released", sa.Integer, nullable=False, server_default="0"),
    sa.Column("budget", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failure_base", sa.Integer, nullable=False, server_default="0"),
    sa.Column("pause_s", sa.Double, nullable=False, server_default="0"),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("window", sa.String(1024)),
    sa.Column("next_opening", Time),
    sa.Column("not_before", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("released >= 0 AND batch >= 0", name="progress_not_negative"),
    sa.Index(None, "state"),
)
"""One row per gated job: what holds its tasks back and how far its rollout got.
``plan`` lists the batch sizes; ``batch`` batches (``released`` tasks, in device
name order) have been released."""

change_windows = sa.Table(
    "change_windows",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("kind IN ('allow', 'blackout')", name="kind"),
    sqlite_autoincrement=True,
)
"""Named change windows; ``spec`` is the ``WindowSpec`` as JSON."""
