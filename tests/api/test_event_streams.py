"""Live event streams over real HTTP: lifetime, revocation, per-token limit, shared polling."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI

from netfleet.api import create_app
from netfleet.store import SqlStore
from netfleet.store.progress import StreamHub
from tests.support.service import service_settings


class QuietServer(uvicorn.Server):
    """uvicorn without signal handlers (pytest keeps its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    server = QuietServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        assert server.started
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        app.state.netfleet.stopping.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        sock.close()


def _app(store: SqlStore, tmp_path: Path, **service: Any) -> FastAPI:
    settings = service_settings(tmp_path, **service)
    return create_app(store, settings, metrics_max_age_s=0.0)


async def _queued_job(base: str, admin: str) -> int:
    """A job that stays queued (no worker runs)."""
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {admin}"}) as c:
        r = await c.post(
            "/api/v1/devices", json={"name": "r1", "host": "127.0.0.1", "platform": "linux"}
        )
        assert r.status_code in (201, 409), r.text
        r = await c.post(
            "/api/v1/jobs", json={"targets": {"devices": ["r1"]}, "commands": ["uptime"]}
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


def _frames(text: str) -> list[tuple[str, Any]]:
    out = []
    for block in text.split("\n\n"):
        event = data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if event:
            out.append((event, data))
    return out


async def test_a_stream_ends_after_its_maximum_lifetime(store: SqlStore, tmp_path: Path) -> None:
    app = _app(store, tmp_path, event_stream_max_seconds=1.0)
    _, admin = await store.tokens.create("a", "admin")
    async with serve(app) as base:
        job = await _queued_job(base, admin)
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            r = await c.get(
                f"/api/v1/jobs/{job}/events/stream", headers={"Authorization": f"Bearer {admin}"}
            )
    frames = _frames(r.text)
    assert ("state", "queued") in [(e, d.get("state")) for e, d in frames]
    assert frames[-1] == ("close", {"reason": "max_lifetime", "state": "queued"})


async def test_a_stream_ends_when_its_token_is_revoked(store: SqlStore, tmp_path: Path) -> None:
    app = _app(store, tmp_path, event_stream_token_check_seconds=0.2)
    _, admin = await store.tokens.create("a", "admin")
    _, viewer = await store.tokens.create("watcher", "viewer")
    async with serve(app) as base:
        job = await _queued_job(base, admin)
        async with (
            httpx.AsyncClient(base_url=base, timeout=30) as c,
            c.stream(
                "GET",
                f"/api/v1/jobs/{job}/events/stream",
                headers={"Authorization": f"Bearer {viewer}"},
            ) as resp,
        ):
            assert resp.status_code == 200
            chunks = resp.aiter_text()
            seen = ""
            while "event: state" not in seen:
                seen += await anext(chunks)
            r = await c.delete(
                "/api/v1/tokens/watcher", headers={"Authorization": f"Bearer {admin}"}
            )
            assert r.status_code == 204, r.text
            rest = "".join([chunk async for chunk in chunks])
    assert _frames(rest)[-1] == ("close", {"reason": "token_revoked", "state": "queued"})


async def test_streams_per_token_are_limited(store: SqlStore, tmp_path: Path) -> None:
    app = _app(store, tmp_path, event_streams_per_token=2)
    _, admin = await store.tokens.create("a", "admin")
    _, other = await store.tokens.create("b", "viewer")
    hub: StreamHub = app.state.stream_hub
    async with serve(app) as base:
        job = await _queued_job(base, admin)
        url = f"/api/v1/jobs/{job}/events/stream"
        auth = {"Authorization": f"Bearer {admin}"}
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            async with c.stream("GET", url, headers=auth) as first:
                first_chunks = first.aiter_text()
                await anext(first_chunks)
                async with c.stream("GET", url, headers=auth) as second:
                    second_chunks = second.aiter_text()
                    await anext(second_chunks)
                    assert hub.streams("a") == 2
                    r = await c.get(url, headers=auth)
                    assert r.status_code == 429, r.text
                    assert r.headers["content-type"] == "application/problem+json"
                    assert "event_streams_per_token" in r.json()["detail"]
                    # Other tokens are not affected.
                    async with c.stream(
                        "GET", url, headers={"Authorization": f"Bearer {other}"}
                    ) as third:
                        assert third.status_code == 200
                        third_chunks = third.aiter_text()
                        await anext(third_chunks)
            # Closed streams give their places back.
            for _ in range(200):
                if hub.streams("a") == 0:
                    break
                await asyncio.sleep(0.02)
            assert hub.streams("a") == 0
            async with c.stream("GET", url, headers=auth) as again:
                assert again.status_code == 200


async def test_idle_streams_share_one_database_poll(store: SqlStore, tmp_path: Path) -> None:
    """Forty idle streams cost one progress query per tick, not forty."""
    app = _app(store, tmp_path, event_streams_per_token=0)
    _, admin = await store.tokens.create("a", "admin")
    hub: StreamHub = app.state.stream_hub
    async with serve(app) as base:
        job = await _queued_job(base, admin)
        url = f"/api/v1/jobs/{job}/events/stream"
        auth = {"Authorization": f"Bearer {admin}"}
        async with contextlib.AsyncExitStack() as stack:
            c = await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
            readers = []
            for _ in range(40):
                resp = await stack.enter_async_context(c.stream("GET", url, headers=auth))
                readers.append(resp.aiter_text())
                seen = ""
                while "event: state" not in seen:  # the stream has read its job once
                    seen += await anext(readers[-1])
            # The hub's first poll of a job wakes every stream once (a change between a
            # stream's own read and that poll must not be missed): let that settle first.
            settle = hub.polls + 2
            while hub.polls < settle:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            statements: list[str] = []

            def count(*args: Any) -> None:
                statements.append(str(args[2]))

            engine = sa.engine.Engine  # every engine (here the store's SQLite one)
            sa.event.listen(engine, "before_cursor_execute", count)
            try:
                before = hub.polls
                while hub.polls < before + 5:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            finally:
                sa.event.remove(engine, "before_cursor_execute", count)
            assert hub.streams("a") == 40
            # About one progress query per tick for all 40 streams, no per-stream reads.
            assert len(statements) <= 2 * 6, statements
