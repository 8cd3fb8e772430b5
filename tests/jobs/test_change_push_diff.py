"""A real push shows its diff on every platform: the device's candidate diff on Junos
and IOS-XR, on IOS/XE/NX-OS/EOS the predicted diff (from the latest backup or the
running configuration read before the push), or, with a rollback snapshot, the real
before/after diff of the running configuration. Against the simulator over SSH."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from netfleet.configs.predict import NOTE
from netfleet.core.inventory import load_inventory
from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.jobs.change_run import ChangePlan
from netfleet.jobs.changes import CHANGE_RECORD, CheckSpec, RollbackSpec, change_summary
from netfleet.jobs.execute import run_on_device
from netfleet.jobs.model import JobOptions
from netfleet.pool import SessionPool
from netfleet_sim import Simulator
from netfleet_sim.platforms.ios_like.state import IosState
from netfleet_sim.platforms.junos_state import JunosState

MakePool = Callable[..., SessionPool[Device]]
IOS_LIKE = ["cisco_ios", "cisco_xe", "cisco_nxos", "arista_eos"]
PLATFORMS = [*IOS_LIKE, "juniper_junos", "cisco_xr"]
NTP = "192.0.2.77"


def lines_for(platform: str) -> list[str]:
    if platform == "juniper_junos":
        return [f"set system ntp server {NTP}"]
    return [f"ntp server {NTP}", "logging buffered 64000"]


@pytest.fixture
async def fleet() -> AsyncIterator[Simulator]:
    async with Simulator(devices=len(PLATFORMS), platforms=PLATFORMS, base_port=0) as s:
        yield s


@pytest.fixture
def by_platform(fleet: Simulator, tmp_path: Path) -> dict[str, DeviceSpec]:
    path = tmp_path / "fleet.yaml"
    fleet.write_inventory(path)
    return {d.platform: d for d in load_inventory(path).devices}


def config_of(fleet: Simulator, spec: DeviceSpec) -> str:
    state = fleet.device(spec.name).state
    if isinstance(state, JunosState):
        return repr(list(state.committed))
    assert isinstance(state, IosState)
    return repr([list(s) for s in state.running])


def sent(fleet: Simulator, spec: DeviceSpec) -> list[str]:
    return fleet.device(spec.name).stats.commands


def added(diff: str) -> set[str]:
    """The lines a diff adds (``+ line`` or ``+line``), stripped."""
    return {
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    }


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_plain_push_stores_its_diff(
    fleet: Simulator, by_platform: dict[str, DeviceSpec], make_pool: MakePool, platform: str
) -> None:
    spec = by_platform[platform]
    run = await run_on_device(make_pool(), spec, config=lines_for(platform))
    assert run.ok, run.error
    summary = change_summary(run.results)
    assert summary is not None
    assert run.results[-1].command == CHANGE_RECORD
    diff = summary["diff"] or ""
    assert NTP in diff
    assert run.config is not None
    assert run.config.diff == diff
    if platform in ("juniper_junos", "cisco_xr"):
        assert summary["diff_source"] == "device"
    else:
        assert summary["diff_source"] == "predicted"
        assert summary["baseline"] == "device"
        assert NOTE in diff
        assert added(diff) >= {f"ntp server {NTP}", "logging buffered 64000"}
        # The running configuration was read before the lines were sent, and it is
        # not kept among the task's outputs (only the diff is).
        commands = sent(fleet, spec)
        assert commands.index("show running-config") < commands.index(f"ntp server {NTP}")
        assert "show running-config" not in [r.command for r in run.results]
    assert NTP in config_of(fleet, spec)


async def test_a_push_predicts_from_the_backup_without_reading_the_device(
    fleet: Simulator, by_platform: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    spec = by_platform["cisco_ios"]
    backup = f"hostname r1\n!\nntp server {NTP}\n!\nend\n"
    plan = ChangePlan(lines_for("cisco_ios"), baseline=backup)
    run = await run_on_device(make_pool(), spec, config=plan.lines, plan=plan)
    assert run.ok, run.error
    summary = change_summary(run.results)
    assert summary is not None
    assert summary["baseline"] == "backup"
    assert "1 already present" in (summary["diff"] or "")
    assert "show running-config" not in sent(fleet, spec)


@pytest.mark.parametrize("platform", IOS_LIKE)
async def test_with_a_snapshot_the_diff_is_the_real_one_and_matches_the_prediction(
    fleet: Simulator, by_platform: dict[str, DeviceSpec], make_pool: MakePool, platform: str
) -> None:
    pool = make_pool()
    spec = by_platform[platform]
    lines = lines_for(platform)
    dry = await run_on_device(pool, spec, config=lines, options=JobOptions(dry_run=True))
    predicted = change_summary(dry.results)
    assert predicted is not None
    check = CheckSpec(command="show running-config", rule="contains", pattern=NTP)
    plan = ChangePlan(lines, checks=[check], rollback=RollbackSpec())
    run = await run_on_device(pool, spec, config=lines, plan=plan)
    assert run.ok, run.error
    summary = change_summary(run.results)
    assert summary is not None
    assert summary["diff_source"] == "running"
    assert summary["predicted"] is False
    assert summary["rolled_back"] is False
    real = summary["diff"] or ""
    assert NOTE not in real
    # What the push did is what the dry run predicted, and nothing volatile.
    assert added(real) == added(predicted["diff"] or "") - {""}
    assert "Current configuration" not in real
    assert "Building configuration" not in real


async def test_a_rolled_back_push_keeps_the_diff_it_made(
    fleet: Simulator, by_platform: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    spec = by_platform["cisco_ios"]
    check = CheckSpec(command="show running-config", rule="not_contains", pattern=NTP)
    plan = ChangePlan(lines_for("cisco_ios"), checks=[check], rollback=RollbackSpec())
    run = await run_on_device(make_pool(), spec, config=plan.lines, plan=plan)
    assert not run.ok
    summary = change_summary(run.results)
    assert summary is not None
    assert summary["rolled_back"] is True
    assert summary["diff_source"] == "running"
    assert f"ntp server {NTP}" in added(summary["diff"] or "")
    assert NTP not in config_of(fleet, spec)


async def test_a_device_hanging_on_the_pre_push_read_gets_no_line(
    fleet: Simulator, by_platform: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    spec = by_platform["arista_eos"]
    fleet.device(spec.name).set_faults(hang_on="show running-config")
    try:
        run = await run_on_device(
            make_pool(), spec, config=lines_for("arista_eos"),
            options=JobOptions(command_timeout_s=0.5),
        )  # fmt: skip
    finally:
        fleet.device(spec.name).clear_faults()
    assert not run.ok
    assert run.error_kind == "command_timeout"
    assert run.config is not None
    assert run.config.partially_applied is False  # nothing was sent: safe to retry
    assert f"ntp server {NTP}" not in sent(fleet, spec)


async def test_push_diff_off_and_backup_read_nothing_more_from_the_device(
    fleet: Simulator, by_platform: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    """Large fleets without backups: ``push_diff`` ``off`` skips the diff, ``backup`` uses
    the latest backup only; neither sends ``show running-config``. A dry run still shows
    its diff."""
    pool = make_pool()
    spec = by_platform["cisco_ios"]
    lines = lines_for("cisco_ios")
    off = await run_on_device(pool, spec, config=lines, options=JobOptions(push_diff="off"))
    assert off.ok, off.error
    summary = change_summary(off.results)
    assert summary is not None
    assert not summary["diff"]
    assert off.config is not None
    assert off.config.diff is None
    none = await run_on_device(pool, spec, config=lines, options=JobOptions(push_diff="backup"))
    assert none.ok, none.error
    summary = change_summary(none.results)
    assert summary is not None
    assert summary["diff_source"] == "unavailable"
    assert "no backup" in (summary["diff"] or "")
    # With a backup, and with a rollback snapshot: predicted from the backup, no reads.
    backup = "hostname r1\n!\nlogging buffered 64000\n!\nend\n"
    plan = ChangePlan(lines, rollback=RollbackSpec(), baseline=backup)
    snap = await run_on_device(
        pool, spec, config=lines, plan=plan, options=JobOptions(push_diff="backup")
    )
    assert snap.ok, snap.error
    summary = change_summary(snap.results)
    assert summary is not None
    assert (summary["diff_source"], summary["baseline"]) == ("predicted", "backup")
    assert f"ntp server {NTP}" in added(summary["diff"] or "")
    assert summary["rolled_back"] is False
    assert "show running-config" not in sent(fleet, spec)
    dry = JobOptions(dry_run=True, push_diff="off")
    shown = await run_on_device(pool, spec, config=lines, options=dry)
    assert NTP in (change_summary(shown.results) or {}).get("diff", "")
    assert "show running-config" in sent(fleet, spec)
