"""Credentials over the API: write-only secrets, rotation retiring pooled sessions."""

from __future__ import annotations

import asyncio

import httpx

from netfleet.api.runtime import EmbeddedRuntime
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, wait_finished


async def test_credential_crud_never_returns_secrets(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/credentials",
        json={"name": "ops", "username": "ops", "password": "Pw-Crud-991", "enable_secret": "En-2"},
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["has_password"] is True
    assert body["has_enable_secret"] is True
    assert body["has_private_key"] is False
    assert "Pw-Crud-991" not in r.text

    listing = await client.get("/api/v1/credentials")
    assert [c["name"] for c in listing.json()["items"]] == ["ops"]
    one = await client.get("/api/v1/credentials/ops")
    assert one.json()["username"] == "ops"
    assert "password" not in one.json()

    r = await client.put("/api/v1/credentials/ops", json={"username": "ops2", "password": "Pw-New"})
    assert r.status_code == 200
    assert r.json()["username"] == "ops2"
    assert r.json()["has_enable_secret"] is False

    r = await client.delete("/api/v1/credentials/ops")
    assert r.status_code == 204
    assert (await client.get("/api/v1/credentials/ops")).status_code == 404


async def test_credential_errors(client: httpx.AsyncClient) -> None:
    body = {"name": "a", "username": "u", "password": "p"}
    assert (await client.post("/api/v1/credentials", json=body)).status_code == 201
    assert (await client.post("/api/v1/credentials", json=body)).status_code == 409
    r = await client.post("/api/v1/credentials", json={"name": "b"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "username"
    r = await client.put("/api/v1/credentials/zz", json={"username": "u"})
    assert r.status_code == 404
    assert (await client.delete("/api/v1/credentials/zz")).status_code == 404
    r = await client.post(
        "/api/v1/devices",
        json={"name": "d", "host": "h", "platform": "linux", "credentials": ["a"]},
    )
    assert r.status_code == 201
    r = await client.delete("/api/v1/credentials/a")
    assert r.status_code == 409
    assert "used by 1 device" in r.json()["detail"]


async def test_rotation_retires_pooled_sessions(
    client: httpx.AsyncClient, fleet: list[str], running: EmbeddedRuntime
) -> None:
    body = {"targets": {"devices": [fleet[0]]}, "commands": ["show clock"]}
    job = await wait_finished(client, (await client.post("/api/v1/jobs", json=body)).json()["id"])
    assert job["state"] == "succeeded"
    stats = running.pool_stats()
    assert stats is not None
    assert stats.devices[fleet[0]].idle == 1

    before = (await client.get(f"/api/v1/devices/{fleet[0]}")).json()["generation"]
    r = await client.put(
        "/api/v1/credentials/lab",
        json={"username": "admin", "password": SIM_PASSWORD, "enable_secret": SIM_ENABLE + "x"},
    )
    assert r.status_code == 200
    after = (await client.get(f"/api/v1/devices/{fleet[0]}")).json()["generation"]
    assert after > before
    for _ in range(100):
        stats = running.pool_stats()
        assert stats is not None
        if stats.devices[fleet[0]].idle == 0:
            break
        await asyncio.sleep(0.02)
    assert stats.devices[fleet[0]].idle == 0
    assert stats.devices[fleet[0]].evictions.get("retired", 0) >= 1

    sessions = (await client.get("/api/v1/sessions", params={"device": fleet[0]})).json()
    assert sessions["devices"][0]["evictions"]["retired"] >= 1
