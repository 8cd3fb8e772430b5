"""``netfleet jobs approve|reject|resume|gate`` and ``netfleet windows`` on a database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from netfleet.cli.app import app
from netfleet.store import open_store
from netfleet.store.records import TaskOutcome
from tests.support.store import add_devices, config


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with approvals required (by the environment, as a user sets it), one
    job awaiting approval (1) and one halted rollout (2)."""
    monkeypatch.setenv("NETFLEET_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("NETFLEET_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("NETFLEET_CHANGES__REQUIRE_APPROVAL", "true")
    monkeypatch.setenv("NETFLEET_CHANGES__APPROVAL_GROUPS", '["core"]')
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        store = await open_store(url)
        try:
            await add_devices(store, "r1", "r2")
            await add_devices(store, "e1", "e2", "e3", groups=("edge",))
            await store.jobs.submit(config("r1", "r2"), submitted_by="admin-a")
            rollout = config("e1", "e2", "e3", rollout={"canary": 1, "batches": [1]})
            await store.jobs.submit(rollout, submitted_by="admin-a")
            (canary,) = await store.claims.claim("w1", 10, lease_s=30)
            await store.completions.complete(
                canary.task_id, "w1", canary.attempt, TaskOutcome("failed", error="refused")
            )
        finally:
            await store.close()

    asyncio.run(prepare())
    return url


def test_approve_resume_and_gate(cli_db: str) -> None:
    runner = CliRunner()
    db = ["--db", cli_db]
    result = runner.invoke(app, ["jobs", "gate", "1", *db])
    assert result.exit_code == 0, result.output
    assert "job 1: awaiting_approval; submitted by admin-a" in result.output
    result = runner.invoke(app, ["jobs", "approve", "1", *db])
    assert result.exit_code == 0, result.output
    assert "job 1: queued; approved by anonymous" in result.output
    result = runner.invoke(app, ["jobs", "approve", "1", *db])
    assert result.exit_code == 2
    assert "job 1 is queued, not awaiting approval" in result.output

    result = runner.invoke(app, ["jobs", "gate", "2", *db])
    assert "job 2: halted; rollout batch 1 of 3" in result.output
    assert "budget of 0" in result.output
    result = runner.invoke(app, ["jobs", "resume", "2", *db, "-o", "json"])
    assert result.exit_code == 0, result.output
    assert '"state": "rolling"' in result.output
    assert '"batches_released": 2' in result.output
    result = runner.invoke(app, ["jobs", "reject", "2", "--reason", "late", *db])
    assert result.exit_code == 2
    assert "not awaiting approval" in result.output


def test_windows_set_list_check_delete(cli_db: str) -> None:
    runner = CliRunner()
    db = ["--db", cli_db]
    result = runner.invoke(
        app, ["windows", "set", "weekend", "--weekly", "sat 22:00-sun 06:00", *db]
    )
    assert result.exit_code == 0, result.output
    assert "weekend: allow sat 22:00-sun 06:00 UTC, wait" in result.output
    result = runner.invoke(
        app,
        [
            "windows",
            "set",
            "freeze",
            "--blackout",
            "--start",
            "2026-12-20T00:00:00Z",
            "--end",
            "2027-01-04T00:00:00Z",
            *db,
        ],
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["windows", "list", *db]).output
    assert listed.splitlines()[0].startswith("freeze: blackout")
    assert "weekend: allow" in listed
    result = runner.invoke(app, ["windows", "check", "--at", "2026-12-05T23:00:00Z", *db])
    assert result.exit_code == 0, result.output
    assert "config changes may start" in result.output
    result = runner.invoke(app, ["windows", "check", "--at", "2026-12-02T12:00:00Z", *db])
    assert result.exit_code == 1
    assert "outside the allowed change window(s) 'weekend'" in result.output
    assert "next opening 2026-12-05 22:00:00 UTC" in result.output
    result = runner.invoke(app, ["windows", "check", "--at", "2026-12-26T23:00:00Z", *db])
    assert "inside blackout window 'freeze'" in result.output
    assert "next opening 2027-01-09 22:00:00 UTC" in result.output

    result = runner.invoke(app, ["windows", "set", "bad", *db])
    assert result.exit_code == 2
    assert "give exactly one of --weekly" in result.output
    result = runner.invoke(app, ["windows", "set", "bad", "--weekly", "sat", *db])
    assert result.exit_code == 2
    assert "expected 'DAY HH:MM-DAY HH:MM'" in result.output
    assert runner.invoke(app, ["windows", "delete", "weekend", *db]).exit_code == 0
    result = runner.invoke(app, ["windows", "show", "weekend", *db])
    assert result.exit_code == 2
    assert "change window 'weekend' not found" in result.output


def test_submit_with_a_rollout_and_a_bad_rollout(cli_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", cli_db]
    lines = tmp_path / "ntp.txt"
    lines.write_text("ntp server 192.0.2.1\n")
    base = ["jobs", "submit", "-g", "edge", "--config-file", str(lines), *db]
    result = runner.invoke(app, [*base, "--rollout", '{"canary": 1, "batches": ["50%"]}'])
    assert result.exit_code == 0, result.output
    assert "3 task(s) queued" in result.output
    result = runner.invoke(app, [*base, "--rollout", "canary=1"])
    assert result.exit_code == 2
    assert "--rollout: not JSON" in result.output
    result = runner.invoke(app, [*base, "--rollout", '{"batches": ["0%"]}'])
    assert result.exit_code == 2
    assert "options.rollout.batches" in result.output
    result = runner.invoke(app, ["jobs", "submit", "-g", "core", "--config-file", str(lines), *db])
    assert result.exit_code == 0, result.output
    assert "2 task(s) awaiting approval" in result.output


def test_a_window_scoped_to_a_group_and_devices(cli_db: str) -> None:
    runner = CliRunner()
    db = ["--db", cli_db]
    result = runner.invoke(
        app,
        ["windows", "set", "edge-freeze", "--blackout", "--weekly", "00:00-23:59",
         "--group", "edge", "--device", "pe-*", "-o", "json", *db],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"groups": [\n    "edge"\n  ]' in result.output
    listed = runner.invoke(app, ["windows", "list", *db]).output
    assert "edge-freeze: blackout 00:00-23:59 UTC for group edge, pe-*, wait" in listed
    # The store-wide check judges unscoped windows only: this one governs edge jobs.
    result = runner.invoke(app, ["windows", "check", "--at", "2026-12-02T12:00:00Z", *db])
    assert result.exit_code == 0, result.output


def test_submit_with_push_diff(cli_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    db = ["--db", cli_db]
    lines = tmp_path / "ntp.txt"
    lines.write_text("ntp server 192.0.2.1\n")
    base = ["jobs", "submit", "-g", "edge", "--config-file", str(lines), *db]
    result = runner.invoke(app, [*base, "--push-diff", "backup"])
    assert result.exit_code == 0, result.output

    async def newest_push_diff() -> str:
        store = await open_store(cli_db)
        try:
            (job,) = (await store.jobs.list(limit=1)).items
            return str(job.spec.options.push_diff)
        finally:
            await store.close()

    assert asyncio.run(newest_push_diff()) == "backup"
    result = runner.invoke(app, [*base, "--push-diff", "never"])
    assert result.exit_code == 2
    assert "--push-diff 'never': use always, backup or off" in result.output
    result = runner.invoke(app, ["jobs", "submit", "-g", "edge", "-c", "show clock",
                                 "--push-diff", "off", *db])  # fmt: skip
    assert result.exit_code == 2
    assert "apply to config jobs only" in result.output
