"""``netfleet notify`` and ``netfleet inventory sync`` on a SQLite file, against a real
webhook receiver and the NetBox-shaped loopback service."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from netfleet.cli.app import app
from tests.support.netbox_service import fixture_service, netbox_device
from tests.support.receivers import webhook_receiver

SECRET = "whsec-cli-41aa7c0de2"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("NETFLEET_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("NETFLEET_CONFIG", str(tmp_path / "absent.toml"))
    return ["--db", f"sqlite:///{tmp_path / 'cli.db'}"]


def test_notify_add_list_test_log_delete(db: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NF_TEST_HOOK_KEY", SECRET)
    runner = CliRunner()
    with webhook_receiver(SECRET) as rx:
        result = runner.invoke(
            app,
            ["notify", "add", "ops", "--to-url", rx.url, "--secret", "env:NF_TEST_HOOK_KEY",
             "-e", "job.failed", "-e", "task.failed", "--group", "core", *db],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "job.failed, task.failed" in result.output
        listing = runner.invoke(app, ["notify", "list", *db])
        assert "ops" in listing.output
        assert "groups=core" in listing.output
        result = runner.invoke(app, ["notify", "test", "ops", *db])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("delivered (200)")
        assert rx.verified == [True]  # signed with the resolved reference
        rx.answers = [503]
        result = runner.invoke(app, ["notify", "test", "ops", *db])
        assert result.exit_code == 1
        assert "not delivered, retryable (503)" in result.output
    log = runner.invoke(app, ["notify", "log", "ops", *db])
    lines = log.output.splitlines()
    assert len(lines) == 2
    assert "retryable" in lines[0]
    assert "delivered" in lines[1]
    assert runner.invoke(app, ["notify", "delete", "ops", *db]).exit_code == 0
    assert "no notification rules" in runner.invoke(app, ["notify", "list", *db]).output


def test_notify_errors_are_one_line(db: list[str]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["notify", "add", "x", "--to-url", "http://127.0.0.1:9/", "-e", "job.boom",
              "--secret-stdin", *db], input="k\n",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "unknown events" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["notify", "test", "absent", *db])
    assert result.exit_code == 2
    assert "'absent' does not exist" in result.output


def test_inventory_sync_prints_the_report(db: list[str]) -> None:
    runner = CliRunner()
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, i) for i in range(1, 4)]
        svc.devices.append(netbox_device(svc.base, 9, ip=None))
        result = runner.invoke(
            app,
            ["inventory", "source-add", "nb", "--source-url", svc.base, "--api-token",
             svc.token, "--interval", "3600", *db],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert svc.token not in runner.invoke(app, ["inventory", "sources", *db]).output
        result = runner.invoke(app, ["inventory", "sync", "nb", *db])
        assert result.exit_code == 0, result.output
        assert "added    r1: new in nb" in result.output
        assert "skipped  r9: no primary IP" in result.output
        assert "nb: 3 added, 0 updated, 0 disabled, 1 skipped" in result.output
        svc.fail_with = 500
        result = runner.invoke(app, ["inventory", "sync", "nb", *db])
    assert result.exit_code == 1
    assert "HTTP 500" in result.output
