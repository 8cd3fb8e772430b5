"""Health, readiness, metrics, docs, request limits and generic problem responses."""

from __future__ import annotations

from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from netfleet.api import create_app
from netfleet.store import SqlStore, open_store
from tests.support.api import wait_finished
from tests.support.service import service_settings


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"


async def test_readyz_is_503_before_migrations(tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    store = await open_store(
        settings.database.url, settings=settings, secret_key=Fernet.generate_key(), migrate=False
    )
    try:
        app = create_app(store, settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://s"
        ) as c:
            r = await c.get("/readyz")
            assert r.status_code == 503
            assert r.headers["content-type"] == "application/problem+json"
            assert "schema" in r.json()["detail"]
            await store.migrate()
            assert (await c.get("/readyz")).status_code == 200
    finally:
        await store.close()


async def test_readyz_is_503_when_the_database_is_gone(
    client: httpx.AsyncClient, store: SqlStore, tmp_path: Path
) -> None:
    await store.close()
    r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["kind"] == "not_ready"


async def test_metrics(client: httpx.AsyncClient, fleet: list[str], running: object) -> None:
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"devices": fleet}, "commands": ["show version"]}
    )
    await wait_finished(client, r.json()["id"])
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"devices": [fleet[0]]}, "commands": ["show nonsense"]}
    )
    await wait_finished(client, r.json()["id"])
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    jobs = {s.labels["state"]: s.value for s in families["netfleet_jobs"].samples}
    assert jobs["succeeded"] == 1
    assert jobs["failed"] == 1
    tasks = {s.labels["state"]: s.value for s in families["netfleet_tasks"].samples}
    assert tasks["succeeded"] == 3
    count = next(
        s.value
        for s in families["netfleet_task_duration_seconds"].samples
        if s.name.endswith("_count")
    )
    assert count == 4
    errors = {s.labels["kind"]: s.value for s in families["netfleet_task_errors"].samples}
    assert sum(errors.values()) == 1
    assert families["netfleet_schedule_skipped_firings"].type == "counter"  # none skipped yet
    logins = next(
        s.value for s in families["netfleet_login_seconds"].samples if s.name.endswith("_count")
    )
    assert logins == 3
    for name in ("netfleet_queue_depth", "netfleet_reuse_rate", "netfleet_utilisation",
                 "netfleet_logins", "netfleet_reuses", "netfleet_workers"):  # fmt: skip
        assert name in families, name


async def test_each_app_has_its_own_registry(store: SqlStore, tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    apps = [create_app(store, settings) for _ in range(3)]
    for app in apps:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://s"
        ) as c:
            assert (await c.get("/metrics")).status_code == 200


async def test_docs_and_openapi(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    assert schema["info"]["title"] == "netfleet"
    assert "/api/v1/jobs" in schema["paths"]
    page = await client.get("/api/docs")
    assert page.status_code == 200
    assert "/api/v1/jobs/{job_id}/events/stream" in page.text
    assert "<script" not in page.text
    assert "cdn" not in page.text.lower()


async def test_request_size_limit(store: SqlStore, tmp_path: Path) -> None:
    app = create_app(store, service_settings(tmp_path, max_request_bytes=2048))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        big = {"name": "x" * 4000}
        r = await c.post("/api/v1/devices", json=big)
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["kind"] == "request_too_large"

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(5):
                yield b"x" * 1000

        r = await c.post(
            "/api/v1/devices", content=chunks(), headers={"content-type": "application/json"}
        )
        assert r.status_code == 413


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Not Found"
    r = await client.put("/api/v1/jobs")
    assert r.status_code == 405
    assert r.json()["status"] == 405


async def test_unexpected_errors_are_bare_500s(app: FastAPI, client: httpx.AsyncClient) -> None:
    @app.get("/api/v1/boom", include_in_schema=False)
    async def boom() -> None:
        raise RuntimeError("secret internals Pw-Boom-1")

    r = await client.get("/api/v1/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "Pw-Boom-1" not in r.text
    assert "Traceback" not in r.text


async def test_database_unavailable_is_503_problem(tmp_path: Path) -> None:
    settings = service_settings(tmp_path, auth=False)
    store = await open_store(
        "postgresql://postgres@127.0.0.1:1/nothing",
        settings=settings,
        secret_key=Fernet.generate_key(),
        migrate=False,
    )
    try:
        app = create_app(store, settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://s"
        ) as c:
            r = await c.get("/api/v1/devices")
            assert r.status_code == 503
            assert r.headers["retry-after"] == "5"
            assert r.json()["kind"] == "database_unavailable"
            assert (await c.get("/readyz")).status_code == 503
            assert (await c.get("/healthz")).status_code == 200
    finally:
        await store.close()
