"""The Python API (``Netfleet`` schedule methods) and ``netfleet schedules`` on SQLite."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from netfleet.cli.app import app
from netfleet.client import Netfleet
from netfleet.core.errors import NotFound, ScheduleError
from netfleet.store import open_store
from tests.support.store import add_devices


async def test_python_api_schedule_lifecycle(tmp_path: Path) -> None:
    async with Netfleet(f"sqlite:///{tmp_path / 'api.db'}", secret_key=Fernet.generate_key()) as nf:
        await add_devices(nf.store, "r1", "r2")
        s = await nf.add_schedule(
            name="nightly",
            cron="30 2 * * *",
            timezone="America/New_York",
            devices=["r1"],
            commands=["show version"],
            priority=5,
        )
        assert s.spec.job_template.options.priority == 5
        assert s.spec.job_template.targets.devices == ["r1"]
        assert (await nf.get_schedule("nightly")).id == s.id
        upcoming = await nf.upcoming(s.id, 3)
        assert len(upcoming) == 3
        assert all(u.strftime("%M") == "30" for u in upcoming)
        assert upcoming == nf.preview("30 2 * * *", "America/New_York", 3)

        once = await nf.add_schedule(
            name="once",
            at=datetime.now(UTC) + timedelta(hours=2),
            groups=[],
            devices=["r2"],
            config=["hostname x"],
        )
        assert once.spec.kind == "once"
        assert [x.name for x in await nf.list_schedules()] == ["nightly", "once"]

        await nf.pause_schedule("nightly")
        assert [x.name for x in await nf.list_schedules(enabled=True)] == ["once"]
        assert await nf.upcoming("nightly") == []
        assert (await nf.resume_schedule("nightly")).enabled

        with pytest.raises(ScheduleError, match="field 1 \\(minute\\)"):
            await nf.add_schedule(name="bad", cron="99 * * * *", devices=["r1"], commands=["x"])
        with pytest.raises(ScheduleError, match="in the past"):
            await nf.add_schedule(
                name="bad", at="2001-01-01T00:00:00", devices=["r1"], commands=["x"]
            )
        assert len(await nf.list_schedules()) == 2

        await nf.delete_schedule("once")
        with pytest.raises(NotFound):
            await nf.get_schedule("once")


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NETFLEET_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("NETFLEET_CONFIG", str(tmp_path / "absent.toml"))
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def prepare() -> None:
        store = await open_store(url)
        try:
            await add_devices(store, "r1")
        finally:
            await store.close()

    asyncio.run(prepare())
    return url


def test_cli_add_list_show_pause_resume_delete(cli_db: str) -> None:
    runner = CliRunner()
    db = ["--db", cli_db]
    result = runner.invoke(
        app,
        [
            "schedules",
            "add",
            "backup",
            "--cron",
            "0 3 * * *",
            "--tz",
            "Europe/Berlin",
            "-d",
            "r1",
            "-c",
            "show running-config",
            "--misfire",
            "run_latest",
            *db,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "backup" in result.output
    assert "run_latest" in result.output

    result = runner.invoke(app, ["schedules", "list", *db])
    assert result.exit_code == 0, result.output
    assert "backup" in result.output
    assert "0 3 * * *" in result.output
    assert "enabled" in result.output

    result = runner.invoke(app, ["schedules", "show", "backup", "-n", "2", *db])
    assert result.exit_code == 0, result.output
    assert "upcoming 2" in result.output
    assert "03:00:00 CE" in result.output  # CET or CEST

    assert runner.invoke(app, ["schedules", "pause", "1", *db]).exit_code == 0
    assert "paused" in runner.invoke(app, ["schedules", "list", *db]).output
    result = runner.invoke(app, ["schedules", "resume", "backup", *db])
    assert result.exit_code == 0
    assert "next fire" in result.output
    assert runner.invoke(app, ["schedules", "delete", "backup", *db]).exit_code == 0
    assert "backup" not in runner.invoke(app, ["schedules", "list", *db]).output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["add", "x", "--cron", "0 0 * *", "-d", "r1", "-c", "show clock"], "expected 5 fields"),
        (["add", "x", "--cron", "@daily", "--tz", "No/Where", "-d", "r1", "-c", "s"], "No/Where"),
        (["add", "x", "--at", "2001-01-01T00:00", "-d", "r1", "-c", "s"], "in the past"),
        (["add", "x", "--cron", "@daily", "-d", "ghost", "-c", "s"], "ghost"),
        (
            [
                "add",
                "x",
                "--cron",
                "@daily",
                "--start",
                "2099-01-02",
                "--end",
                "2099-01-01",
                "-d",
                "r1",
                "-c",
                "s",
            ],
            "must be after start_at",
        ),
        (["show", "nope"], "schedule 'nope' not found"),
        (["show", "\u00b2"], "schedule '\u00b2' not found"),  # a digit, but not an id
        (["add", "007", "--cron", "@daily", "-d", "r1", "-c", "s"], "all digits"),
        (["pause", "42"], "schedule 42 not found"),
        (["delete", "nope"], "not found"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(
    cli_db: str, args: list[str], needle: str
) -> None:
    result = CliRunner().invoke(app, ["schedules", *args, "--db", cli_db])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    assert needle in lines[0]
    assert "backup" not in CliRunner().invoke(app, ["schedules", "list", "--db", cli_db]).output


def test_cli_preview_across_spring_forward() -> None:
    result = CliRunner().invoke(
        app,
        [
            "schedules",
            "preview",
            "30 2 * * *",
            "--tz",
            "Europe/Berlin",
            "-n",
            "3",
            "--after",
            "2027-03-27T12:00",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "2027-03-28 03:00:00 CEST" in result.output
    assert "2027-03-29 02:30:00 CEST" in result.output
    bad = CliRunner().invoke(app, ["schedules", "preview", "* * * * 9"])
    assert bad.exit_code == 2
    assert "field 5 (day-of-week) '9'" in bad.output
