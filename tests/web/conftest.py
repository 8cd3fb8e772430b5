"""Dashboard fixtures: a real app on a real SQLite file, signed-in clients per role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from tests.support.browser import serve
from tests.support.service import role_tokens, service_settings, service_store
from tests.support.web import BASE, MakeClient, build_app, login


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return service_settings(tmp_path)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[SqlStore]:
    async with service_store(settings) as s:
        yield s


@pytest.fixture
def app(store: SqlStore, settings: Settings) -> FastAPI:
    return build_app(store, settings)


@pytest.fixture
async def tokens(store: SqlStore) -> dict[str, str]:
    return await role_tokens(store)


@pytest.fixture
async def browser(app: FastAPI, tokens: dict[str, str]) -> AsyncIterator[MakeClient]:
    """``await browser(role)``: a cookie-keeping client signed in as ``role`` (None: not)."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str | None) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        clients.append(c)
        if role is not None:
            r = await login(c, tokens[role])
            assert r.status_code == 303, r.text
        return c

    yield make
    for c in clients:
        await c.aclose()


@pytest.fixture
async def served(store: SqlStore, settings: Settings) -> AsyncIterator[tuple[FastAPI, str]]:
    """The app served by uvicorn on 127.0.0.1 (OS-chosen port), on this event loop."""
    app = build_app(store, settings)
    async with serve(app) as base:
        yield app, base
