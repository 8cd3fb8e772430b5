"""Property: whatever mix of cancellations, timeouts and drops hits one session, every
output a command returns is that command's own (each output carries a unique marker)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netfleet.core.errors import CommandTimeout, ConnectionLost
from netfleet.device import Device
from netfleet.transport import Timeouts
from netfleet_sim import SimDevice, Simulator

FAST = Timeouts(tcp=5.0, handshake=5.0, auth=5.0, prompt=5.0)
MARKER = re.compile(r"m[0-9a-f]{32}")
OPS = st.lists(st.sampled_from(["command", "cancel", "timeout", "drop"]), min_size=1, max_size=8)


async def _busy(dev: Device) -> None:
    while dev._channel is None or not dev._channel.busy:  # noqa: ASYNC110
        await asyncio.sleep(0)


async def _step(dev: Device, d: SimDevice, op: str) -> None:
    marker = f"m{uuid.uuid4().hex}"
    command = f"ping {marker}"
    if op == "cancel":
        d.set_faults(latency_ms=200)
        task = asyncio.ensure_future(dev.send_command(command))
        await _busy(dev)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    elif op == "timeout":
        d.set_faults(latency_ms=300)
        with contextlib.suppress(CommandTimeout):
            await dev.send_command(command, timeout=0.05)
    elif op == "drop":
        d.set_faults(drop_mid_output=True)
        with contextlib.suppress(ConnectionLost):
            await dev.send_command(command)
    d.clear_faults()
    if op != "command":
        assert dev.dirty or dev.closed  # never reused as is
    # Whatever happened before, the next command gets exactly its own output.
    marker = f"m{uuid.uuid4().hex}"
    result = await dev.send_command(f"ping {marker}")  # a dirty session is reopened first
    assert result.ok
    assert MARKER.findall(result.output) == [marker], result.output


async def _scenario(ops: list[str]) -> None:
    async with Simulator(devices=1, platforms=["cisco_ios"], base_port=0) as sim:
        d = sim.devices[0]
        dev = Device(
            d.host,
            port=d.port,
            platform="cisco_ios",
            username=d.username,
            password=d.password,
            enable_secret=d.enable_secret,
            host_key_policy="off",
            timeouts=FAST,
            command_timeout=5.0,
        )
        async with dev:
            for op in ops:
                await _step(dev, d, op)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
def test_every_output_belongs_to_its_command(ops: list[str]) -> None:
    asyncio.run(_scenario(ops))
