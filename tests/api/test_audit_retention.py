"""The audit log over real HTTP: unauthenticated floods are counted, not audited row by
row; retention deletes old entries at start and periodically (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from netfleet.api import create_app
from netfleet.api.housekeeping import sweep
from netfleet.api.runtime import EmbeddedRuntime
from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet.store.sql import audit as audit_sql
from tests.support.loopback import serve_loopback
from tests.support.service import private_postgres, role_tokens, service_settings, service_store

DAY = 86_400.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    settings = service_settings(tmp_path, auth_failure_limit=0)
    if request.param == "sqlite":
        yield settings
    else:
        with private_postgres("nf_audit") as url:
            settings.database.url = url
            yield settings


async def _age(store: SqlStore, days: float, n: int) -> None:
    """Store ``n`` audit entries dated ``days`` ago."""

    def insert(conn: object) -> None:
        now = store.db.clock(conn)  # type: ignore[arg-type]
        for i in range(n):
            audit_sql.record(
                conn,  # type: ignore[arg-type]
                now - days * DAY,
                actor="t-admin", role="admin", method="POST", path=f"/api/v1/old/{i}",
                status=201, detail=None,
            )  # fmt: skip

    await store.db.run(insert, what="age audit entries")


async def test_unauthenticated_requests_are_counted_not_audited(settings: Settings) -> None:
    async with service_store(settings) as store:
        tokens = await role_tokens(store)
        app = create_app(store, settings, metrics_max_age_s=0.0)
        async with serve_loopback(app) as url, httpx.AsyncClient(base_url=url) as c:
            before = await store.audit.count()
            bad = {"Authorization": "Bearer nf_not-a-real-token-at-all-000000"}
            for i in range(60):
                headers = bad if i % 2 else {}
                r = await c.post("/api/v1/jobs", json={"commands": ["x"]}, headers=headers)
                assert r.status_code == 401
            assert await store.audit.count() == before
            metrics = (await c.get("/metrics")).text
            counted = {
                m.group(1): float(m.group(2))
                for m in re.finditer(
                    r'netfleet_api_unauthenticated_requests_total\{reason="(\w+)"\} (\S+)', metrics
                )
            }
            assert counted.get("missing") == 30, counted
            assert counted.get("invalid") == 30, counted
            # An authenticated mutation is still audited, one row.
            r = await c.post(
                "/api/v1/tokens", json={"name": "ci", "role": "viewer"},
                headers={"Authorization": f"Bearer {tokens['admin']}"},
            )  # fmt: skip
            assert r.status_code == 201
            assert await store.audit.count() == before + 1


async def test_sweep_deletes_entries_beyond_retention(settings: Settings) -> None:
    settings.service.audit_retention_days = 30
    async with service_store(settings) as store:
        await _age(store, 31, 7)
        await _age(store, 29, 3)
        swept = await sweep(store, settings)
        assert swept.audit_entries == 7
        paths = [e.path for e in await store.audit.list(limit=100)]
        assert len(paths) == 3
        settings.service.audit_retention_days = 0  # 0 keeps everything
        await _age(store, 3650, 2)
        assert (await sweep(store, settings)).audit_entries == 0
        assert await store.audit.count() == 5


async def test_batched_prune_deletes_every_old_entry(settings: Settings) -> None:
    async with service_store(settings) as store:
        await _age(store, 400, 25)
        assert await store.audit.prune(365 * DAY, batch=4) == 25
        assert await store.audit.count() == 0


async def test_the_running_service_applies_retention_periodically(settings: Settings) -> None:
    settings.service.audit_retention_days = 365  # the default
    settings.service.housekeeping_seconds = 0.2
    async with service_store(settings) as store:
        tokens = await role_tokens(store)
        runtime = EmbeddedRuntime(store, settings, workers=0, scheduler=False)
        app = create_app(store, settings, runtime=runtime)
        task = asyncio.create_task(runtime.run())
        try:
            async with (
                serve_loopback(app) as url,
                httpx.AsyncClient(
                    base_url=url, headers={"Authorization": f"Bearer {tokens['admin']}"}
                ) as c,
            ):
                await _age(store, 366, 5)  # while the service runs
                for _ in range(400):
                    left = (await c.get("/api/v1/audit")).json()["items"]
                    if not any(e["path"].startswith("/api/v1/old/") for e in left):
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("old audit entries were not deleted")
                await _age(store, 364, 2)  # within retention: kept through further rounds
                await _wait_rounds(store, settings)
                olds = (await c.get("/api/v1/audit")).json()["items"]
                assert sum(e["path"].startswith("/api/v1/old/") for e in olds) == 2
                assert not runtime.supervisor.restarts  # housekeeping never crashed
        finally:
            runtime.stop()
            await asyncio.wait_for(task, timeout=20)


async def _wait_rounds(store: SqlStore, settings: Settings) -> None:
    """Wait until housekeeping has run again: an expired session it must drop is gone."""
    tid = (await store.tokens.list())[0].id
    sid = await store.sessions.create(tid, lifetime_s=0.001)
    for _ in range(400):
        if await store.sessions.count_for(tid) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"housekeeping did not run again (session {sid[:4]}...)")
