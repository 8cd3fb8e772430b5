"""Three ``netfleet worker`` processes (scheduler on, the default) on one PostgreSQL
database, in real (database) time: every firing creates exactly one job, none is missed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import Settings
from netfleet.jobs.schedule import build_schedule
from netfleet.store import open_store
from netfleet.store.records import JobFilter
from netfleet.store.schema import jobs
from tests.support.schedules import KEY, start_worker, template

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PROCESSES = 3
LEAD_S = 3
"""Seconds from creating the schedules to their first firing (the workers start meanwhile)."""
SPAN_S = 6
EXPRESSIONS = {"every-second": "* * * * * *", "even-seconds": "*/2 * * * * *"}


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=20)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


async def test_three_worker_processes_fire_each_firing_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    store = await open_store(pg_url, settings=Settings(secret_key=KEY.decode()))
    workers: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"worker{i}.log" for i in range(PROCESSES)]
    try:
        # Port 1 refuses at once: each job fails fast, so overlap control never holds long.
        await store.devices.upsert(
            DeviceSpec(name="r1", host="127.0.0.1", port=1, platform="cisco_ios",
                       credentials=(Credential("admin", password="pw", name="lab"),))
        )  # fmt: skip
        now = datetime.fromtimestamp(await store.now(), UTC)
        base = now.replace(microsecond=0) + timedelta(seconds=LEAD_S)
        end = base + timedelta(seconds=SPAN_S)
        schedules = [
            await store.schedules.create(
                build_schedule(
                    name=name,
                    cron=expr,
                    start_at=base,
                    end_at=end,
                    job_template=template("r1", max_attempts=1),
                ),
            )
            for name, expr in EXPRESSIONS.items()
        ]
        env = {
            **os.environ,
            "NETFLEET_SECRET_KEY": KEY.decode(),
            "NETFLEET_CONFIG": str(tmp_path / "absent.toml"),
            "NETFLEET_CONNECT__KNOWN_HOSTS": str(tmp_path / "known_hosts"),
            "NETFLEET_WORKER__POLL_SECONDS": "0.1",
        }
        workers = [start_worker(pg_url, env, log) for log in logs]

        def tails() -> str:
            return "\n".join(log.read_text(errors="replace")[-1500:] for log in logs)

        for _ in range(600):
            current = [await store.schedules.get(s.id) for s in schedules]
            busy = await store.jobs.list(JobFilter(states=("queued", "running")), limit=1)
            if all(s.finished for s in current) and not busy.items:
                break
            assert all(w.poll() is None for w in workers), tails()
            await asyncio.sleep(0.1)
        else:
            pytest.fail(f"the schedules did not finish firing\n{tails()}")

        def count(conn: sa.Connection) -> Counter[tuple[int, float]]:
            rows = conn.execute(sa.select(jobs.c.schedule_id, jobs.c.fire_time))
            return Counter((int(r[0]), float(r[1])) for r in rows)

        per_firing = await store.db.run(count, write=False)
        assert set(per_firing.values()) == {1}, per_firing  # no duplicate
        for s in schedules:
            step = 2 if s.name == "even-seconds" else 1
            expected = [
                t.timestamp()
                for t in (base + timedelta(seconds=i) for i in range(SPAN_S + 1))
                if t.second % step == 0
            ]
            fired = sorted(t for (sid, t) in per_firing if sid == s.id)
            assert fired == expected, (s.name, tails())  # none missed
    finally:
        _stop(workers)
        await store.close()
