"""Workers and sessions over the API."""

from __future__ import annotations

import asyncio

import httpx

from netfleet.api.runtime import EmbeddedRuntime
from netfleet.store import SqlStore
from tests.support.api import wait_finished


async def test_workers_and_sessions(
    client: httpx.AsyncClient, fleet: list[str], running: EmbeddedRuntime
) -> None:
    body = {"targets": {"devices": fleet}, "commands": ["show clock"]}
    for _ in range(2):
        r = await client.post("/api/v1/jobs", json=body)
        await wait_finished(client, r.json()["id"])

    worker_id = running.workers[0].worker_id
    workers: list[dict[str, object]] = []
    sessions: dict[str, object] = {}
    for _ in range(100):  # the pool totals arrive with the next heartbeat
        workers = (await client.get("/api/v1/workers")).json()["items"]
        sessions = (await client.get("/api/v1/sessions")).json()
        if sessions["total"]["checkouts"] == 6:  # type: ignore[index]
            break
        await asyncio.sleep(0.05)
    assert [w["id"] for w in workers] == [worker_id]
    assert workers[0]["alive"] is True
    assert workers[0]["concurrency"] == 20
    assert sessions["total"] == {
        "sessions_open": 3,
        "checkouts": 6,
        "logins": 3,
        "reuses": 3,
        "reuse_rate": 0.5,
    }
    assert sessions["embedded"]["reuse_rate"] == 0.5  # type: ignore[index]
    assert sorted(d["device"] for d in sessions["devices"]) == sorted(fleet)  # type: ignore[attr-defined]


async def test_no_workers_without_runtime(client: httpx.AsyncClient, store: SqlStore) -> None:
    await store.workers.register("w-stopped", hostname="h", pid=1, concurrency=5)
    await store.workers.heartbeat("w-stopped", state="stopped")
    assert (await client.get("/api/v1/workers")).json()["items"] == []
    all_workers = (await client.get("/api/v1/workers", params={"all": "true"})).json()["items"]
    assert [w["id"] for w in all_workers] == ["w-stopped"]
    assert all_workers[0]["alive"] is False
    sessions = (await client.get("/api/v1/sessions")).json()
    assert sessions["embedded"] is None
    assert sessions["devices"] == []
    assert sessions["total"]["checkouts"] == 0


async def test_several_embedded_workers_share_one_pool(
    client: httpx.AsyncClient, fleet: list[str], store: SqlStore, app: object
) -> None:
    settings = app.state.netfleet.settings  # type: ignore[attr-defined]
    runtime = EmbeddedRuntime(store, settings, workers=3, scheduler=False)
    app.state.netfleet.runtime = runtime  # type: ignore[attr-defined]
    task = asyncio.create_task(runtime.run())
    try:
        r = await client.post(
            "/api/v1/jobs", json={"targets": {"devices": fleet}, "commands": ["show clock"]}
        )
        assert (await wait_finished(client, r.json()["id"]))["state"] == "succeeded"
        workers = (await client.get("/api/v1/workers")).json()["items"]
        assert len({w["id"] for w in workers}) == 3
        stats = runtime.pool_stats()
        assert stats is not None
        assert stats.total.checkouts == 3
        reporting: list[object] = []
        for _ in range(100):
            sessions = (await client.get("/api/v1/sessions")).json()
            reporting = sessions["workers"]
            if reporting and sessions["total"]["checkouts"] == 3:
                break
            await asyncio.sleep(0.05)
        assert len(reporting) == 1  # the shared pool is counted once
    finally:
        runtime.stop()
        await asyncio.wait_for(task, timeout=20)
    assert (await client.get("/api/v1/workers")).json()["items"] == []


async def test_stopping_the_service_gives_back_every_session_slot(
    client: httpx.AsyncClient, fleet: list[str], store: SqlStore, settings: object
) -> None:
    """Idle pooled sessions hold device slots; a stopped service must return them all."""
    import sqlalchemy as sa

    from netfleet.core.settings import Settings
    from netfleet.store.schema import device_slots, session_holds

    assert isinstance(settings, Settings)
    runtime = EmbeddedRuntime(store, settings, workers=2, watch_interval_s=0.2)
    task = asyncio.create_task(runtime.run())
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"devices": fleet}, "commands": ["show clock"]}
    )
    await wait_finished(client, r.json()["id"])

    def counts(conn: sa.Connection) -> tuple[int, int]:
        running = conn.execute(sa.select(sa.func.sum(device_slots.c.running))).scalar() or 0
        held = conn.execute(sa.select(sa.func.sum(session_holds.c.held))).scalar() or 0
        return int(running), int(held)

    assert await store.db.run(counts, write=False) == (len(fleet), len(fleet))
    runtime.stop()
    await asyncio.wait_for(task, timeout=20)
    assert await store.db.run(counts, write=False) == (0, 0)
