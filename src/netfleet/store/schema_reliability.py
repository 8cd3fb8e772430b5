"""Tables of the reliability work: durable progress marks of config attempts,
skipped schedule firings counted for ``/metrics``, and per-worker hold epochs."""

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

hold_epochs = sa.Table(
    "hold_epochs",
    metadata,
    sa.Column("worker_id", sa.String(255), primary_key=True),
    sa.Column("epoch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("term", sa.Integer, nullable=False, server_default="0"),
    sa.Column("expires_at", Time, nullable=False),
)
"""The liveness of a worker's session holds: one row per worker, renewed by each of
its heartbeats (one row write however many holds it has). A hold is live while this
row is live (``expires_at`` not passed) with the hold's ``epoch`` and ``term``. An
expired row is never extended: it restarts with ``term + 1`` (its holds are dead
and are freed)."""
