"""Authentication, roles, tokens and the audit log."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from netfleet.api import create_app
from netfleet.store import SqlStore
from tests.support.api import MakeClient
from tests.support.service import service_settings

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every mutating (method, path) of the API, from the app's OpenAPI route table."""
    out = []
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/api/v1"):
            out += [(m.upper(), path) for m in operations if m.upper() in MUTATING]
    return sorted(out)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_route_table_is_complete(app: FastAPI) -> None:
    """The table the role tests walk holds every family of mutating routes."""
    routes = _routes(app)
    for expected in [
        ("POST", "/api/v1/jobs"),
        ("DELETE", "/api/v1/tokens/{name}"),
        ("PATCH", "/api/v1/devices/{name}"),
        ("DELETE", "/api/v1/schedules/{ref}"),
        ("POST", "/api/v1/backups"),
    ]:
        assert expected in routes
    assert len(routes) == len(set(routes)) >= 20


async def test_every_mutating_route_refuses_a_viewer(
    app: FastAPI, as_role: MakeClient, store: SqlStore
) -> None:
    viewer = await as_role("viewer")
    for i, (method, path) in enumerate(_routes(app)):
        url = _concrete(path)
        r = await viewer.request(method, url, json={})
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["kind"] == "forbidden"
        # One address per request: repeated 401s from one address are throttled (429).
        transport = httpx.ASGITransport(app=app, client=(f"127.0.3.{i + 1}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as anonymous:
            r = await anonymous.request(method, url, json={})
        assert r.status_code == 401, (method, path)
        assert r.headers["www-authenticate"].startswith("Bearer")
    # Every one of those refused mutations is in the audit log.
    admin = await as_role("admin")
    audit = (await admin.get("/api/v1/audit", params={"limit": 500})).json()["items"]
    refused = {(a["method"], a["path"]) for a in audit if a["actor"] == "t-viewer"}
    assert refused == {(method, _concrete(path)) for method, path in _routes(app)}
    assert all(a["status"] == 403 for a in audit if a["actor"] == "t-viewer")


@pytest.mark.parametrize(
    ("method", "path", "json"),
    [
        ("POST", "/api/v1/devices", {"name": "x", "host": "h", "platform": "linux"}),
        ("POST", "/api/v1/credentials", {"name": "x", "username": "u"}),
        ("POST", "/api/v1/tokens", {"name": "x", "role": "viewer"}),
        ("GET", "/api/v1/tokens", None),
        ("GET", "/api/v1/audit", None),
        ("POST", "/api/v1/devices/import", {"format": "csv", "text": "name,host,platform\n"}),
    ],
)
async def test_admin_only_routes_refuse_an_operator(
    as_role: MakeClient, method: str, path: str, json: object
) -> None:
    operator = await as_role("operator")
    r = await operator.request(method, path, json=json)
    assert r.status_code == 403


async def test_reads_need_a_valid_token(as_role: MakeClient) -> None:
    viewer = await as_role("viewer")
    for path in ("/api/v1/devices", "/api/v1/jobs", "/api/v1/credentials", "/api/v1/workers",
                 "/api/v1/sessions", "/api/v1/schedules", "/api/v1/groups"):  # fmt: skip
        assert (await viewer.get(path)).status_code == 200, path
    bad = await as_role("nobody")
    r = await bad.get("/api/v1/devices", headers={"Authorization": "Bearer nf_wrong"})
    assert r.status_code == 401
    assert r.json()["detail"] == "invalid or revoked token"
    r = await bad.get("/api/v1/devices", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


async def test_token_lifecycle(client: httpx.AsyncClient, app: FastAPI) -> None:
    r = await client.post("/api/v1/tokens", json={"name": "ci", "role": "operator"})
    assert r.status_code == 201
    token = r.json()["token"]
    assert token.startswith("nf_")
    assert (await client.post("/api/v1/tokens", json={"name": "ci"})).status_code == 409
    assert (
        await client.post("/api/v1/tokens", json={"name": "y", "role": "root"})
    ).status_code == 422

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://svc",
        headers={"Authorization": f"Bearer {token}"},
    ) as ci:
        me = await ci.get("/api/v1/whoami")
        assert me.json() == {"name": "ci", "role": "operator"}
        listing = (await client.get("/api/v1/tokens")).json()["items"]
        entry = next(t for t in listing if t["name"] == "ci")
        assert entry["revoked"] is False
        assert entry["last_used_at"] is not None
        assert "token" not in entry
        assert (await client.delete("/api/v1/tokens/ci")).status_code == 204
        assert (await ci.get("/api/v1/whoami")).status_code == 401
    assert (await client.delete("/api/v1/tokens/nope")).status_code == 404


async def test_audit_log_records_mutations_without_bodies(
    client: httpx.AsyncClient, as_role: MakeClient
) -> None:
    await client.post(
        "/api/v1/credentials", json={"name": "k", "username": "u", "password": "Pw-Audit-44"}
    )
    viewer = await as_role("viewer")
    await viewer.delete("/api/v1/devices/x")
    await client.get("/api/v1/devices")
    r = await client.get("/api/v1/audit")
    assert r.status_code == 200
    items = r.json()["items"]
    assert "Pw-Audit-44" not in r.text
    assert all(i["method"] != "GET" for i in items)
    denied, created = items[0], items[1]
    assert (denied["actor"], denied["method"], denied["status"]) == ("t-viewer", "DELETE", 403)
    assert (created["actor"], created["path"], created["status"]) == (
        "t-admin",
        "/api/v1/credentials",
        201,
    )
    assert created["detail"] == {"credential": "k"}
    page = (await client.get("/api/v1/audit", params={"limit": 1})).json()
    assert len(page["items"]) == 1
    older = (await client.get("/api/v1/audit", params={"before": page["next_cursor"]})).json()
    assert older["items"][0]["id"] < page["items"][0]["id"]


async def test_auth_disabled_acts_as_admin(store: SqlStore, tmp_path: Path) -> None:
    app = create_app(store, service_settings(tmp_path, auth=False))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        assert (await c.get("/api/v1/whoami")).json() == {"name": "anonymous", "role": "admin"}
        r = await c.post("/api/v1/tokens", json={"name": "z"})
        assert r.status_code == 201
