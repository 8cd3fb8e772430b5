"""Durable progress marks of config attempts: an orphaned or interrupted config attempt
that sent nothing runs again (even when not idempotent), one that began sending fails
as ``config_state_unknown``."""

from __future__ import annotations

import pytest

from netfleet.core.errors import LeaseLost
from netfleet.store import SqlStore
from netfleet.store.records import TaskOutcome
from tests.support.store import add_devices, config

SHUTDOWN = TaskOutcome(
    "failed",
    error="interrupted: the worker shut down",
    error_kind="worker_shutdown",
    transient=True,
    retryable=True,
)


async def test_orphaned_config_without_mark_is_requeued(store: SqlStore) -> None:
    await add_devices(store, "c1")
    job = await store.jobs.submit(config("c1"))
    (task,) = await store.claims.claim("w1", 1, lease_s=-1)
    assert task.max_attempts == 1  # not idempotent
    result = await store.claims.reap()
    assert result.requeued == (task.task_id,)
    (again,) = await store.claims.claim("w2", 1, lease_s=30)
    assert again.task_id == task.task_id
    assert again.attempt == 2
    # The new attempt marks, then its worker dies: now the state is unknown.
    await store.completions.mark_config(again.task_id, "w2", again.attempt, first_line="hostname x")
    await store.db.run(
        lambda c: c.exec_driver_sql("UPDATE tasks SET lease_expires_at = 0"), what="expire"
    )
    result = await store.claims.reap()
    assert result.failed == (task.task_id,)
    record = (await store.jobs.get(job.id)).tasks[0]  # type: ignore[index]
    assert record.error_kind == "config_state_unknown"
    assert record.error is not None
    assert "'hostname x'" in record.error


async def test_mark_is_fenced(store: SqlStore) -> None:
    await add_devices(store, "c1")
    await store.jobs.submit(config("c1"))
    (task,) = await store.claims.claim("w1", 1, lease_s=30)
    with pytest.raises(LeaseLost):
        await store.completions.mark_config(task.task_id, "other", task.attempt)
    with pytest.raises(LeaseLost):
        await store.completions.mark_config(task.task_id, "w1", task.attempt + 1)


@pytest.mark.parametrize("marked", [False, True])
async def test_shutdown_of_config_by_mark(store: SqlStore, marked: bool) -> None:
    await add_devices(store, "c1")
    job = await store.jobs.submit(config("c1"))
    (task,) = await store.claims.claim("w1", 1, lease_s=30)
    if marked:
        await store.completions.mark_config(task.task_id, "w1", task.attempt, first_line="a")
    done = await store.completions.complete(task.task_id, "w1", task.attempt, SHUTDOWN)
    record = (await store.jobs.get(job.id)).tasks[0]  # type: ignore[index]
    if marked:
        assert done.state == "failed"
        assert record.error_kind == "config_state_unknown"
    else:  # nothing was sent: it runs again although the config is not idempotent
        assert done.state == "retrying"
        assert record.error_kind == "worker_shutdown"
