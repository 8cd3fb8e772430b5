"""Token revocation against a real ``netfleet serve`` (SQLite and PostgreSQL): a revoked
preset admin token stays revoked across restarts; the last admin token cannot go."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from netfleet.api import create_app
from netfleet.cli.app import app as cli_app
from tests.cli.test_serve import NETFLEET, PRESET, _env
from tests.support.loopback import serve_loopback
from tests.support.patience import PATIENCE
from tests.support.service import private_postgres, service_settings, service_store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'serve.db'}"
    else:
        with private_postgres("nf_tokens") as url:
            yield url


async def _start(tmp_path: Path, db: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        *NETFLEET, "serve", "--db", db, "--port", "0", "--workers", "0",
        cwd=tmp_path, env=_env(tmp_path, NETFLEET_ADMIN_TOKEN=PRESET),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), timeout=60 * PATIENCE)
        if not raw:
            _, err = await proc.communicate()
            pytest.fail(f"netfleet serve exited early: {err.decode()[-2000:]}")
        if b"serving on" in raw:
            return proc, raw.decode().split("serving on ", 1)[1].split()[0]


async def _stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=30 * PATIENCE)
    assert proc.returncode == 0, err.decode()[-2000:]
    return err.decode()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
async def test_revoked_preset_admin_token_stays_revoked_across_restarts(
    tmp_path: Path, db_url: str
) -> None:
    proc, url = await _start(tmp_path, db_url)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            r = await c.post(
                "/api/v1/tokens", json={"name": "ops-admin", "role": "admin"},
                headers=_bearer(PRESET),
            )  # fmt: skip
            assert r.status_code == 201, r.text
            second = r.json()["token"]
            r = await c.delete("/api/v1/tokens/admin", headers=_bearer(second))
            assert r.status_code == 204, r.text
            r = await c.get("/api/v1/whoami", headers=_bearer(PRESET))
            assert r.status_code == 401
    finally:
        await _stop(proc)

    # Restart with the same NETFLEET_ADMIN_TOKEN: it does not come back.
    proc, url = await _start(tmp_path, db_url)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            r = await c.get("/api/v1/whoami", headers=_bearer(PRESET))
            assert r.status_code == 401, r.text
            r = await c.get("/api/v1/whoami", headers=_bearer(second))
            assert r.json() == {"name": "ops-admin", "role": "admin"}
            tokens = (await c.get("/api/v1/tokens", headers=_bearer(second))).json()
            assert {t["name"]: t["revoked"] for t in tokens["items"]}["admin"] is True
    finally:
        err = await _stop(proc)
    assert "was revoked and stays revoked" in err
    assert PRESET not in err
    assert second not in err


async def test_the_last_admin_token_cannot_be_revoked(tmp_path: Path, db_url: str) -> None:
    settings = service_settings(tmp_path)
    settings.database.url = db_url
    async with (
        service_store(settings) as store,
        serve_loopback(create_app(store, settings)) as url,
    ):
        await store.tokens.create("admin", "admin", token=PRESET)
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=_bearer(PRESET)) as c:
            r = await c.post("/api/v1/tokens", json={"name": "viewer", "role": "viewer"})
            assert r.status_code == 201
            r = await c.delete("/api/v1/tokens/admin")
            assert r.status_code == 409, r.text
            assert r.headers["content-type"].startswith("application/problem+json")
            detail = r.json()["detail"]
            assert "last admin token" in detail, detail
            assert "'admin'" in detail, detail
            assert (await c.get("/api/v1/whoami")).status_code == 200  # still works
            # With a second admin, the first may go; then the second is the last one.
            r = await c.post("/api/v1/tokens", json={"name": "admin2", "role": "admin"})
            second = r.json()["token"]
            assert (await c.delete("/api/v1/tokens/admin")).status_code == 204
            r = await c.delete("/api/v1/tokens/admin2", headers=_bearer(second))
            assert r.status_code == 409
            assert "last admin token" in r.json()["detail"]
            # Viewer and operator tokens can always be revoked.
            r = await c.delete("/api/v1/tokens/viewer", headers=_bearer(second))
            assert r.status_code == 204


def test_cli_refuses_to_revoke_the_last_admin(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    env = {"NETFLEET_SERVICE__KEY_FILE": str(tmp_path / "key")}
    r = runner.invoke(cli_app, ["token", "create", "boss", "--role", "admin", "--db", db], env=env)
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["token", "revoke", "boss", "--db", db], env=env)
    assert r.exit_code == 2, r.output
    assert "last admin token" in r.output


async def test_a_revoked_token_cannot_be_stored_again(tmp_path: Path) -> None:
    async with service_store(service_settings(tmp_path)) as store:
        await store.tokens.create("a1", "admin")
        await store.tokens.create("old", "admin", token=PRESET)
        await store.tokens.revoke("old")
        with pytest.raises(Exception, match="revoked before"):
            await store.tokens.create("new", "admin", token=PRESET)
        assert await store.tokens.ensure("admin", "admin", PRESET) is None
        assert await store.tokens.verify(PRESET) is None
        # A new preset value works (that is how an operator recovers).
        fresh = PRESET + "-rotated"
        assert await store.tokens.ensure("admin", "admin", fresh) is not None
        assert await store.tokens.verify(fresh) is not None
