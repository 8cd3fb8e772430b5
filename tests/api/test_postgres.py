"""The service's own SQL (groups, job deletion, schedule replacement, metrics, readiness)
on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from netfleet.api import create_app
from netfleet.store import open_store
from tests.support.service import private_postgres, service_settings

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    with private_postgres("netfleet_svc") as url:
        yield url


@pytest.fixture
async def pg_client(pg_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = service_settings(tmp_path)
    store = await open_store(pg_url, settings=settings, secret_key=Fernet.generate_key())
    _, token = await store.tokens.create("pg-admin", "admin")
    app = create_app(store, settings, metrics_max_age_s=0.0)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://pg",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            yield client
    finally:
        await store.close()


async def test_service_sql_on_postgres(pg_client: httpx.AsyncClient) -> None:
    c = pg_client
    assert (await c.get("/readyz")).json()["database"] == "postgresql"
    for i in range(3):
        r = await c.post(
            "/api/v1/devices",
            json={"name": f"d{i}", "host": "127.0.0.1", "platform": "linux", "groups": ["g"]},
        )
        assert r.status_code == 201, r.text
    assert (await c.get("/api/v1/groups")).json()["items"] == [{"name": "g", "devices": 3}]

    r = await c.post("/api/v1/jobs", json={"targets": {"groups": ["g"]}, "commands": ["uptime"]})
    job_id = r.json()["id"]
    assert (await c.delete(f"/api/v1/jobs/{job_id}")).status_code == 409
    await c.post(f"/api/v1/jobs/{job_id}/cancel")
    assert (await c.delete(f"/api/v1/jobs/{job_id}")).status_code == 204

    body = {"name": "s", "cron": "0 1 * * *", "job": {"targets": {"groups": ["g"]},
            "commands": ["uptime"]}}  # fmt: skip
    assert (await c.post("/api/v1/schedules", json=body)).status_code == 201
    r = await c.put("/api/v1/schedules/s", json={**body, "cron": "0 2 * * *"})
    assert r.status_code == 200
    assert r.json()["cron"] == "0 2 * * *"

    metrics = (await c.get("/metrics")).text
    assert 'netfleet_tasks{state="cancelled"} 0.0' in metrics
    assert "netfleet_task_duration_seconds_count" in metrics
    audit = (await c.get("/api/v1/audit")).json()["items"]
    assert audit[0]["path"] == "/api/v1/schedules/s"
