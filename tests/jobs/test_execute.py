"""``run_on_device``: per-command results, failure strategies, session discard, no lost output."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.jobs.execute import DeviceRun, run_on_device
from netfleet.jobs.model import JobOptions
from netfleet.pool import SessionPool
from netfleet_sim import Simulator

MakePool = Callable[..., SessionPool[Device]]
CMDS = ["show clock", "show bogus", "show version", "show nonsense", "show clock"]


async def test_commands_results_and_session_reuse(
    specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    first = await run_on_device(pool, specs[0], commands=["show clock", "show version"])
    assert first.ok
    assert first.error is None
    assert [r.command for r in first.results] == ["show clock", "show version"]
    assert all(r.ok and r.output for r in first.results)
    assert not first.reused_session
    second = await run_on_device(pool, specs[0], commands=["show clock"])
    assert second.ok
    assert second.reused_session
    assert second.to_dict()["results"][0]["command"] == "show clock"


async def test_failure_strategies(specs: list[DeviceSpec], make_pool: MakePool) -> None:
    pool = make_pool()
    spec = specs[0]

    def kinds(run: DeviceRun) -> list[str | None]:
        return [r.error_kind for r in run.results]

    run = await run_on_device(pool, spec, commands=CMDS)
    assert kinds(run) == [None, "command_error", None, "command_error", None]
    assert not run.ok
    assert run.error is not None
    assert "show bogus" in run.error

    opts = JobOptions(failure_strategy="abort_first")
    run = await run_on_device(pool, spec, commands=CMDS, options=opts)
    assert kinds(run) == [None, "command_error", "not_run", "not_run", "not_run"]
    assert "aborted after 1" in str(run.results[2].error)

    opts = JobOptions(failure_strategy="abort_after_n", failure_n=2)
    run = await run_on_device(pool, spec, commands=CMDS, options=opts)
    assert kinds(run) == [None, "command_error", None, "command_error", "not_run"]
    # A rejected command leaves the session clean: all these runs shared one login.
    assert pool.stats().total.logins == 1


async def test_mid_command_failure_keeps_outputs_and_discards_session(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs[0]
    sim.device(spec.name).set_faults(hang_on="show version")
    opts = JobOptions(command_timeout_s=0.3)
    run = await run_on_device(
        pool, spec, commands=["show clock", "show version", "show clock"], options=opts
    )
    assert not run.ok
    assert run.transient
    assert run.error_kind == "command_timeout"
    assert run.results[0].ok
    assert run.results[0].output  # the output before the failure is kept
    assert [r.error_kind for r in run.results] == [None, "command_timeout", "not_run"]
    sim.device(spec.name).clear_faults()
    assert pool.stats().total.evictions == {"dirty": 1}
    again = await run_on_device(pool, spec, commands=["show clock"])
    assert again.ok
    assert not again.reused_session


async def test_connection_lost_mid_output(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs[1]
    await run_on_device(pool, spec, commands=["show clock"])
    sim.device(spec.name).set_faults(drop_mid_output=True)
    run = await run_on_device(pool, spec, commands=["show version", "show clock"])
    assert [r.error_kind for r in run.results] == ["connection_lost", "not_run"]
    assert run.transient
    # The reused session died before any output, so it ran once more on a fresh one.
    assert pool.stats().total.logins == 2
    assert pool.stats().total.in_use == 0
    assert pool.stats().total.idle == 0


async def test_checkout_failure_reports_every_command(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    sim.device(specs[2].name).set_faults(refuse_sessions=True)
    run = await run_on_device(pool, specs[2], commands=["show clock", "show version"])
    assert not run.ok
    assert run.transient
    assert [r.error_kind for r in run.results] == ["not_run", "not_run"]
    assert run.error is not None
    assert specs[2].name in run.error


async def test_config_push_and_dry_run(
    sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    spec = specs[0]
    lines = ["interface Loopback7", " description netfleet-test"]
    dry = await run_on_device(pool, spec, config=lines, options=JobOptions(dry_run=True))
    assert dry.ok, dry.error
    assert dry.config is not None
    assert dry.config.dry_run
    run = await run_on_device(pool, spec, config=lines)
    assert run.ok, run.error
    assert run.config is not None
    assert len(run.results) >= 2
    check = await run_on_device(pool, spec, commands=["show running-config interface Loopback7"])
    assert "netfleet-test" in check.results[0].output
    assert pool.stats().total.logins == 1


async def test_task_deadline(sim: Simulator, specs: list[DeviceSpec], make_pool: MakePool) -> None:
    pool = make_pool()
    spec = dataclasses.replace(specs[0])
    sim.device(spec.name).set_faults(hang_on="show version")
    opts = JobOptions(task_deadline_s=0.3)
    run = await run_on_device(pool, spec, commands=["show clock", "show version"], options=opts)
    sim.device(spec.name).clear_faults()
    assert run.error_kind == "deadline_exceeded"
    assert run.results[0].ok
    assert run.results[1].error_kind == "not_run"
    assert pool.stats().total.evictions == {"dirty": 1}
