"""Safe changes on simulated devices over SSH: dry-run diffs, checks, automatic rollback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from netfleet.configs.predict import NOTE
from netfleet.core.inventory import load_inventory
from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.jobs.change_run import ChangePlan
from netfleet.jobs.changes import (
    CHANGE_RECORD,
    CheckSpec,
    RollbackSpec,
    change_summary,
    describe_change,
)
from netfleet.jobs.execute import DeviceRun, run_on_device
from netfleet.jobs.model import JobOptions
from netfleet.pool import SessionPool
from netfleet_sim import Simulator
from netfleet_sim.platforms.ios_like.state import IosState
from netfleet_sim.platforms.junos_state import JunosState

MakePool = Callable[..., SessionPool[Device]]
PLATFORMS = ["cisco_ios", "juniper_junos", "cisco_nxos", "arista_eos", "cisco_xe", "cisco_xr"]
NTP = "192.0.2.123"


def lines_for(platform: str) -> list[str]:
    if platform == "juniper_junos":
        return [f"set system ntp server {NTP}"]
    return [f"ntp server {NTP}"]


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=len(PLATFORMS), platforms=PLATFORMS, base_port=0) as s:
        yield s


@pytest.fixture
def specs(sim: Simulator, tmp_path: Path) -> dict[str, DeviceSpec]:
    path = tmp_path / "fleet.yaml"
    sim.write_inventory(path)
    return {d.platform: d for d in load_inventory(path).devices}


def config_of(sim: Simulator, spec: DeviceSpec) -> Any:
    state = sim.device(spec.name).state
    if isinstance(state, JunosState):
        return list(state.committed)
    assert isinstance(state, IosState)
    return [list(s) for s in state.running]


def has_ntp(sim: Simulator, spec: DeviceSpec) -> bool:
    return NTP in repr(config_of(sim, spec))


async def change(
    pool: SessionPool[Device], spec: DeviceSpec, plan: ChangePlan, **options: Any
) -> tuple[DeviceRun, dict[str, Any]]:
    run = await run_on_device(
        pool, spec, config=plan.lines, options=JobOptions(**options), plan=plan
    )
    summary = change_summary(run.results)
    assert summary is not None
    assert run.results[-1].command == CHANGE_RECORD
    return run, summary


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_dry_run_diff_then_the_push_does_what_it_showed(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool, platform: str
) -> None:
    pool = make_pool()
    spec = specs[platform]
    before = config_of(sim, spec)
    plan = ChangePlan(lines_for(platform))
    run, summary = await change(pool, spec, plan, dry_run=True)
    assert run.ok, run.error
    assert config_of(sim, spec) == before  # a dry run applies nothing
    diff = summary["diff"] or ""
    if platform in ("juniper_junos", "cisco_xr"):
        assert summary["diff_source"] == "device"
        assert NTP in diff
    else:
        assert summary["diff_source"] == "predicted"
        assert summary["predicted"] is True
        assert NOTE in diff
        assert f"+ ntp server {NTP}" in diff
    pushed = await run_on_device(pool, spec, config=plan.lines)
    assert pushed.ok, pushed.error
    assert has_ntp(sim, spec)
    if platform not in ("juniper_junos", "cisco_xr"):
        # Pushing it again: the prediction now says the line is already there.
        _, again = await change(pool, spec, plan, dry_run=True)
        assert "1 already present" in (again["diff"] or "")


async def test_junos_commit_confirmed_with_failing_post_check_reverts(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["juniper_junos"]
    before = config_of(sim, spec)
    check = CheckSpec(command="show system uptime", rule="contains", pattern="NEVER-THERE")
    plan = ChangePlan(lines_for("juniper_junos"), checks=[check], rollback=RollbackSpec())
    run, summary = await change(pool, spec, plan)
    assert not run.ok
    assert run.error is not None
    assert "post-check failed" in run.error
    assert summary["rolled_back"] is True
    assert "reverted the commit" in summary["rollback_reason"]
    assert summary["checks"][0]["ok"] is False
    sent = [r.command for r in run.results]
    assert "commit confirmed 5" in sent
    assert sent.count("show system uptime") == 2  # before and after
    assert "rollback 1" in sent
    assert config_of(sim, spec) == before
    state = sim.device(spec.name).state
    assert isinstance(state, JunosState)
    assert state.pending_confirm is None


async def test_junos_commit_confirmed_is_confirmed_when_checks_pass(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["juniper_junos"]
    check = CheckSpec(command="show system uptime", rule="no_new_errors")
    plan = ChangePlan(lines_for("juniper_junos"), checks=[check], rollback=RollbackSpec())
    run, summary = await change(pool, spec, plan)
    assert run.ok, run.error
    assert summary["rolled_back"] is False
    assert summary["checks_ok"] is True
    state = sim.device(spec.name).state
    assert isinstance(state, JunosState)
    assert state.pending_confirm is None  # confirmed
    assert not state.expire(now=10**12)
    assert has_ntp(sim, spec)


@pytest.mark.parametrize("platform", ["cisco_ios", "cisco_nxos", "arista_eos"])
async def test_ios_like_replace_restores_the_pre_change_config(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool, platform: str
) -> None:
    pool = make_pool()
    spec = specs[platform]
    before = config_of(sim, spec)
    check = CheckSpec(command="show running-config", rule="not_contains", pattern=NTP)
    plan = ChangePlan(lines_for(platform), checks=[check], rollback=RollbackSpec())
    run, summary = await change(pool, spec, plan)
    assert not run.ok
    assert summary["rolled_back"] is True, summary
    assert "replaced the running configuration" in summary["rollback_reason"]
    assert config_of(sim, spec) == before


async def test_ios_change_kept_when_checks_pass_and_snapshot_cleaned(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["cisco_nxos"]
    check = CheckSpec(command="show running-config", rule="contains", pattern=NTP)
    plan = ChangePlan(lines_for("cisco_nxos"), checks=[check], rollback=RollbackSpec())
    run, summary = await change(pool, spec, plan)
    assert run.ok, run.error
    assert summary["rolled_back"] is False
    assert has_ntp(sim, spec)
    state = sim.device(spec.name).state
    assert isinstance(state, IosState)
    assert state.files == {}  # the checkpoint was deleted


async def test_failed_pre_check_sends_nothing(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["cisco_ios"]
    before = config_of(sim, spec)
    check = CheckSpec(command="show bogus thing", rule="equal")
    plan = ChangePlan(lines_for("cisco_ios"), checks=[check], rollback=RollbackSpec())
    run, summary = await change(pool, spec, plan)
    assert not run.ok
    assert run.error is not None
    assert "nothing was sent" in run.error
    assert config_of(sim, spec) == before
    assert summary["rolled_back"] is False
    assert [r.command for r in run.results] == ["show bogus thing", CHANGE_RECORD]


async def test_post_check_failure_without_rollback_keeps_the_change(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["arista_eos"]
    check = CheckSpec(command="show running-config", rule="not_contains", pattern=NTP)
    plan = ChangePlan(lines_for("arista_eos"), checks=[check])
    run, summary = await change(pool, spec, plan)
    assert not run.ok
    assert summary["rolled_back"] is False
    assert "rollback was not requested" in summary["rollback_reason"]
    assert has_ntp(sim, spec)


@pytest.mark.parametrize("baseline", ["device", "backup"])
async def test_a_rejected_line_records_what_was_applied_before_it(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool, baseline: str
) -> None:
    """And the diff is of that line alone: read from the device again (the prediction
    came from it), or predicted again from the backup with the applied lines only."""
    pool = make_pool()
    spec = specs["cisco_ios"]
    lines = [f"ntp server {NTP}", "interface Foo0/99", " description never-sent"]
    backup = "hostname r1\n!\ninterface Loopback0\n!\nend\n" if baseline == "backup" else None
    options = {"push_diff": "backup"} if backup else {}
    run, summary = await change(pool, spec, ChangePlan(lines, baseline=backup), **options)
    assert not run.ok
    assert summary["applied_lines"] == [f"ntp server {NTP}"]
    assert summary["failed_line"] == "interface Foo0/99"
    assert summary["partially_applied"] is True
    assert has_ntp(sim, spec)
    stopped = "stopped at 'interface Foo0/99': 1 line(s) before it applied"
    assert stopped in describe_change(summary)
    assert f"+ ntp server {NTP}" in summary["diff"]
    assert "Foo0/99" not in summary["diff"]
    assert summary["diff_source"] == ("running" if baseline == "device" else "predicted")


async def test_xr_unconfirmed_commit_reverts_at_the_deadline(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["cisco_xr"]
    before = config_of(sim, spec)
    check = CheckSpec(command="show running-config", rule="not_contains", pattern=NTP)
    plan = ChangePlan(lines_for("cisco_xr"), checks=[check], rollback=RollbackSpec())
    run, summary = await change(pool, spec, plan)
    assert not run.ok
    assert "commit confirmed 300" in [r.command for r in run.results]
    assert summary["rolled_back"] is True
    assert "reverts it within 300 s" in summary["rollback_reason"]
    state = sim.device(spec.name).state
    assert isinstance(state, IosState)
    assert has_ntp(sim, spec)  # until the deadline
    assert state.expire(now=10**12)
    assert config_of(sim, spec) == before


async def test_xr_commit_confirmed_is_confirmed_when_checks_pass(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["cisco_xr"]
    check = CheckSpec(command="show running-config", rule="contains", pattern=NTP)
    plan = ChangePlan(lines_for("cisco_xr"), checks=[check], rollback=RollbackSpec())
    run, summary = await change(pool, spec, plan)
    assert run.ok, run.error
    assert summary["checks_ok"] is True
    state = sim.device(spec.name).state
    assert isinstance(state, IosState)
    assert state.pending_confirm is None
    assert has_ntp(sim, spec)


async def test_dry_run_predicts_from_a_backup_when_given(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["cisco_ios"]
    backup = f"hostname r1\n!\nntp server {NTP}\n!\nend\n"
    plan = ChangePlan(lines_for("cisco_ios"), baseline=backup)
    run, summary = await change(pool, spec, plan, dry_run=True)
    assert run.ok, run.error
    assert summary["baseline"] == "backup"
    assert "1 already present" in (summary["diff"] or "")
    assert "show running-config" not in [r.command for r in run.results]
    fresh, summary = await change(pool, spec, ChangePlan(lines_for("cisco_ios")), dry_run=True)
    assert summary["baseline"] == "device"
    assert [r.command for r in fresh.results] == ["show running-config", CHANGE_RECORD]


async def test_session_lost_during_the_revert_keeps_outputs_and_says_what_happens(
    sim: Simulator, specs: dict[str, DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs["juniper_junos"]
    before = config_of(sim, spec)
    sim.device(spec.name).set_faults(hang_on="rollback 1")
    check = CheckSpec(command="show system uptime", rule="contains", pattern="NEVER-THERE")
    plan = ChangePlan(lines_for("juniper_junos"), checks=[check], rollback=RollbackSpec())
    try:
        run, summary = await change(pool, spec, plan, command_timeout_s=0.5)
    finally:
        sim.device(spec.name).clear_faults()
    assert not run.ok
    assert run.error_kind == "command_timeout"
    sent = [r.command for r in run.results]
    assert sent.count("show system uptime") == 2  # outputs before the failure are kept
    assert "commit confirmed 5" in sent
    assert summary["rolled_back"] is False
    assert "the rollback failed" in summary["rollback_reason"]
    state = sim.device(spec.name).state
    assert isinstance(state, JunosState)
    assert state.pending_confirm is not None  # never confirmed: the device reverts itself
    assert state.expire(now=10**12)
    assert config_of(sim, spec) == before
