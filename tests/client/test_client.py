"""The Python API (netfleet.client) and `netfleet inventory import`, on both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netfleet.cli.app import app
from netfleet.client import Netfleet
from netfleet.core.errors import DeadlineExceeded, InventoryError, ValidationError
from netfleet.core.models import CommandResult
from netfleet.store.records import TaskOutcome
from tests.support.store import KEY

FLEET = """\
devices:
  - name: r1
    host: 127.0.0.1
    port: 2201
    platform: cisco_ios
    username: admin
    password: pw-one
    groups: [core]
  - name: r2
    host: 127.0.0.1
    port: 2202
    platform: cisco_ios
    username: admin
    password: pw-two
    groups: [core, edge]
"""


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    return path


async def test_submit_wait_and_read_results(store_url: str, fleet_file: Path) -> None:
    async with Netfleet(store_url, secret_key=KEY) as nf:
        report = await nf.import_inventory(fleet_file)
        assert report.count("created") == 2
        job = await nf.submit(groups=["core"], commands=["show version"], priority=2)
        assert job.state == "queued"

        async def fake_worker() -> None:
            for task in await nf.store.claims.claim("w", 10, lease_s=30):
                out = [CommandResult("show version", f"{task.device.name} up", duration_ms=1.5)]
                await nf.store.completions.complete(
                    task.task_id, "w", task.attempt, TaskOutcome("succeeded", out)
                )

        done, _ = await asyncio.gather(nf.wait(job.id, timeout=30), fake_worker())
        assert done.ok
        assert [(t.device, t.state, t.attempts) for t in done.tasks] == [
            ("r1", "succeeded", 1),
            ("r2", "succeeded", 1),
        ]
        assert done.tasks[1].results[0].output == "r2 up"
        assert [j.id for j in await nf.list(state="succeeded")] == [job.id]
        assert (await nf.list(device="r1"))[0].id == job.id


async def test_wait_timeout_cancel_and_validation(store_url: str, fleet_file: Path) -> None:
    async with Netfleet(store_url, secret_key=KEY) as nf:
        await nf.import_inventory(fleet_file)
        job = await nf.submit(devices=["r1"], config=["hostname x"])
        with pytest.raises(DeadlineExceeded, match=f"job {job.id}"):
            await nf.wait(job.id, timeout=0.05)
        cancelled = await nf.cancel(job.id)
        assert cancelled.state == "cancelled"
        with pytest.raises(ValidationError, match="priority"):
            await nf.submit(devices=["r1"], commands=["x"], priority="high")
        with pytest.raises(ValidationError, match="unknown device"):
            await nf.submit(devices=["r9"], commands=["x"])
        with pytest.raises(InventoryError):
            await nf.import_inventory(fleet_file.with_name("missing.yaml"))


def test_cli_inventory_import(
    tmp_path: Path, fleet_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NETFLEET_SECRET_KEY", KEY.decode())
    monkeypatch.chdir(tmp_path)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["inventory", "import", str(fleet_file), "--db", db])
    assert first.exit_code == 0, first.output
    assert "2 device(s): 2 created" in first.output
    again = runner.invoke(app, ["inventory", "import", str(fleet_file), "--db", db, "-q"])
    assert "2 unchanged" in again.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("devices: [\n")
    broken = runner.invoke(app, ["inventory", "import", str(bad), "--db", db])
    assert broken.exit_code == 2
    assert broken.output.count("\n") == 1
    assert broken.output.startswith("error: ")


async def test_privileged_commands_need_the_explicit_option(
    store_url: str, fleet_file: Path
) -> None:
    from netfleet.core.errors import CommandNotAllowed

    async with Netfleet(store_url, secret_key=KEY) as nf:
        await nf.import_inventory(fleet_file)
        with pytest.raises(CommandNotAllowed, match=r"commands\[1\] 'wr mem'.*'wr\[ite\]'"):
            await nf.submit(devices=["r1"], commands=["show clock", "wr mem"])
        with pytest.raises(ValidationError, match="control character U\\+000A"):
            await nf.submit(devices=["r1"], commands=["show clock\nconf t"])
        job = await nf.submit(
            devices=["r1"], commands=["show clock", "wr mem"], allow_privileged_commands=True
        )
        assert job.state == "queued"
        with pytest.raises(CommandNotAllowed, match="'reload'"):
            await nf.add_schedule(
                name="nightly", cron="0 3 * * *", devices=["r1"], commands=["reload"]
            )
