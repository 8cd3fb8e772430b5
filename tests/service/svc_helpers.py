"""Constants and helpers shared by the service tests (conftest holds only fixtures)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from netfleet.core.settings import (
    ConnectSettings,
    DatabaseSettings,
    ServiceSettings,
    Settings,
    WorkerSettings,
)

SIM_PASSWORD = "Zebra-Pw-7731-q"
SIM_ENABLE = "Okapi-En-5520-x"
MakeClient = Callable[[str], Awaitable[httpx.AsyncClient]]


def make_settings(tmp_path: Path, **service: Any) -> Settings:
    return Settings(
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'netfleet.db'}"),
        service=ServiceSettings(key_file=tmp_path / "secret.key", **service),
        connect=ConnectSettings(
            known_hosts=tmp_path / "known_hosts",
            tcp_timeout_seconds=5,
            handshake_timeout_seconds=5,
            auth_timeout_seconds=5,
            prompt_timeout_seconds=5,
            session_log_dir=tmp_path / "sessions",
        ),
        worker=WorkerSettings(
            concurrency=20,
            heartbeat_seconds=0.5,
            lease_seconds=10,
            poll_seconds=0.1,
            drain_timeout_seconds=5,
            timeout_seconds=10,
        ),
    )


async def wait_finished(client: httpx.AsyncClient, job_id: int, timeout: float = 20) -> Any:
    """Poll the job until it has finished; return its detail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        r = await client.get(f"/api/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        if body["finished_at"] is not None:
            return body
        assert loop.time() < deadline, f"job {job_id} still {body['state']}"
        await asyncio.sleep(0.05)
