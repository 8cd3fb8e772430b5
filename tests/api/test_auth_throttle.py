"""Failed authentications: throttled per client address, counted in a metric, not audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from netfleet.api import create_app
from netfleet.store import SqlStore
from tests.support.api import MakeClient
from tests.support.service import service_settings

LIMIT = 5


@pytest.fixture
def app(store: SqlStore, tmp_path: Path) -> FastAPI:
    settings = service_settings(tmp_path, auth_failure_limit=LIMIT, auth_failure_window_seconds=600)
    return create_app(store, settings, metrics_max_age_s=0.0)


def _client(app: FastAPI, address: str, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://svc", headers=headers)


@pytest.fixture
async def clients(app: FastAPI) -> AsyncIterator[list[httpx.AsyncClient]]:
    made: list[httpx.AsyncClient] = []
    yield made
    for c in made:
        await c.aclose()


def _metric(text: str, reason: str) -> float:
    for line in text.splitlines():
        if line.startswith(f'netfleet_api_unauthenticated_requests_total{{reason="{reason}"}}'):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric for {reason}:\n{text}")


async def test_repeated_401s_are_throttled_per_address(
    app: FastAPI, tokens: dict[str, str], clients: list[httpx.AsyncClient]
) -> None:
    guesser = _client(app, "127.0.0.7", "nf_wrong-guess")
    same_address_user = _client(app, "127.0.0.7", tokens["viewer"])
    other = _client(app, "127.0.0.8", "nf_wrong-guess")
    clients += [guesser, same_address_user, other]

    assert (await same_address_user.get("/api/v1/jobs")).status_code == 200
    for _ in range(LIMIT):
        r = await guesser.get("/api/v1/jobs")
        assert r.status_code == 401
    r = await guesser.get("/api/v1/jobs")
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["kind"] == "too_many_requests"
    assert 1 <= int(r.headers["retry-after"]) <= 600
    # No token at all from that address: throttled as well.
    anonymous = _client(app, "127.0.0.7")
    clients.append(anonymous)
    assert (await anonymous.post("/api/v1/jobs", json={})).status_code == 429
    # A token that verified before keeps working from the same address ...
    assert (await same_address_user.get("/api/v1/jobs")).status_code == 200
    # ... and other addresses are not affected.
    assert (await other.get("/api/v1/jobs")).status_code == 401


async def test_successes_do_not_count(
    app: FastAPI, tokens: dict[str, str], clients: list[httpx.AsyncClient]
) -> None:
    user = _client(app, "127.0.0.9", tokens["operator"])
    clients.append(user)
    for _ in range(3 * LIMIT):
        assert (await user.get("/api/v1/jobs")).status_code == 200


async def test_unauthenticated_requests_are_counted_not_audited(
    app: FastAPI, as_role: MakeClient, clients: list[httpx.AsyncClient]
) -> None:
    for i in range(40):
        c = _client(app, f"127.0.1.{i}", "nf_wrong" if i % 2 else None)
        clients.append(c)
        assert (await c.post("/api/v1/devices", json={})).status_code == 401
    admin = await as_role("admin")
    audit = (await admin.get("/api/v1/audit", params={"limit": 500})).json()["items"]
    assert [a for a in audit if a["actor"] == "unauthenticated"] == []
    text = (await admin.get("/metrics")).text
    assert _metric(text, "missing") == 20
    assert _metric(text, "invalid") == 20
    assert _metric(text, "throttled") == 0


async def test_throttle_memory_is_bounded(
    store: SqlStore, tmp_path: Path, clients: list[httpx.AsyncClient]
) -> None:
    settings = service_settings(tmp_path, auth_failure_limit=2, auth_throttle_max_clients=50)
    app = create_app(store, settings, metrics_max_age_s=0.0)
    for i in range(300):
        c = _client(app, f"127.0.{i // 200}.{i % 200}", "nf_wrong")
        clients.append(c)
        assert (await c.get("/api/v1/jobs")).status_code == 401
    assert len(app.state.auth_throttle) == 50
