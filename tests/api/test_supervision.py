"""Supervision of the embedded loops: a worker that dies for real (EMFILE from its claim
loop) is logged, restarted with backoff, and ``/readyz`` (over real HTTP) says which
component is down until it runs again; then queued jobs run."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from netfleet.api import create_app
from netfleet.api.runtime import EmbeddedRuntime
from netfleet.api.supervise import Backoffs, Supervisor
from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, register_sim_fleet, wait_finished
from tests.support.loopback import serve_loopback
from tests.support.service import role_tokens, service_settings, service_store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return service_settings(
        tmp_path,
        restart_backoff_seconds=0.05,
        restart_backoff_max_seconds=0.4,
        restart_settle_seconds=0.3,
    )


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SqlStore]:
    async with service_store(settings) as s:
        yield s


async def _until(what: str, check: Any, timeout: float = 30.0) -> Any:
    """Poll the async ``check`` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = await check()
        if got:
            return got
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_crashed_worker_is_restarted_and_readyz_names_it(
    store: SqlStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = await role_tokens(store)
    runtime = EmbeddedRuntime(store, settings, workers=1, watch_interval_s=0.2)
    app = create_app(store, settings, runtime=runtime)
    worker_name = f"worker {runtime.workers[0].worker_id}"
    real_claim = store.claims.claim
    broken = asyncio.Event()

    async def claim(*args: Any, **kwargs: Any) -> Any:
        if broken.is_set():
            raise OSError(errno.EMFILE, "Too many open files")
        return await real_claim(*args, **kwargs)

    monkeypatch.setattr(store.claims, "claim", claim)
    task = asyncio.create_task(runtime.run())
    try:
        async with (
            Simulator(devices=1, platforms=["cisco_ios"], password=SIM_PASSWORD,
                      enable_secret=SIM_ENABLE) as sim,
            serve_loopback(app) as url,
            httpx.AsyncClient(base_url=url, timeout=30,
                              headers={"Authorization": f"Bearer {tokens['admin']}"}) as c,
        ):  # fmt: skip
            names = await register_sim_fleet(c, sim)

            async def ready() -> bool:
                return (await c.get("/readyz")).status_code == 200

            await _until("ready at start", ready)
            with capture_logs() as logs:
                broken.set()  # every claim now fails as on descriptor exhaustion

                async def not_ready() -> httpx.Response | None:
                    r = await c.get("/readyz")
                    return r if r.status_code == 503 else None

                r = await _until("not ready", not_ready)
                assert r.headers["content-type"].startswith("application/problem+json")
                detail = r.json()["detail"]
                assert worker_name in detail, detail
                assert "Too many open files" in detail, detail

                # Restarted with backoff: several restarts, each logged, delays growing.
                async def restarted_thrice() -> bool:
                    return runtime.supervisor.restarts[worker_name] >= 3

                await _until("three restarts", restarted_thrice)
                job = await c.post(
                    "/api/v1/jobs", json={"targets": {"devices": names}, "commands": ["show clock"]}
                )
                assert job.status_code == 201
                assert (await c.get("/readyz")).status_code == 503  # still down: still failing
                metrics = (await c.get("/metrics")).text
                assert f'netfleet_embedded_component_down{{component="{worker_name}"}} 1.0' in (
                    metrics
                ), metrics
                broken.clear()
                await _until("ready again", ready)
                done = await wait_finished(c, job.json()["id"], timeout=60)
                assert done["state"] == "succeeded", done
            downs = [e for e in logs if e["event"] == "embedded component down; restarting"]
            assert len(downs) >= 3
            assert all(e["component"] == worker_name for e in downs)
            assert all(e["log_level"] == "error" for e in downs)
            delays = [e["restart_in_s"] for e in downs]
            assert delays[:3] == sorted(delays[:3])
            assert delays[2] > delays[0], delays
            assert max(delays) <= 0.4
            assert any(e["event"] == "embedded component up again" for e in logs)
            assert runtime.down() == {}
    finally:
        runtime.stop(immediate=True)
        await asyncio.wait_for(task, timeout=30)


async def test_a_component_that_returns_early_is_down_until_it_settles() -> None:
    stop = asyncio.Event()
    sup = Supervisor(stop, Backoffs(first_s=0.01, max_s=0.05, settle_s=2.0))
    runs = 0
    settled = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            return  # ended without being stopped
        settled.set()
        await stop.wait()

    task = asyncio.create_task(sup.keep("scheduler", flaky))
    await asyncio.wait_for(settled.wait(), timeout=10)
    assert sup.down() == {"scheduler": "stopped unexpectedly"}  # running, not settled yet
    assert sup.restarts["scheduler"] == 2

    async def up() -> bool:
        return sup.down() == {}

    await _until("settled", up)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert runs == 3


async def test_without_embedded_workers_readyz_still_covers_housekeeping(
    store: SqlStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``netfleet serve --workers 0`` (external workers): the service still runs its
    housekeeping, supervised, and ``/readyz`` says what runs here and names it when down."""
    from netfleet.api.service import service_app

    settings.service.housekeeping_seconds = 0.05
    runtime, app = service_app(store, settings, 0)
    real_prune = store.sessions.prune
    sweeps = 0
    broken = asyncio.Event()

    async def prune(*args: Any, **kwargs: Any) -> int:
        nonlocal sweeps
        sweeps += 1
        if broken.is_set():
            raise OSError(errno.EMFILE, "Too many open files")
        return await real_prune(*args, **kwargs)

    monkeypatch.setattr(store.sessions, "prune", prune)
    task = asyncio.create_task(runtime.run())
    try:
        async with serve_loopback(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as c:

            async def swept_twice() -> bool:
                return sweeps >= 2  # it runs, round after round

            await _until("housekeeping rounds", swept_twice)
            ready = await c.get("/readyz")
            assert ready.status_code == 200, ready.text
            body = ready.json()
            assert body["components"] == ["housekeeping"]
            assert body["embedded_workers"] == 0
            assert "netfleet worker" in body["note"]
            broken.set()

            async def not_ready() -> httpx.Response | None:
                r = await c.get("/readyz")
                return r if r.status_code == 503 else None

            detail = (await _until("not ready", not_ready)).json()["detail"]
            assert "housekeeping (OSError: [Errno 24] Too many open files)" in detail, detail
            metrics = (await c.get("/metrics")).text
            assert 'netfleet_embedded_component_down{component="housekeeping"} 1.0' in metrics
            broken.clear()

            async def ready_again() -> bool:
                return (await c.get("/readyz")).status_code == 200

            await _until("ready again", ready_again)
            assert runtime.supervisor.restarts["housekeeping"] >= 1
    finally:
        runtime.stop(immediate=True)
        await asyncio.wait_for(task, timeout=30)
