"""Tables of the reliability work: durable progress marks of config attempts, and
skipped schedule firings counted for ``/metrics``."""

from __future__ import annotations

import sqlalchemy as sa

from netfleet.store.schema import BigId, Time, metadata

config_marks = sa.Table(
    "config_marks",
    metadata,
    sa.Column("task_id", BigId, sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("worker_id", sa.String(255), nullable=False),
    sa.Column("marked_at", Time, nullable=False),
    sa.Column("first_line", sa.Text, nullable=False, server_default=""),
)
"""A config attempt is about to send its first line to the device (written durably
before it does). An orphaned attempt (its worker died) without a mark for its
attempt number sent nothing and is re-queued; with one it fails as
``config_state_unknown``."""

schedule_skips = sa.Table(
    "schedule_skips",
    metadata,
    sa.Column(
        "schedule_id", BigId, sa.ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("reason", sa.String(32), primary_key=True),
    sa.Column("skipped", sa.BigInteger, nullable=False, server_default="0"),
)
"""Firings of each schedule skipped (``misfire`` or ``overlap``), since it was created."""
