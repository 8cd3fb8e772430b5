"""Constants and helpers shared by the service tests (conftest holds only fixtures)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.support.patience import PATIENCE

SIM_PASSWORD = "Zebra-Pw-7731-q"
SIM_ENABLE = "Okapi-En-5520-x"
MakeClient = Callable[[str], Awaitable[httpx.AsyncClient]]


async def wait_finished(client: httpx.AsyncClient, job_id: int, timeout: float = 20) -> Any:
    """Poll the job until it has finished (bound: ``timeout`` times ``PATIENCE``); return
    its detail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout * PATIENCE
    while True:
        r = await client.get(f"/api/v1/jobs/{job_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        if body["finished_at"] is not None:
            return body
        assert loop.time() < deadline, f"job {job_id} still {body['state']}"
        await asyncio.sleep(0.05)


async def register_sim_fleet(
    client: httpx.AsyncClient, sim: Any, *, by_platform: bool = True
) -> list[str]:
    """Store ``sim``'s devices through the API with one stored credential ``lab``; each
    is in group ``lab`` (and, ``by_platform``, its platform's group, tagged ``sim``)."""
    r = await client.post(
        "/api/v1/credentials",
        json={
            "name": "lab",
            "username": sim.devices[0].username,
            "password": SIM_PASSWORD,
            "enable_secret": SIM_ENABLE,
        },
    )
    assert r.status_code == 201, r.text
    names = []
    for dev in sim.devices:
        extra: dict[str, Any] = (
            {"groups": ["lab", dev.platform], "tags": ["sim"]}
            if by_platform
            else {"groups": ["lab"]}
        )
        r = await client.post(
            "/api/v1/devices",
            json={
                "name": dev.name,
                "host": dev.host,
                "port": dev.port,
                "platform": dev.platform,
                "credentials": ["lab"],
                **extra,
            },
        )
        assert r.status_code == 201, r.text
        names.append(dev.name)
    return names
