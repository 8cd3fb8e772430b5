"""Schedules in the store: create, read, pause/resume, delete; bad input stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from netfleet.core.errors import Conflict, NotFound, ScheduleError
from netfleet.jobs.schedule import build_schedule
from netfleet.store import SqlStore
from tests.support.schedules import template


async def test_create_get_list_pause_resume_delete(store: SqlStore) -> None:
    spec = build_schedule(
        name="nightly", cron="30 2 * * *", timezone="Europe/Berlin", job_template=template()
    )
    created = await store.schedules.create(spec)
    assert created.id > 0
    assert created.next_fire_at is not None
    local = created.next_fire_at.astimezone(spec.tz)
    assert (local.hour, local.minute) in {(2, 30), (3, 0)}
    assert created.next_fire_at > datetime.now(UTC)

    assert await store.schedules.get("nightly") == created
    assert await store.schedules.get(created.id) == created
    assert created.spec == spec  # the round trip keeps every field

    paused = await store.schedules.set_enabled("nightly", False)
    assert not paused.enabled
    assert await store.schedules.list(enabled=True) == []
    resumed = await store.schedules.set_enabled(created.id, True)
    assert resumed.enabled
    assert resumed.next_fire_at == created.next_fire_at
    assert [s.name for s in await store.schedules.list()] == ["nightly"]

    with pytest.raises(Conflict, match="already exists"):
        await store.schedules.create(spec)
    await store.schedules.delete("nightly")
    with pytest.raises(NotFound, match="nightly"):
        await store.schedules.get("nightly")
    with pytest.raises(NotFound):
        await store.schedules.delete(created.id)


async def test_one_time_schedule_round_trip(store: SqlStore) -> None:
    at = datetime.now(UTC) + timedelta(hours=1)
    spec = build_schedule(name="once", at=at, timezone="America/New_York", job_template=template())
    created = await store.schedules.create(spec)
    assert created.spec.kind == "once"
    assert created.next_fire_at == at.replace(microsecond=at.microsecond)


async def _create(store: SqlStore, args: dict[str, Any]) -> None:
    await store.schedules.create(build_schedule(**args))


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"cron": "0 25 * * *"}, "field 2 (hour) '25'"),
        ({"cron": "* * * * * * *"}, "expected 5 fields"),
        ({"cron": "0 0 * * *", "timezone": "Europe/Atlantis"}, "unknown time zone"),
        (
            {
                "cron": "0 0 * * *",
                "start_at": _now() + timedelta(days=2),
                "end_at": _now() + timedelta(days=1),
            },
            "must be after start_at",
        ),
        ({"at": _now() - timedelta(minutes=1)}, "is in the past"),
        ({"at": "2020-01-01T00:00:00"}, "is in the past"),
        ({"at": "tomorrow"}, "not an ISO 8601"),
        ({"cron": "0 0 * * *", "at": _now() + timedelta(days=1)}, "exactly one of cron"),
        ({}, "exactly one of cron"),
        ({"cron": "0 0 * * *", "end_at": _now() - timedelta(days=1)}, "end_at"),
        ({"cron": "0 0 1 1 *", "end_at": _now() + timedelta(hours=1)}, "never fires"),
        ({"cron": "0 0 * * *", "misfire_policy": "sometimes"}, "misfire_policy"),
        ({"cron": "0 0 * * *", "overlap": "parallel"}, "overlap"),
        ({"cron": "0 0 * * *", "misfire_window_s": -1}, "misfire_window_s"),
        ({"at": "2030-03-31T02:30:00", "timezone": "Europe/Berlin"}, "does not exist"),
        ({"cron": "0 0 * * *", "name": ""}, "name"),
        ({"cron": "0 0 * * *", "name": "12"}, "all digits"),
    ],
)
async def test_bad_input_names_the_problem_and_stores_nothing(
    store: SqlStore, kwargs: dict[str, Any], needle: str
) -> None:
    args: dict[str, Any] = {"name": "bad", "job_template": template()} | kwargs
    with pytest.raises(ScheduleError) as info:
        await _create(store, args)
    assert needle in str(info.value)
    assert await store.schedules.list() == []


@pytest.mark.parametrize(
    ("job", "needle"),
    [
        ({"targets": {"devices": ["r1"]}}, "job template: invalid job"),
        (template("nope"), "unknown device(s) 'nope'"),
        (template(idempotency_key="k"), "idempotency_key"),
    ],
)
async def test_bad_job_template_is_rejected(
    store: SqlStore, job: dict[str, Any], needle: str
) -> None:
    with pytest.raises(ScheduleError) as info:
        await store.schedules.create(build_schedule(name="bad", cron="* * * * *", job_template=job))
    assert needle in str(info.value)
    assert await store.schedules.list() == []
