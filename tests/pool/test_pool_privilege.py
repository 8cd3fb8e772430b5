"""A fresh and a reused pool session run commands at the same (privileged) level."""

from __future__ import annotations

from collections.abc import Callable

from netfleet.core.models import DeviceSpec
from netfleet.device import Device
from netfleet.jobs.execute import run_on_device
from netfleet.pool import SessionPool

MakePool = Callable[..., SessionPool[Device]]


async def test_fresh_and_reused_sessions_are_at_the_same_level(
    specs: list[DeviceSpec], make_pool: MakePool
) -> None:
    pool = make_pool()
    commands = ["show privilege", "show running-config"]
    fresh = await run_on_device(pool, specs[0], commands=commands)
    assert not fresh.reused_session
    reused = await run_on_device(pool, specs[0], commands=commands)
    assert reused.reused_session
    for run in (fresh, reused):
        assert run.ok, run.error
        assert run.results[0].output.strip() == "Current privilege level is 15"
        assert run.results[1].ok
        assert run.results[1].output.rstrip().endswith("end")
