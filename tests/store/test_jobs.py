"""Contract: submit (validation, fan-out, idempotency), reads, cancel, retention, schema."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from netfleet.core.errors import Conflict, NotFound, ValidationError
from netfleet.core.models import CommandResult
from netfleet.jobs.model import JobSpec, parse_job_spec
from netfleet.store import SqlStore
from netfleet.store.records import JobFilter, TaskOutcome
from tests.support.store import add_devices, commands, device

OK = TaskOutcome("succeeded", [CommandResult("show version", "ok")])


async def test_migrate_is_idempotent_and_reaches_head(store: SqlStore) -> None:
    await store.migrate()
    version = await store.db.run(
        lambda c: c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    )
    from alembic.script import ScriptDirectory

    from netfleet.store import database

    head = ScriptDirectory(str(database._MIGRATIONS)).get_current_head()
    assert version == head
    tables = await store.db.run(lambda c: set(sa.inspect(c).get_table_names()))
    assert {"jobs", "tasks", "task_outputs", "device_slots", "schedules", "workers"} <= tables


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"targets": {"devices": ["nope"]}, "commands": ["show clock"]}, "targets.devices"),
        ({"targets": {"groups": ["nogroup"]}, "commands": ["show clock"]}, "targets.groups"),
        ({"targets": {"filter": "platform=vax_vms"}, "commands": ["x"]}, "unknown platform 'vax"),
        ({"targets": {"filter": "platform=linux"}, "commands": ["x"]}, "no device matches"),
        ({"targets": {"filter": "colour=red"}, "commands": ["x"]}, "targets.filter"),
        ({"targets": {"filter": "name=zz*"}, "commands": ["x"]}, "targets"),
    ],
)
async def test_submit_rejects_unknown_targets_and_stores_nothing(
    store: SqlStore, spec: dict[str, Any], field: str
) -> None:
    await add_devices(store, "r1")
    with pytest.raises(ValidationError, match=field):
        await store.jobs.submit(parse_job_spec(spec))
    assert (await store.jobs.list()).items == ()
    assert await store.claims.claim("w", 10, lease_s=30) == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"targets": {"devices": ["r1"]}, "commands": []}, "commands or config"),
        ({"targets": {"devices": ["r1"]}, "commands": ["a"], "config": ["b"]}, "exactly one"),
        ({"targets": {}, "commands": ["a"]}, "targets"),
        ({"targets": {"devices": ["r1"]}, "commands": ["x" * 70_000]}, "commands"),
        ({"targets": {"devices": ["r1"]}, "commands": ["a"] * 1001}, "commands"),
        ({"targets": {"devices": ["r1"]}, "config": ["x" * 1000] * 1100}, "config"),
        ({"targets": {"devices": [f"d{i}" for i in range(10_001)]}, "commands": ["a"]}, "devices"),
        ({"targets": {"devices": ["r1"]}, "commands": ["a"], "options": {"bogus": 1}}, "bogus"),
        (
            {"targets": {"devices": ["r1"]}, "config": ["a"], "options": {"max_attempts": 3}},
            "idempotent",
        ),
    ],
)
def test_job_spec_validation_names_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError, match=field) as caught:
        parse_job_spec(spec)
    assert "Value error" not in str(caught.value)  # pydantic's prefix is noise


async def test_fan_out_one_task_per_device(store: SqlStore) -> None:
    for name, groups in [("a1", ("edge",)), ("a2", ("edge", "core")), ("b1", ("core",))]:
        await store.devices.upsert(device(name, groups=groups))
    await add_devices(store, "solo")
    job = await store.jobs.submit(
        JobSpec.model_validate(
            {"targets": {"devices": ["solo", "a1"], "groups": ["edge"]}, "commands": ["show ip"]}
        )
    )
    full = await store.jobs.get(job.id)
    assert [t.device_name for t in full.tasks or ()] == ["a1", "a2", "solo"]
    assert full.counts.total == 3
    assert full.state == "queued"
    narrowed = await store.jobs.submit(
        JobSpec.model_validate(
            {"targets": {"groups": ["edge", "core"], "filter": "name=a*"}, "commands": ["x"]}
        )
    )
    assert [t.device_name for t in (await store.jobs.get(narrowed.id)).tasks or ()] == ["a1", "a2"]


async def test_idempotency_key_returns_the_existing_job(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2")
    first = await store.jobs.submit(commands("r1", idempotency_key="k1"))
    again = await store.jobs.submit(commands("r1", idempotency_key="k1"))
    assert again.id == first.id
    assert len((await store.jobs.list()).items) == 1
    with pytest.raises(Conflict, match="k1"):
        await store.jobs.submit(commands("r2", idempotency_key="k1"))


async def test_schedule_firing_creates_exactly_one_job(store: SqlStore) -> None:
    await add_devices(store, "r1")
    sid = await store.db.run(
        lambda c: c.execute(
            sa.text(
                "INSERT INTO schedules (name, kind, expression, timezone, job_template, "
                "created_at, updated_at) VALUES ('s', 'cron', '* * * * *', 'UTC', '{}', 0, 0) "
                "RETURNING id"
            )
        ).scalar_one()
    )
    a = await store.jobs.submit(commands("r1"), schedule_id=sid, fire_time=1000.0)
    b = await store.jobs.submit(commands("r1"), schedule_id=sid, fire_time=1000.0)
    c = await store.jobs.submit(commands("r1"), schedule_id=sid, fire_time=1060.0)
    assert a.id == b.id != c.id
    page = await store.jobs.list(JobFilter(schedule_id=sid))
    assert sorted(j.id for j in page.items) == sorted({a.id, c.id})


async def test_cancel_queued_job(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2")
    job = await store.jobs.submit(commands("r1", "r2"))
    cancelled = await store.jobs.cancel(job.id)
    assert cancelled.state == "cancelled"
    assert cancelled.finished_at is not None
    assert {t.state for t in cancelled.tasks or ()} == {"cancelled"}
    assert await store.claims.claim("w", 10, lease_s=30) == []
    with pytest.raises(Conflict, match="finished"):
        await store.jobs.cancel(job.id)
    with pytest.raises(NotFound):
        await store.jobs.cancel(123_456)


async def test_list_jobs_filters_and_pages(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2")
    ids = [(await store.jobs.submit(commands("r1" if i % 2 else "r2"))).id for i in range(5)]
    page1 = await store.jobs.list(limit=2)
    page2 = await store.jobs.list(limit=2, cursor=page1.next_cursor)
    assert [j.id for j in page1.items + page2.items] == sorted(ids, reverse=True)[:4]
    on_r1 = await store.jobs.list(JobFilter(device="r1"))
    assert sorted(j.id for j in on_r1.items) == ids[1::2]
    await store.jobs.cancel(ids[0])
    assert [j.id for j in (await store.jobs.list(JobFilter(states=("cancelled",)))).items] == [
        ids[0]
    ]
    now = await store.now()
    assert (await store.jobs.list(JobFilter(created_after=now + 60))).items == ()


async def test_retention_deletes_only_old_finished_jobs(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2")
    done = await store.jobs.submit(commands("r1"))
    (t,) = await store.claims.claim("w", 1, lease_s=30)
    await store.completions.complete(t.task_id, "w", t.attempt, OK)
    pending = await store.jobs.submit(commands("r2"))
    assert await store.jobs.delete_finished(3600) == 0
    assert await store.jobs.delete_finished(-1) == 1
    with pytest.raises(NotFound):
        await store.jobs.get(done.id)
    assert (await store.jobs.get(pending.id)).state == "queued"


async def test_events_record_the_story(store: SqlStore) -> None:
    from netfleet.store.records import NewEvent

    await add_devices(store, "r1")
    job = await store.jobs.submit(commands("r1"))
    (t,) = await store.claims.claim("w", 1, lease_s=30)
    await store.completions.record_events(
        "w", [NewEvent(t.task_id, "connected", "new session", {"new": 1})]
    )
    await store.completions.complete(t.task_id, "w", t.attempt, OK)
    events = await store.jobs.events(job.id)
    assert [e.kind for e in events] == ["submitted", "claimed", "connected", "succeeded"]
    assert events[2].data == {"new": 1, "worker": "w"}
    assert [e.kind for e in await store.jobs.events(job.id, after_id=events[1].id)] == [
        "connected",
        "succeeded",
    ]


async def test_ids_are_never_reused_after_deletion(store: SqlStore) -> None:
    await add_devices(store, "r1")
    first = await store.jobs.submit(commands("r1"))
    await store.jobs.cancel(first.id)
    assert await store.jobs.delete_finished(-1) == 1
    second = await store.jobs.submit(
        JobSpec.model_validate({"targets": {"devices": ["r1"]}, "commands": ["show clock"]})
    )
    assert second.id > first.id
    assert (await store.jobs.get(second.id)).spec.commands == ["show clock"]


def test_naive_run_at_is_utc() -> None:
    spec = commands("r1", run_at="2030-01-01T00:00:00")
    assert spec.options.run_at is not None
    assert spec.options.run_at.timestamp() == 1893456000.0


async def test_out_of_range_ids_are_not_found(store: SqlStore) -> None:
    huge = 343984607442905789397511176192
    with pytest.raises(NotFound):
        await store.jobs.get(huge)
    with pytest.raises(NotFound):
        await store.jobs.cancel(-1)
    assert (await store.jobs.list(cursor=huge)).items == ()
    assert (await store.jobs.list(JobFilter(schedule_id=huge))).items == ()
