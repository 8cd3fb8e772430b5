"""Service fixtures: a real app on a real SQLite file, tokens per role, a simulated fleet.

``client`` talks to the ASGI app in-process (httpx ``ASGITransport``) as admin;
``as_role(role)`` gives a client with a token of another role. ``running`` adds
the embedded runtime (workers, scheduler) on the same event loop, so jobs run
for real against the simulator.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from netfleet.api import create_app
from netfleet.api.runtime import EmbeddedRuntime
from netfleet.core.settings import (
    Settings,
)
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, MakeClient, register_sim_fleet
from tests.support.service import role_tokens, service_settings, service_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return service_settings(tmp_path)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SqlStore]:
    async with service_store(settings) as s:
        yield s


@pytest.fixture
def app(store: SqlStore, settings: Settings) -> FastAPI:
    return create_app(store, settings, metrics_max_age_s=0.0)


@pytest.fixture
async def tokens(store: SqlStore) -> dict[str, str]:
    return await role_tokens(store)


@pytest.fixture
async def as_role(app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[MakeClient]:
    clients: list[httpx.AsyncClient] = []

    async def make(role: str) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}
        c = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://svc", headers=headers
        )
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def client(as_role: MakeClient) -> httpx.AsyncClient:
    return await as_role("admin")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        devices=3,
        platforms=["cisco_ios", "arista_eos"],
        password=SIM_PASSWORD,
        enable_secret=SIM_ENABLE,
    ) as s:
        yield s


@pytest.fixture
async def fleet(client: httpx.AsyncClient, sim: Simulator) -> list[str]:
    """The simulator's devices stored through the API, with one stored credential."""
    return await register_sim_fleet(client, sim)


@pytest.fixture
async def running(
    store: SqlStore, settings: Settings, app: FastAPI
) -> AsyncIterator[EmbeddedRuntime]:
    """Embedded workers (and scheduler) running on this test's event loop."""
    runtime = EmbeddedRuntime(store, settings, workers=1, watch_interval_s=0.2)
    app.state.netfleet.runtime = runtime
    task = asyncio.create_task(runtime.run())
    try:
        yield runtime
    finally:
        runtime.stop(immediate=True)
        await asyncio.wait_for(task, timeout=20)
