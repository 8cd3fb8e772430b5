"""``netfleet serve`` as a real process: HTTP on a free port, embedded worker, scheduler."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from netfleet.core.settings import ServiceSettings, Settings
from netfleet.store import open_store
from netfleet_sim import Simulator
from tests.support.api import SIM_ENABLE, SIM_PASSWORD
from tests.support.patience import PATIENCE
from tests.support.worker import eventually

NETFLEET = [sys.executable, "-c", "from netfleet.cli.app import main; main()"]
PRESET = "nf_preset-admin-token-for-tests-0123456789"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETFLEET_")}
    env.update(
        NETFLEET_CONFIG=str(tmp_path / "absent.toml"),
        NETFLEET_SERVICE__KEY_FILE=str(tmp_path / "secret.key"),
        NETFLEET_CONNECT__KNOWN_HOSTS=str(tmp_path / "known_hosts"),
        NETFLEET_LOG__FORMAT="json",
        NETFLEET_WORKER__POLL_SECONDS="0.1",
        NETFLEET_WORKER__HEARTBEAT_SECONDS="0.5",
        **extra,
    )
    return env


class Served:
    def __init__(
        self, proc: asyncio.subprocess.Process, url: str, first_lines: list[str], tmp_path: Path
    ) -> None:
        self.proc = proc
        self.url = url
        self.first_lines = first_lines
        self.tmp_path = tmp_path

    async def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.proc.communicate(), timeout=30 * PATIENCE)
        assert self.proc.returncode is not None
        return self.proc.returncode, err.decode()


async def start(tmp_path: Path, env: dict[str, str], *args: str) -> Served:
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    proc = await asyncio.create_subprocess_exec(
        *NETFLEET, "serve", "--db", db, "--port", "0", *args,
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), timeout=30 * PATIENCE)
        if not raw:
            _, err = await proc.communicate()
            pytest.fail(f"netfleet serve exited early: {err.decode()[-2000:]}")
        line = raw.decode().strip()
        lines.append(line)
        if "serving on" in line:
            url = line.split("serving on ", 1)[1].split()[0]
            return Served(proc, url, lines, tmp_path)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    s = await start(tmp_path, _env(tmp_path, NETFLEET_ADMIN_TOKEN=PRESET))
    try:
        yield s
    finally:
        if s.proc.returncode is None:
            s.proc.kill()
            await s.proc.wait()


async def _job_state(tmp_path: Path, job_id: int) -> str:
    settings = Settings(service=ServiceSettings(key_file=tmp_path / "secret.key"))
    store = await open_store(f"sqlite:///{tmp_path / 'serve.db'}", settings=settings)
    try:
        job = await store.jobs.get(job_id, tasks=False, outputs=False)
        return job.state
    finally:
        await store.close()


async def _finished(c: httpx.AsyncClient, job_id: int) -> dict[str, object]:
    for _ in range(400):
        job: dict[str, object] = (await c.get(f"/api/v1/jobs/{job_id}")).json()
        if job["finished_at"] is not None:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


@pytest.mark.slow
async def test_serve_runs_jobs_and_schedules_over_http(served: Served) -> None:
    assert not any("admin token" in line for line in served.first_lines)  # preset: not printed
    async with (
        Simulator(devices=2, platforms=["cisco_ios"], password=SIM_PASSWORD,
                  enable_secret=SIM_ENABLE) as sim,
        httpx.AsyncClient(base_url=served.url, headers={"Authorization": f"Bearer {PRESET}"},
                          timeout=10) as c,
    ):  # fmt: skip
        assert (await c.get("/readyz")).status_code == 200
        r = await c.post(
            "/api/v1/credentials",
            json={"name": "lab", "username": "admin", "password": SIM_PASSWORD,
                  "enable_secret": SIM_ENABLE},
        )  # fmt: skip
        assert r.status_code == 201
        for dev in sim.devices:
            r = await c.put(
                f"/api/v1/devices/{dev.name}",
                json={"host": dev.host, "port": dev.port, "platform": dev.platform,
                      "credentials": ["lab"], "groups": ["lab"]},
            )  # fmt: skip
            assert r.status_code == 201, r.text

        r = await c.post(
            "/api/v1/jobs", json={"targets": {"groups": ["lab"]}, "commands": ["show version"]}
        )
        job = await _finished(c, r.json()["id"])
        assert job["state"] == "succeeded"
        outputs = [t["results"][0]["output"] for t in job["tasks"]]  # type: ignore[attr-defined]
        assert all("Cisco IOS" in o for o in outputs)

        at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        r = await c.post(
            "/api/v1/jobs",
            json={"targets": {"devices": [sim.devices[0].name]}, "commands": ["show clock"],
                  "run_at": at},
        )  # fmt: skip
        once = await _finished(c, r.json()["id"])
        assert once["state"] == "succeeded"

        r = await c.post(
            "/api/v1/schedules",
            json={"name": "tick", "cron": "* * * * * *",
                  "job": {"targets": {"groups": ["lab"]}, "commands": ["show clock"]}},
        )  # fmt: skip
        sid = r.json()["id"]
        fired: list[dict[str, object]] = []
        for _ in range(200):
            fired = (await c.get("/api/v1/jobs", params={"schedule": sid})).json()["items"]
            if len(fired) >= 2:
                break
            await asyncio.sleep(0.05)
        assert len(fired) >= 2
        await c.post(f"/api/v1/schedules/{sid}/pause")
        fired_job = await _finished(c, int(str(fired[-1]["id"])))
        assert fired_job["state"] == "succeeded"

        workers = (await c.get("/api/v1/workers")).json()["items"]
        assert len(workers) == 1

        # SIGTERM while a task runs: the worker drains it before the process exits.
        sim.devices[1].set_faults(latency_ms=1500)
        r = await c.post(
            "/api/v1/jobs",
            json={"targets": {"devices": [sim.devices[1].name]}, "commands": ["show version"]},
        )
        slow_id = r.json()["id"]
        state = ""
        for _ in range(200):
            state = (await c.get(f"/api/v1/jobs/{slow_id}")).json()["state"]
            if state == "running":
                break
            await asyncio.sleep(0.02)
        assert state == "running"
        code, err = await served.stop()

    assert await _job_state(served.tmp_path, slow_id) == "succeeded"
    assert code == 0, err[-2000:]
    assert '"event": "service stopped"' in err
    assert '"path": "/api/v1/jobs"' in err  # request log lines
    for secret in (SIM_PASSWORD, SIM_ENABLE, PRESET):
        assert secret not in err


async def test_first_start_prints_a_one_time_admin_token(tmp_path: Path) -> None:
    s = await start(tmp_path, _env(tmp_path), "--workers", "0")
    token = next(line for line in s.first_lines if "admin token" in line).split()[-1]
    async with httpx.AsyncClient(base_url=s.url) as c:
        r = await c.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert r.json() == {"name": "admin", "role": "admin"}
        assert (
            await c.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"})
        ).json()["embedded"] is None
    code, _ = await s.stop()
    assert code == 0
    # Started again (no new token), with a worker but the scheduler turned off.
    again = await start(tmp_path, _env(tmp_path, NETFLEET_WORKER__SCHEDULER="false"))
    assert not any("admin token" in line for line in again.first_lines)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=again.url, headers=auth) as c:
        device = {"name": "r1", "host": "127.0.0.1", "platform": "cisco_ios"}
        assert (await c.post("/api/v1/devices", json=device)).status_code == 201
        # Due every second: no ``at`` that a slow request could find in the past (422).
        r = await c.post("/api/v1/schedules", json={"name": "tick", "cron": "* * * * * *",
            "job": {"targets": {"devices": ["r1"]}, "commands": ["show clock"]}})  # fmt: skip
        assert r.status_code == 201, r.text
        first_due = r.json()["next_fire_at"]
        due = datetime.fromisoformat(first_due).timestamp()

        async def ran_past_due() -> bool:
            """The service's loops ran 1.5 s past the due time (the worker's heartbeat on
            the database clock says so): a scheduler ticking every second had fired."""
            workers = (await c.get("/api/v1/workers")).json()["items"]
            return any(w["state"] == "running" and w["heartbeat_at"] > due + 1.5
                       for w in workers)  # fmt: skip

        await eventually(ran_past_due, timeout=30, what="the service running past the due time")
        schedule = (await c.get("/api/v1/schedules/tick")).json()
        assert schedule["next_fire_at"] == first_due  # not fired: no scheduler ran
        assert (await c.get("/api/v1/jobs")).json()["items"] == []
    code, _ = await again.stop()
    assert code == 0


async def _run(tmp_path: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *NETFLEET, "serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", *args,
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30 * PATIENCE)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def test_refuses_public_bind_without_auth(tmp_path: Path) -> None:
    env = _env(tmp_path, NETFLEET_SERVICE__AUTH="false")
    code, err = await _run(tmp_path, env, "--host", "0.0.0.0", "--port", "0")
    assert code == 2
    assert err.strip().splitlines() == [
        "error: refusing to listen on 0.0.0.0 with authentication disabled "
        "(service.auth = false); bind 127.0.0.1 or enable authentication"
    ]
    assert not (tmp_path / "x.db").exists()


async def test_port_in_use_is_exit_2(tmp_path: Path) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        code, err = await _run(tmp_path, _env(tmp_path), "--port", str(port))
    finally:
        server.close()
        await server.wait_closed()
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err


async def test_a_short_preset_admin_token_is_a_settings_error(tmp_path: Path) -> None:
    short = "nf_short-token-123"  # 18 characters
    code, err = await _run(tmp_path, _env(tmp_path, NETFLEET_ADMIN_TOKEN=short), "--port", "0")
    assert code == 2, err
    [line] = err.strip().splitlines()
    assert line.startswith("error: invalid settings")
    assert "admin_token" in line
    assert "at least 24 characters (this one has 18)" in line
    assert short not in err  # never echoed
    assert not (tmp_path / "x.db").exists()
