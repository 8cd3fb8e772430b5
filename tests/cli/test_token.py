"""``netfleet token create|list|revoke`` directly on a database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netfleet.cli.app import app
from netfleet.core.settings import Settings
from netfleet.store import open_store


def test_token_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NETFLEET_SERVICE__KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("NETFLEET_CONFIG", str(tmp_path / "none.toml"))
    db = f"sqlite:///{tmp_path / 't.db'}"
    runner = CliRunner()

    created = runner.invoke(app, ["token", "create", "ci", "--role", "operator", "--db", db])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    assert token.startswith("nf_")

    async def verify() -> str | None:
        store = await open_store(db, settings=Settings())
        try:
            record = await store.tokens.verify(token)
            return None if record is None else record.role
        finally:
            await store.close()

    assert asyncio.run(verify()) == "operator"
    listing = runner.invoke(app, ["token", "list", "--db", db])
    assert listing.exit_code == 0
    assert "ci" in listing.stdout
    assert "active" in listing.stdout
    assert token not in listing.stdout

    assert runner.invoke(app, ["token", "revoke", "ci", "--db", db]).exit_code == 0
    assert asyncio.run(verify()) is None
    assert "revoked" in runner.invoke(app, ["token", "list", "--db", db]).stdout

    bad = runner.invoke(app, ["token", "create", "x", "--role", "root", "--db", db])
    assert bad.exit_code == 2
    assert "role" in bad.output
    dup = runner.invoke(app, ["token", "create", "ci", "--db", db])
    assert dup.exit_code == 2
    assert runner.invoke(app, ["token", "revoke", "nope", "--db", db]).exit_code == 2
