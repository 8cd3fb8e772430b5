"""Constants and helpers shared by the service tests (conftest holds only fixtures)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

SIM_PASSWORD = "Zebra-Pw-7731-q"
SIM_ENABLE = "Okapi-En-5520-x"
MakeClient = Callable[[str], Awaitable[httpx.AsyncClient]]


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
