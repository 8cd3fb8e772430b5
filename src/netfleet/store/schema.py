"""The store's tables (SQLAlchemy Core). Migrations in ``store/migrations`` create them.

All times are ``Double`` epoch seconds (UTC). Change a table here only together
with a new Alembic revision.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Time = sa.Double
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""64-bit ids on PostgreSQL; INTEGER (rowid alias, autoincrementing) on SQLite."""

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("username", sa.String(255), nullable=False),
    sa.Column("password_enc", sa.Text),
    sa.Column("private_key_enc", sa.Text),
    sa.Column("passphrase_enc", sa.Text),
    sa.Column("enable_secret_enc", sa.Text),
    sa.Column("use_agent", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sqlite_autoincrement=True,
)

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("platform", sa.String(64), nullable=False),
    sa.Column("max_sessions", sa.Integer, nullable=False),
    sa.Column("groups", sa.JSON, nullable=False),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("host_key_policy", sa.String(16), nullable=False),
    sa.Column("legacy_algorithms", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("jump_host", sa.JSON),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("generation", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("max_sessions >= 1", name="max_sessions_positive"),
    sqlite_autoincrement=True,
)

device_labels = sa.Table(
    "device_labels",
    metadata,
    sa.Column(
        "device_id", BigId, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("kind", sa.String(8), primary_key=True),
    sa.Column("label", sa.String(255), primary_key=True),
    sa.Index(None, "kind", "label"),
)
"""Groups (kind ``group``) and tags (kind ``tag``), for filtering; ``devices`` keeps the order."""

device_credentials = sa.Table(
    "device_credentials",
    metadata,
    sa.Column(
        "device_id", BigId, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column(
        "credential_id",
        BigId,
        sa.ForeignKey("credentials.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
)

device_slots = sa.Table(
    "device_slots",
    metadata,
    sa.Column(
        "device_id", BigId, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("running", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_sessions", sa.Integer, nullable=False),
    sa.Column("exclusive_held", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("running >= 0 AND running <= max_sessions", name="running_in_range"),
    sa.CheckConstraint("NOT exclusive_held OR running = 1", name="exclusive_alone"),
)

session_holds = sa.Table(
    "session_holds",
    metadata,
    sa.Column("worker_id", sa.String(255), primary_key=True),
    sa.Column(
        "device_id", BigId, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("held", sa.Integer, nullable=False, server_default="0"),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("epoch", sa.Integer, nullable=False, server_default="0"),
    sa.Column("term", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("held >= 0", name="held_not_negative"),
    sa.Index(None, "expires_at"),
    sa.Index(None, "device_id"),
    sa.Index(None, "worker_id", "epoch"),
)
"""Idle sessions a worker keeps open to a device, counted in ``device_slots.running``.

``device_slots.running`` counts every session a device has from netfleet: running
tasks plus these holds. A hold is taken when a task finishes and the worker's pool
keeps its session, consumed by the same worker's next claim on the device (no free
slot needed), released when the pool closes the session, and freed by the reaper
once it is dead. A hold lives while its worker's ``hold_epochs`` row is live with
the same ``epoch`` and ``term`` (one row per worker, renewed by each heartbeat;
``expires_at`` here is informational). ``epoch``: the worker's hold epoch when the
hold was made; a heartbeat with a newer epoch frees the worker's older holds (it
closed their sessions after losing track of them). ``term``: the epoch row's term
when the hold was made; an expired epoch row is never renewed, it restarts with a
new term, so its dead holds never come back to life."""

schedules = sa.Table(
    "schedules",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("expression", sa.String(255)),
    sa.Column("at", Time),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("job_template", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("start_at", Time),
    sa.Column("end_at", Time),
    sa.Column("misfire_policy", sa.String(16), nullable=False, server_default="skip"),
    sa.Column("misfire_window_s", sa.Double, nullable=False, server_default="60"),
    sa.Column("overlap", sa.String(8), nullable=False, server_default="queue"),
    sa.Column("next_fire_at", Time),
    sa.Column("last_fire_at", Time),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.CheckConstraint("kind IN ('cron', 'once')", name="kind"),
    sa.CheckConstraint("misfire_policy IN ('skip', 'run_latest', 'backfill')", name="misfire"),
    sa.CheckConstraint("overlap IN ('skip', 'queue')", name="overlap"),
    sa.Index(None, "enabled", "next_fire_at"),
    sqlite_autoincrement=True,
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255)),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("state", sa.String(24), nullable=False),
    sa.Column("tasks_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_queued", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_retrying", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_running", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_succeeded", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tasks_cancelled", sa.Integer, nullable=False, server_default="0"),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("schedule_id", BigId, sa.ForeignKey("schedules.id", ondelete="SET NULL")),
    sa.Column("fire_time", Time),
    sa.Column("idempotency_key", sa.String(200), unique=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("finished_at", Time),
    sa.UniqueConstraint("schedule_id", "fire_time"),
    sa.Index(None, "created_at"),
    sa.Index(None, "finished_at"),
    sa.Index(None, "state"),
    sqlite_autoincrement=True,
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("job_id", BigId, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("device_id", BigId, sa.ForeignKey("devices.id", ondelete="SET NULL")),
    sa.Column("device_name", sa.String(255), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
    sa.Column("run_at", Time, nullable=False),
    sa.Column("lease_owner", sa.String(255)),
    sa.Column("lease_expires_at", Time),
    sa.Column("deadline_s", sa.Double),
    sa.Column("deadline_at", Time),
    sa.Column("exclusive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("repeatable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("error", sa.Text),
    sa.Column("error_kind", sa.String(64)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("started_at", Time),
    sa.Column("finished_at", Time),
    sa.Index(None, "job_id"),
    sa.Index(None, "device_id", "state"),
    sa.Index(None, "device_name", "job_id"),  # jobs that touched a device (?device=)
    sa.Index(
        "ix_tasks_ready",
        sa.text("priority DESC"),
        "run_at",
        "id",
        sqlite_where=sa.text("state IN ('queued', 'retrying')"),
        postgresql_where=sa.text("state IN ('queued', 'retrying')"),
    ),
    sa.Index(
        "ix_tasks_leases",
        "lease_expires_at",
        sqlite_where=sa.text("state = 'running'"),
        postgresql_where=sa.text("state = 'running'"),
    ),
    sqlite_autoincrement=True,
)

task_outputs = sa.Table(
    "task_outputs",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("task_id", BigId, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("command", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("parsed", sa.JSON),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("error_kind", sa.String(64)),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("duration_ms", sa.Double, nullable=False),
    sa.UniqueConstraint("task_id", "attempt", "seq"),
    sqlite_autoincrement=True,
)

task_events = sa.Table(
    "task_events",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("job_id", BigId, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_id", BigId, sa.ForeignKey("tasks.id", ondelete="CASCADE")),
    sa.Column("at", Time, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("data", sa.JSON),
    sa.Index(None, "job_id", "id"),
    sa.Index(None, "task_id"),
    sqlite_autoincrement=True,
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("heartbeat_at", Time, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("concurrency", sa.Integer, nullable=False),
    sa.Column("stats", sa.JSON),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_used_at", Time),
    sa.Column("revoked_at", Time),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Time, nullable=False, index=True),
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.String(2048), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("detail", sa.JSON),
)
