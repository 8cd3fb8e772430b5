"""Job SQL: submit (fan-out), job counters, records, cancel, retention.

Targets are resolved by ``targets``.

A job row keeps counters of its tasks' states; every state change updates
them in the same transaction and re-derives the job's state from them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from netfleet.core.errors import Conflict, NotFound
from netfleet.jobs.gates import sticky_state
from netfleet.jobs.model import (
    READY_TASK_STATES,
    TERMINAL_TASK_STATES,
    JobSpec,
    JobState,
    TaskCounts,
    derive_job_state,
)
from netfleet.store.records import CommandOutput, JobRecord, TaskRecord
from netfleet.store.schema import jobs, task_events, task_outputs, tasks
from netfleet.store.sql import gates, outbox
from netfleet.store.sql import statements as st
from netfleet.store.sql.targets import resolve_targets as resolve_targets

COUNTER = {
    "queued": "tasks_queued",
    "retrying": "tasks_retrying",
    "running": "tasks_running",
    "succeeded": "tasks_succeeded",
    "failed": "tasks_failed",
    "cancelled": "tasks_cancelled",
}


SPEC_OVERHEAD = 5_000
"""A parsed spec's size beyond its JSON text's length (measured: 5.4 KB with one device)."""


class SpecCache:
    """Parsed job specs by job id (specs never change after submit), least recently used
    out first beyond ``size`` specs or an estimated ``max_bytes`` (``SPEC_OVERHEAD`` plus
    the JSON text's length a spec).

    By count alone, a worker kept 2,048 specs of finished jobs: 11 MiB of one-device specs,
    14 MiB of 200-device ones. Jobs in flight stay (claims use them); a miss is one SELECT.
    """

    def __init__(self, size: int = 2048, max_bytes: int = 4 * 2**20) -> None:
        self._items: OrderedDict[int, tuple[JobSpec, int]] = OrderedDict()
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def estimated_bytes(self) -> int:
        return self._bytes

    def get(self, job_id: int, text: str | None = None, conn: Connection | None = None) -> JobSpec:
        with self._lock:
            item = self._items.get(job_id)
            if item is not None:
                self._items.move_to_end(job_id)
                return item[0]
        if text is None:
            assert conn is not None
            text = conn.execute(sa.select(jobs.c.spec).where(jobs.c.id == job_id)).scalar()
            if text is None:
                raise NotFound(f"job {job_id} not found")
        spec = JobSpec.model_validate_json(text)
        weight = SPEC_OVERHEAD + len(text)
        with self._lock:
            old = self._items.pop(job_id, None)
            if old is not None:  # another thread parsed it meanwhile
                self._bytes -= old[1]
            self._items[job_id] = (spec, weight)
            self._bytes += weight
            while len(self._items) > 1 and (
                len(self._items) > self._size or self._bytes > self._max_bytes
            ):
                self._bytes -= self._items.popitem(last=False)[1][1]
        return spec


# --- submit -------------------------------------------------------------------


def find_existing(
    conn: Connection, spec: JobSpec, schedule_id: int | None, fire_time: float | None
) -> int | None:
    """The id of the job this submission repeats (same idempotency key or schedule firing)."""
    key = spec.options.idempotency_key
    if key is not None:
        row = conn.execute(
            sa.select(jobs.c.id, jobs.c.spec).where(jobs.c.idempotency_key == key)
        ).first()
        if row is not None:
            if JobSpec.model_validate_json(row.spec) != spec:
                raise Conflict(f"idempotency key {key!r} was used for a different job {row.id}")
            return int(row.id)
    if schedule_id is not None and fire_time is not None:
        found = conn.execute(
            sa.select(jobs.c.id).where(
                jobs.c.schedule_id == schedule_id, jobs.c.fire_time == fire_time
            )
        ).scalar()
        return None if found is None else int(found)
    return None


def insert_job(
    conn: Connection,
    spec: JobSpec,
    now: float,
    *,
    schedule_id: int | None = None,
    fire_time: float | None = None,
    notify: bool = False,
    submitted_by: str | None = None,
) -> tuple[int, bool]:
    """Store ``spec`` and fan out one task per device; returns (job id, created).

    Repeats (idempotency key, schedule firing) return the existing job, created=False.
    Approval, change windows and rollouts may hold the tasks back (``gates``).
    """
    existing = find_existing(conn, spec, schedule_id, fire_time)
    if existing is not None:
        return existing, False
    targets = resolve_targets(conn, spec)
    state: JobState = "queued"
    try:
        with conn.begin_nested():
            job_id = conn.execute(
                jobs.insert()
                .values(
                    name=spec.name,
                    kind=spec.kind,
                    spec=spec.model_dump_json(),
                    state=state,
                    tasks_total=len(targets),
                    tasks_queued=len(targets),
                    priority=spec.options.priority,
                    schedule_id=schedule_id,
                    fire_time=fire_time,
                    idempotency_key=spec.options.idempotency_key,
                    created_at=now,
                )
                .returning(jobs.c.id)
            ).scalar_one()
    except sa.exc.IntegrityError:
        existing = find_existing(conn, spec, schedule_id, fire_time)
        if existing is None:
            raise
        return existing, False
    run_at = spec.options.run_at.timestamp() if spec.options.run_at else now
    common = {
        "job_id": job_id,
        "state": "queued",
        "max_attempts": spec.max_attempts,
        "priority": spec.options.priority,
        "run_at": run_at,
        "deadline_s": spec.options.task_deadline_s,
        "exclusive": spec.exclusive,
        "repeatable": spec.repeatable,
        "created_at": now,
    }
    conn.execute(tasks.insert(), [{**common, "device_id": i, "device_name": n} for i, n in targets])
    conn.execute(
        task_events.insert().values(
            job_id=job_id,
            at=now,
            kind="submitted",
            message=f"{len(targets)} task(s) queued",
            data={"tasks": len(targets)},
        )
    )
    gates.gate_new_job(conn, job_id, spec, targets, now, submitted_by)
    if notify:
        conn.execute(st.NOTIFY)
    return int(job_id), True


# --- counters -----------------------------------------------------------------


def apply_transitions(
    conn: Connection,
    changes: Mapping[int, Mapping[tuple[str, str], int]],
    now: float,
    *,
    wanted: frozenset[str] | None = None,
) -> dict[int, JobState]:
    """Apply task state changes ``{job_id: {(old, new): n}}`` to job counters; re-derive
    each job's state (and ``finished_at``), keeping a gate's state; advance the gates of
    jobs whose tasks finished. Returns the jobs' new states. ``wanted``: the rule
    events ``outbox.rule_checks`` found, when the caller read them."""
    out: dict[int, JobState] = {}
    finishing: dict[int, Row[Any]] = {}
    for job_id in sorted(changes):
        deltas: dict[str, int] = {}
        for (old, new), n in changes[job_id].items():
            if COUNTER[old] != COUNTER[new]:
                deltas[COUNTER[old]] = deltas.get(COUNTER[old], 0) - n
                deltas[COUNTER[new]] = deltas.get(COUNTER[new], 0) + n
        if not deltas:
            state = conn.execute(sa.select(jobs.c.state).where(jobs.c.id == job_id)).scalar()
            out[job_id] = state or "queued"
            continue
        params = {f"p_{c}": deltas.get(c, 0) for c in st.COUNTERS}
        row = conn.execute(st.BUMP_JOB, {"p_job": job_id, **params}).first()
        if row is None:
            continue
        state = sticky_state(row.state, derive_job_state(counts_of(row)))
        if any(new in TERMINAL_TASK_STATES for _, new in changes[job_id]):
            finishing[job_id] = row
        if state != row.state:
            finished = state not in ("queued", "running")
            conn.execute(
                st.SET_JOB_STATE,
                {"p_job": job_id, "p_state": state, "p_finished_at": now if finished else None},
            )
            if finished:
                counts = {"total": row.tasks_total, "succeeded": row.tasks_succeeded,
                          "failed": row.tasks_failed, "cancelled": row.tasks_cancelled}  # fmt: skip
                outbox.job_finished(conn, job_id, state, now, counts, wanted)
        out[job_id] = state
    if finishing:
        out.update(gates.after_transitions(conn, finishing, out, now))
    return out


def counts_of(row: Row[Any]) -> TaskCounts:
    return TaskCounts(
        queued=row.tasks_queued,
        retrying=row.tasks_retrying,
        running=row.tasks_running,
        succeeded=row.tasks_succeeded,
        failed=row.tasks_failed,
        cancelled=row.tasks_cancelled,
    )


# --- records ------------------------------------------------------------------


def job_record(
    row: Row[Any], specs: SpecCache, task_records: tuple[TaskRecord, ...] | None
) -> JobRecord:
    m = row._mapping
    return JobRecord(
        id=m["id"],
        state=m["state"],
        spec=specs.get(m["id"], m["spec"]),
        counts=counts_of(row),
        created_at=m["created_at"],
        finished_at=m["finished_at"],
        schedule_id=m["schedule_id"],
        fire_time=m["fire_time"],
        idempotency_key=m["idempotency_key"],
        cancel_requested=bool(m["cancel_requested"]),
        tasks=task_records,
    )


def task_record(row: Row[Any], outputs: tuple[CommandOutput, ...] = ()) -> TaskRecord:
    m = row._mapping
    return TaskRecord(
        id=m["id"],
        job_id=m["job_id"],
        device_id=m["device_id"],
        device_name=m["device_name"],
        state=m["state"],
        attempt=m["attempt"],
        max_attempts=m["max_attempts"],
        priority=m["priority"],
        run_at=m["run_at"],
        lease_owner=m["lease_owner"],
        lease_expires_at=m["lease_expires_at"],
        deadline_at=m["deadline_at"],
        exclusive=bool(m["exclusive"]),
        cancel_requested=bool(m["cancel_requested"]),
        error=m["error"],
        error_kind=m["error_kind"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        outputs=outputs,
    )


def output_record(row: Row[Any]) -> CommandOutput:
    m = row._mapping
    return CommandOutput(
        task_id=m["task_id"],
        attempt=m["attempt"],
        seq=m["seq"],
        command=m["command"],
        output=m["output"],
        parsed=m["parsed"],
        ok=bool(m["ok"]),
        error=m["error"],
        error_kind=m["error_kind"],
        started_at=m["started_at"],
        duration_ms=m["duration_ms"],
    )


# --- cancel and retention -----------------------------------------------------


def cancel_job(conn: Connection, job_id: int, now: float) -> None:
    """Cancel queued tasks now, flag running ones; ``Conflict`` if the job has finished."""
    row = conn.execute(
        sa.select(jobs.c.state, jobs.c.finished_at).where(jobs.c.id == job_id)
    ).first()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    if row.finished_at is not None:
        raise Conflict(f"job {job_id} has already finished ({row.state})")
    moved: dict[tuple[str, str], int] = {}
    for old in sorted(READY_TASK_STATES):
        moved[(old, "cancelled")] = conn.execute(
            tasks.update()
            .where(tasks.c.job_id == job_id, tasks.c.state == old)
            .values(
                state="cancelled",
                finished_at=now,
                error="cancelled before it ran",
                error_kind="cancelled",
            )
        ).rowcount
    cancelled = sum(moved.values())
    flagged = conn.execute(
        tasks.update()
        .where(tasks.c.job_id == job_id, tasks.c.state == "running")
        .values(cancel_requested=True)
        .returning(tasks.c.id)
    ).all()
    conn.execute(jobs.update().where(jobs.c.id == job_id).values(cancel_requested=True))
    if cancelled:
        apply_transitions(conn, {job_id: moved}, now)
    conn.execute(
        task_events.insert().values(
            job_id=job_id,
            at=now,
            kind="cancel_requested",
            message=f"{cancelled} queued task(s) cancelled, {len(flagged)} running asked to stop",
            data={"cancelled": cancelled, "running": len(flagged)},
        )
    )


def delete_finished_jobs(conn: Connection, cutoff: float, batch: int = 500) -> int:
    """Delete up to ``batch`` jobs finished before ``cutoff`` (cascading to tasks etc.)."""
    ids = (
        conn.execute(
            sa.select(jobs.c.id).where(jobs.c.finished_at < cutoff).order_by(jobs.c.id).limit(batch)
        )
        .scalars()
        .all()
    )
    if not ids:
        return 0
    _delete_jobs(conn, ids)
    return len(ids)


def _delete_jobs(conn: Connection, ids: Sequence[int]) -> None:
    """Delete jobs ``ids`` with their outputs, events and tasks."""
    task_ids = sa.select(tasks.c.id).where(tasks.c.job_id.in_(ids))
    conn.execute(task_outputs.delete().where(task_outputs.c.task_id.in_(task_ids)))
    conn.execute(task_events.delete().where(task_events.c.job_id.in_(ids)))
    conn.execute(tasks.delete().where(tasks.c.job_id.in_(ids)))
    conn.execute(jobs.delete().where(jobs.c.id.in_(ids)))


def delete_job(conn: Connection, job_id: int) -> None:
    """Delete a finished job with its tasks, outputs and events.

    ``NotFound`` if absent, ``Conflict`` while it is still queued or running."""
    row = conn.execute(
        sa.select(jobs.c.state, jobs.c.finished_at).where(jobs.c.id == job_id)
    ).first()
    if row is None:
        raise NotFound(f"job {job_id} not found")
    if row.finished_at is None:
        raise Conflict(f"job {job_id} is {row.state}; cancel it or wait until it finishes")
    _delete_jobs(conn, [job_id])
