"""Secrets a device prints, end to end through a real ``netfleet serve``: its own login
password, ``enable secret 9 $9$...``, ``username ... secret``, SNMP communities and key
strings are masked in API responses, the database file (read raw), CLI output, the
service log and session logs. With ``masking.keep_raw`` the unmasked output is kept
encrypted and only an admin reads it; the database file still holds no secret."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from netfleet.core.redact import MASK
from netfleet_sim import Simulator
from tests.cli.test_serve import NETFLEET, PRESET, _env
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, register_sim_fleet, wait_finished
from tests.support.patience import PATIENCE

KEY_STRING = "Kiwi-Key-9911-w"
COMMUNITY = "Lynx-Comm-4478"
SECRET_9 = "$9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM"
EOS_SHA512 = "$6$Zr0ld4Ws$Hx1"
PRINTED = (SIM_PASSWORD, KEY_STRING, COMMUNITY, SECRET_9, EOS_SHA512, "community public")
ALL_SECRETS = (*PRINTED, SIM_ENABLE, PRESET)


def _lab_config(sim: Simulator) -> None:
    """The IOS box of a lab that keeps passwords in clear (no password-encryption): the
    running configuration prints its own login password, a key string and a community."""
    for dev in sim.devices:
        if dev.platform == "cisco_ios":
            state = dev.state
            state.running = [  # type: ignore[attr-defined]
                *state.running,  # type: ignore[attr-defined]
                [f"username ops privilege 15 password 0 {SIM_PASSWORD}"],
                ["key chain OSPF-KEYS", " key 1", f"  key-string {KEY_STRING}"],
                [f"snmp-server community {COMMUNITY} RW"],
            ]


@dataclass
class Service:
    proc: asyncio.subprocess.Process
    url: str
    tmp: Path
    env: dict[str, str]

    @property
    def db(self) -> str:
        return f"sqlite:///{self.tmp / 'serve.db'}"

    async def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.proc.communicate(), timeout=60 * PATIENCE)
        assert self.proc.returncode == 0, err.decode()[-3000:]
        return err.decode()


@pytest.fixture(params=[False, True], ids=["masked", "keep_raw"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Service]:
    env = _env(
        tmp_path,
        NETFLEET_ADMIN_TOKEN=PRESET,
        NETFLEET_LOG__LEVEL="DEBUG",
        NETFLEET_CONNECT__SESSION_LOG_DIR=str(tmp_path / "sessions"),
        NETFLEET_MASKING__KEEP_RAW=str(request.param).lower(),
    )
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    proc = await asyncio.create_subprocess_exec(
        *NETFLEET, "serve", "--db", db, "--port", "0",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), timeout=60 * PATIENCE)
        if not raw:
            _, err = await proc.communicate()
            pytest.fail(f"netfleet serve exited early: {err.decode()[-2000:]}")
        if b"serving on" in raw:
            url = raw.decode().split("serving on ", 1)[1].split()[0]
            break
    svc = Service(proc, url, tmp_path, env)
    try:
        yield svc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def _cli(svc: Service, *args: str) -> str:
    done = subprocess.run(
        [*NETFLEET, *args], env=svc.env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def _files(tmp: Path) -> tuple[bytes, list[str]]:
    database = b"".join(p.read_bytes() for p in sorted(tmp.glob("serve.db*")))
    logs = [p.read_text(errors="replace") for p in (tmp / "sessions").rglob("*") if p.is_file()]
    return database, logs


@pytest.mark.slow
async def test_printed_secrets_are_masked_everywhere(service: Service) -> None:
    keep_raw = service.env["NETFLEET_MASKING__KEEP_RAW"] == "true"
    admin = {"Authorization": f"Bearer {PRESET}"}
    async with (
        Simulator(devices=2, platforms=["cisco_ios", "arista_eos"], password=SIM_PASSWORD,
                  enable_secret=SIM_ENABLE) as sim,
        httpx.AsyncClient(base_url=service.url, timeout=30, headers=admin) as c,
    ):  # fmt: skip
        _lab_config(sim)
        names = await register_sim_fleet(c, sim)
        r = await c.post("/api/v1/tokens", json={"name": "ops", "role": "operator"})
        operator = {"Authorization": f"Bearer {r.json()['token']}"}
        r = await c.post(
            "/api/v1/jobs",
            json={"targets": {"devices": names}, "commands": ["show running-config"]},
            headers=operator,
        )
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        job = await wait_finished(c, job_id, timeout=60)
        assert job["state"] == "succeeded", job
        by_platform = {t["device"]: t for t in job["tasks"]}
        ios = next(t for n, t in by_platform.items() if "ios" in n)
        output = ios["results"][0]["output"]
        assert f"password 0 {MASK}" in output
        assert f"key-string {MASK}" in output
        assert f"snmp-server community {MASK} RW" in output
        assert "hostname" in output  # the rest of the configuration is intact
        texts = [r.text, (await c.get(f"/api/v1/jobs/{job_id}")).text]
        texts.append((await c.get(f"/api/v1/jobs/{job_id}/events")).text)
        texts.append((await c.get(f"/api/v1/jobs/{job_id}", headers=operator)).text)

        # Raw outputs: admins only; unmasked only with masking.keep_raw.
        raw_url = f"/api/v1/jobs/{job_id}/tasks/{ios['id']}/raw"
        r = await c.get(raw_url, headers=operator)
        assert r.status_code == 403, r.text
        texts.append(r.text)
        r = await c.get(raw_url)
        assert r.status_code == 200, r.text
        raw = r.json()
        assert raw["keep_raw"] is keep_raw
        assert raw["items"][0]["raw"] is keep_raw
        if keep_raw:
            assert KEY_STRING in raw["items"][0]["output"]
            assert SIM_PASSWORD in raw["items"][0]["output"]
        else:
            texts.append(r.text)
        audit = (await c.get("/api/v1/audit")).json()["items"]
        assert any(e["path"] == raw_url and e["method"] == "GET" for e in audit)

        cli_remote = _cli(service, "jobs", "show", str(job_id), "--url", service.url,
                          "--token", PRESET)  # fmt: skip
        assert MASK in cli_remote
        cli_local = _cli(service, "jobs", "show", str(job_id), "--db", service.db)
        assert MASK in cli_local
        texts += [cli_remote, cli_local]
    err = await service.stop()
    database, session_logs = _files(service.tmp)
    assert session_logs, "no session log was written"
    assert any("show running-config" in log for log in session_logs)
    assert '"path": "/api/v1/jobs"' in err  # the service log has the requests
    with sqlite3.connect(service.tmp / "serve.db") as conn:
        (kept,) = conn.execute("SELECT count(*) FROM task_raw_outputs").fetchone()
    assert kept == (2 if keep_raw else 0)  # both devices printed secrets; encrypted rows
    for secret in ALL_SECRETS:
        for text in texts:
            assert secret not in text, secret
        assert secret not in err, secret
        for log in session_logs:
            assert secret not in log, secret
        assert secret.encode() not in database, secret
