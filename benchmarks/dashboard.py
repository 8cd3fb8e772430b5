"""Dashboard page times on a large SQLite store: 10,000 devices and 100,000 tasks.

Seeds a store through its façades (devices imported, 100 jobs of 1,000 tasks each
submitted by group), then finishes most tasks in bulk with plain SQL (seeding only:
setting 100,000 rows through the claim path would dominate the run) and completes
a few hundred through the real claim/complete path, with outputs and parsed rows.
Every page is then fetched in-process (the service app with the dashboard, signed
in as admin, over httpx's ASGI transport), interleaved round-robin so that
background load hits all pages alike. The baseline is the dashboard's 404 page
(sign-in check + the page frame, no data). Prints median and p95 per page, the ratio
to the baseline, and whether each stays under the 300 ms target.

    .venv/bin/python benchmarks/dashboard.py            # 10,000 devices, 100,000 tasks
    .venv/bin/python benchmarks/dashboard.py --smoke    # 1,000 devices, 10,000 tasks
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from netfleet.api import create_app
from netfleet.core.models import CommandResult, Credential, DeviceSpec
from netfleet.core.settings import DatabaseSettings, ServiceSettings, Settings
from netfleet.jobs.model import parse_job_spec
from netfleet.store import SqlStore, open_store
from netfleet.store.records import TaskOutcome
from netfleet.web import mount_dashboard

TARGET_MS = 300.0
BASE = "http://bench.test"
PLATFORMS = ("cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos")


async def seed(store: SqlStore, path: Path, devices: int, tasks: int) -> dict[str, str]:
    """The store filled; returns ids and names the pages are opened with."""
    cred = Credential(username="netops", password="bench-pw", name="bench")
    per_job = min(1000, devices)
    groups = max(1, devices // per_job)
    specs = [
        DeviceSpec(
            name=f"dev-{i:05d}",
            host=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            port=22,
            platform=PLATFORMS[i % len(PLATFORMS)],
            credentials=(cred,) if i == 0 else (Credential(username="netops", name="bench"),),
            groups=(f"g{i % groups:02d}", "all"),
            tags=("dc1" if i % 2 else "dc2",),
        )
        for i in range(devices)
    ]
    await store.devices.import_many(specs[:1])
    report = await store.devices.import_many(specs[1:])
    failed = [r for r in report.rows if getattr(r, "error", None)]
    if failed:
        raise SystemExit(f"seeding failed: {failed[:3]}")
    jobs = tasks // per_job
    for n in range(jobs):
        spec = parse_job_spec(
            {
                "name": f"audit {n}",
                "targets": {"groups": [f"g{n % groups:02d}"]},
                "commands": ["show version", "show ip interface brief"],
                "options": {"parse": "textfsm"},
            }
        )
        await store.jobs.submit(spec)
    finished_jobs = max(1, jobs - 2)
    now = time.time()
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "UPDATE tasks SET state = CASE WHEN id % 50 = 0 THEN 'failed' ELSE 'succeeded' END,"
            " attempt = 1, started_at = ?, finished_at = ?,"
            " error = CASE WHEN id % 50 = 0 THEN 'timed out waiting for the prompt' END,"
            " error_kind = CASE WHEN id % 50 = 0 THEN 'timeout' END WHERE job_id <= ?",
            (now - 3600, now - 3590, finished_jobs),
        )
        db.execute(
            "UPDATE jobs SET tasks_queued = 0,"
            " tasks_failed = (SELECT count(*) FROM tasks t WHERE t.job_id = jobs.id"
            " AND t.state = 'failed'),"
            " tasks_succeeded = (SELECT count(*) FROM tasks t WHERE t.job_id = jobs.id"
            " AND t.state = 'succeeded'), state = 'partial', finished_at = ? WHERE id <= ?",
            (now - 3590, finished_jobs),
        )
        db.execute("UPDATE device_slots SET running = 0")
    db.close()
    rows = [{"intf": f"Gi0/{k}", "ipaddr": f"192.0.2.{k}", "status": "up"} for k in range(48)]
    done = 0
    last_task = 0
    while done < 300 and (claimed := await store.claims.claim("bench-worker", 100, lease_s=60)):
        for task in claimed:
            results = [
                CommandResult(command="show version", output="Cisco IOS Software\n" * 40),
                CommandResult(
                    command="show ip interface brief", output="Interface  IP\n" * 48, parsed=rows
                ),
            ]
            outcome = TaskOutcome(status="succeeded", outputs=results)
            await store.completions.complete(task.task_id, "bench-worker", task.attempt, outcome)
            last_task = task.task_id
            done += 1
    busy = await store.devices.get("dev-00000")
    return {
        "big_job": str(jobs),
        "task": str(last_task),
        "device": busy.name,
        "group": "g00",
    }


def pages(ids: dict[str, str]) -> dict[str, str]:
    return {
        "404 page (baseline)": "/ui/no-such-page",
        "overview": "/ui/",
        "jobs list": "/ui/jobs",
        "jobs list, failed": "/ui/jobs?state=partial",
        "jobs on a device": f"/ui/jobs?device={ids['device']}",
        "job detail (1,000 tasks)": f"/ui/jobs/{ids['big_job']}",
        "job tasks filtered": f"/ui/jobs/{ids['big_job']}?state=queued&device=dev-0*",
        "task with parsed rows": f"/ui/tasks/{ids['task']}",
        "devices list": "/ui/devices",
        "devices by glob": "/ui/devices?name=dev-09*",
        "device detail": f"/ui/devices/{ids['device']}",
        "new job form": "/ui/jobs/new",
        "targets preview, a group": f"/ui/targets/preview?groups={ids['group']}",
        "targets preview, filter on all": "/ui/targets/preview?filter=platform%3Dcisco_*",
        "schedule preview": "/ui/schedules/preview?cron=30+2+*+*+*&timezone=Europe/Berlin",
        "schedules": "/ui/schedules",
        "workers": "/ui/workers",
    }


async def measure(
    client: httpx.AsyncClient, paths: dict[str, str], rounds: int
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in paths}
    for name, path in paths.items():  # warm-up (template compile, caches)
        r = await client.get(path)
        expected = 404 if "baseline" in name else 200
        if r.status_code != expected:
            raise SystemExit(f"{name}: {path} answered {r.status_code}: {r.text[:300]}")
    for _ in range(rounds):
        for name, path in paths.items():
            t0 = time.perf_counter()
            await client.get(path)
            times[name].append((time.perf_counter() - t0) * 1000.0)
    return times


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="1,000 devices, 10,000 tasks")
    parser.add_argument("--devices", type=int)
    parser.add_argument("--tasks", type=int)
    parser.add_argument("--rounds", type=int)
    args = parser.parse_args()
    devices = args.devices or (1000 if args.smoke else 10_000)
    tasks = args.tasks or (10_000 if args.smoke else 100_000)
    rounds = args.rounds or (5 if args.smoke else 15)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        settings = Settings(
            database=DatabaseSettings(url=f"sqlite:///{path}"),
            service=ServiceSettings(key_file=Path(tmp) / "secret.key"),
        )
        store = await open_store(
            settings.database.url, settings=settings, secret_key=Fernet.generate_key()
        )
        try:
            t0 = time.perf_counter()
            ids = await seed(store, path, devices, tasks)
            seeded = time.perf_counter() - t0
            _, token = await store.tokens.create("bench-admin", "admin")
            app = create_app(store, settings, metrics_max_age_s=0.0)
            if not hasattr(app.state, "dashboard"):
                mount_dashboard(app)
            app.state.dashboard.overview_max_age_s = 0.0  # measure the queries, not the cache
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                login = await client.get("/ui/login")
                nonce = re.search(r'name="nonce" value="([^"]+)"', login.text)
                assert nonce, "no login nonce"
                r = await client.post(
                    "/ui/login", data={"token": token, "nonce": nonce.group(1), "next": "/ui/"}
                )
                assert r.status_code == 303, r.text
                times = await measure(client, pages(ids), rounds)
        finally:
            await store.close()
    base = statistics.median(times["404 page (baseline)"])
    print(
        f"dashboard pages: {devices:,} devices, {tasks:,} tasks (seeded in {seeded:.1f} s), "
        f"{rounds} rounds, in-process"
    )
    print(f"{'page':34} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}  < {TARGET_MS:.0f} ms")
    worst = 0.0
    for name, values in times.items():
        values.sort()
        med = statistics.median(values)
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        worst = max(worst, p95)
        ok = "yes" if p95 < TARGET_MS else "NO"
        print(f"{name:34} {med:10.1f} {p95:8.1f} {med / base:11.1f}  {ok}")
    print(f"slowest p95: {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
    if not args.smoke and worst >= TARGET_MS:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
