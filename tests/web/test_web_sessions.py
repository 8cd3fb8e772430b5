"""Dashboard sessions over real HTTP on loopback: a random id in the cookie (never the
token), stored hashed, ending at logout, expiry, idle timeout and token revocation;
deep links survive sign-in, and only to local paths."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet.store.schema_hardening import dashboard_sessions
from tests.support.loopback import serve_loopback
from tests.support.web import csrf_of, nonce_of

COOKIE = "netfleet_session"


@pytest.fixture
async def base(app: FastAPI) -> AsyncIterator[str]:
    async with serve_loopback(app) as url:
        yield url


async def _sign_in(c: httpx.AsyncClient, token: str, next_url: str = "/ui/") -> httpx.Response:
    form = await c.get("/ui/login", params={"next": next_url})
    assert form.status_code == 200, form.text
    return await c.post(
        "/ui/login", data={"token": token, "nonce": nonce_of(form.text), "next": next_url}
    )


async def _rows(store: SqlStore) -> list[Any]:
    return await store.db.run(
        lambda c: list(
            c.execute(
                sa.select(
                    dashboard_sessions.c.id_hash,
                    dashboard_sessions.c.token_id,
                    dashboard_sessions.c.last_seen_at,
                    dashboard_sessions.c.expires_at,
                )
            ).all()
        ),
        what="read sessions",
    )


async def _shift(store: SqlStore, **values: float) -> None:
    await store.db.run(
        lambda c: c.execute(dashboard_sessions.update().values(**values)), what="age sessions"
    )


async def test_the_cookie_is_a_random_session_id_stored_only_hashed(
    base: str, store: SqlStore, tokens: dict[str, str], tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await _sign_in(c, tokens["operator"])
        assert r.status_code == 303
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and COOKIE in v)
        assert "HttpOnly" in cookie
        assert "samesite=strict" in cookie.lower()
        assert "Secure" not in cookie  # plain http on loopback
        session_id = c.cookies[COOKIE]
        assert session_id != tokens["operator"]
        assert tokens["operator"] not in cookie
        assert len(session_id) >= 40
        assert (await c.get("/ui/jobs")).status_code == 200
        rows = await _rows(store)
        assert [row.id_hash for row in rows] == [hashlib.sha256(session_id.encode()).hexdigest()]
    raw = _database_bytes(tmp_path)
    assert session_id.encode() not in raw
    assert tokens["operator"].encode() not in raw


def _database_bytes(tmp_path: Path) -> bytes:
    """The SQLite file and its write-ahead log, as stored on disk."""
    return b"".join(p.read_bytes() for p in sorted(tmp_path.glob("netfleet.db*")))


async def test_the_raw_token_as_cookie_is_refused(base: str, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=base, cookies={COOKIE: tokens["admin"]}) as c:
        r = await c.get("/ui/jobs")
        assert r.status_code == 303
        assert r.headers["location"].startswith("/ui/login")


async def test_logout_destroys_the_session_on_the_server(
    base: str, store: SqlStore, tokens: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        await _sign_in(c, tokens["viewer"])
        stolen = c.cookies[COOKIE]
        page = await c.get("/ui/")
        r = await c.post("/ui/logout", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303
    assert await _rows(store) == []
    async with httpx.AsyncClient(base_url=base, cookies={COOKIE: stolen}) as replay:
        r = await replay.get("/ui/")
        assert r.status_code == 303  # a copy of the cookie is worthless after logout


async def test_revoking_the_token_destroys_its_sessions(
    base: str, store: SqlStore, tokens: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=base) as op, httpx.AsyncClient(base_url=base) as op2:
        await _sign_in(op, tokens["operator"])
        await _sign_in(op2, tokens["operator"])
        async with httpx.AsyncClient(base_url=base) as viewer:
            await _sign_in(viewer, tokens["viewer"])
            assert len(await _rows(store)) == 3
            r = await viewer.get("/ui/")
            assert r.status_code == 200
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            r = await op.delete("/api/v1/tokens/t-operator", headers=admin)
            assert r.status_code == 204
            assert len(await _rows(store)) == 1  # the viewer's remains
            for c in (op, op2):
                r = await c.get("/ui/jobs")
                assert r.status_code == 303
            assert (await viewer.get("/ui/")).status_code == 200


async def test_sessions_end_after_idle_time_and_lifetime(
    base: str, store: SqlStore, tokens: dict[str, str], settings: Settings
) -> None:
    idle = settings.service.session_idle_seconds
    async with httpx.AsyncClient(base_url=base) as c:
        await _sign_in(c, tokens["viewer"])
        assert (await c.get("/ui/")).status_code == 200
        now = await store.now()
        await _shift(store, last_seen_at=now - idle + 600)  # idle 50 min: still valid
        assert (await c.get("/ui/")).status_code == 200
        assert (await _rows(store))[0].last_seen_at >= now  # the request counted as use
        await _shift(store, last_seen_at=now - idle - 1)
        r = await c.get("/ui/")
        assert r.status_code == 303
        assert await _rows(store) == []  # ended on the server, not just refused

        await _sign_in(c, tokens["viewer"])
        assert (await c.get("/ui/")).status_code == 200
        await _shift(store, expires_at=await store.now() - 1)  # used, but past its lifetime
        assert (await c.get("/ui/")).status_code == 303


async def test_each_sign_in_rotates_the_session_id(
    base: str, store: SqlStore, tokens: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        await _sign_in(c, tokens["viewer"])
        first = c.cookies[COOKIE]
        # A second sign-in from the same browser (the login form from a fresh tab).
        async with httpx.AsyncClient(base_url=base) as tab:
            form = await tab.get("/ui/login")
            c.cookies.set("netfleet_login", tab.cookies["netfleet_login"], path="/ui/login")
        r = await c.post(
            "/ui/login",
            data={"token": tokens["operator"], "nonce": nonce_of(form.text), "next": "/ui/"},
        )
        assert r.status_code == 303, r.text
        second = c.cookies[COOKIE]
        assert first != second
        assert len(await _rows(store)) == 1
    async with httpx.AsyncClient(base_url=base, cookies={COOKIE: first}) as old:
        assert (await old.get("/ui/")).status_code == 303


async def test_deep_links_survive_sign_in(base: str, tokens: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.get("/ui/jobs", params={"state": "failed"})
        assert r.status_code == 303
        login_url = r.headers["location"]
        assert login_url.startswith("/ui/login?next=")
        target = unquote(login_url.split("next=", 1)[1])
        assert target == "/ui/jobs?state=failed"
        r = await _sign_in(c, tokens["viewer"], target)
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/jobs?state=failed"
        assert (await c.get(r.headers["location"])).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/ui/",
        "//evil.example/ui/",
        "/\\evil.example",
        "/ui/\\..\\evil",
        "/ui/\r\nSet-Cookie: x=1",
        "/ui/ok\x00",
        "javascript:alert(1)",
        "/api/v1/tokens",
        "",
    ],
)
async def test_sign_in_never_redirects_off_the_dashboard(
    base: str, tokens: dict[str, str], target: str
) -> None:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await _sign_in(c, tokens["viewer"], target)
        assert r.status_code == 303
        assert r.headers["location"] == "/ui/"


async def test_the_cookie_is_secure_over_https(app: FastAPI, tokens: dict[str, str]) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://dash.test") as c:
        r = await _sign_in(c, tokens["viewer"])
        cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and COOKIE in v)
        assert "Secure" in cookie
        assert (await c.get("/ui/")).status_code == 200
