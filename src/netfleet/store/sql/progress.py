"""Read-only SQL of live streams: the progress of watched jobs, and which of the
watching tokens are still live (``netfleet.store.progress.StreamHub``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.store.schema import api_tokens, jobs, task_events

CHUNK = 500


@dataclass(frozen=True, slots=True)
class JobProgress:
    """What a stream shows of a job changes exactly when this does."""

    state: str
    counts: tuple[int, ...]
    cancel_requested: bool
    last_event_id: int


def job_progress(conn: Connection, job_ids: Sequence[int]) -> dict[int, JobProgress]:
    """The progress of each job of ``job_ids`` that exists, by id."""
    last = (
        sa.select(sa.func.max(task_events.c.id))
        .where(task_events.c.job_id == jobs.c.id)
        .scalar_subquery()
    )
    out: dict[int, JobProgress] = {}
    for start in range(0, len(job_ids), CHUNK):
        rows = conn.execute(
            sa.select(
                jobs.c.id,
                jobs.c.state,
                jobs.c.tasks_queued,
                jobs.c.tasks_retrying,
                jobs.c.tasks_running,
                jobs.c.tasks_succeeded,
                jobs.c.tasks_failed,
                jobs.c.tasks_cancelled,
                jobs.c.cancel_requested,
                last.label("last_event"),
            ).where(jobs.c.id.in_(job_ids[start : start + CHUNK]))
        )
        for r in rows:
            out[r.id] = JobProgress(
                r.state,
                (
                    r.tasks_queued,
                    r.tasks_retrying,
                    r.tasks_running,
                    r.tasks_succeeded,
                    r.tasks_failed,
                    r.tasks_cancelled,
                ),
                bool(r.cancel_requested),
                int(r.last_event or 0),
            )
    return out


def live_tokens(conn: Connection, token_ids: Sequence[int]) -> set[int]:
    """The ids of ``token_ids`` that exist and are not revoked."""
    live: set[int] = set()
    for start in range(0, len(token_ids), CHUNK):
        rows = conn.execute(
            sa.select(api_tokens.c.id).where(
                api_tokens.c.id.in_(token_ids[start : start + CHUNK]),
                api_tokens.c.revoked_at.is_(None),
            )
        )
        live.update(int(r.id) for r in rows)
    return live
