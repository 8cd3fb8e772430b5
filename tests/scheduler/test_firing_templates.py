"""A scheduled template job is all or nothing at each firing, as a submitted one is."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from netfleet.jobs.schedule import build_schedule
from netfleet.scheduler import Scheduler
from netfleet.store import SqlStore
from tests.support.schedules import Clock


async def test_firing_whose_template_fails_for_one_target_creates_no_job(
    store: SqlStore,
) -> None:
    for name in ("r1", "r2"):
        spec = (await store.devices.get(name)).spec
        await store.devices.upsert(dataclasses.replace(spec, data={"ntp": "192.0.2.1"}))
    base = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    schedule = await store.schedules.create(
        build_schedule(
            name="ntp",
            cron="* * * * *",
            job_template={
                "targets": {"devices": ["r1", "r2"]},
                "template": "ntp server {{ vars.ntp }}",
            },
            start_at=base,
        )
    )
    # The inventory changes after the schedule was made: r2 loses its variable.
    spec = (await store.devices.get("r2")).spec
    await store.devices.upsert(dataclasses.replace(spec, data={}))
    report = await Scheduler(store, now=Clock(base.timestamp() + 5), grace_s=30).tick()
    assert report.created == 0
    assert report.errors == 1
    assert await store.schedules.fired_times(schedule.id) == []
