"""Fixtures for simulator server tests: an echo-platform fleet (tests/support/echo_platform.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from netfleet_sim import SimDevice, Simulator
from tests.support.echo_platform import REGISTRY


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=2, platforms=["echo", "echo2"], registry=REGISTRY) as s:
        yield s


@pytest.fixture
def device(sim: Simulator) -> SimDevice:
    return sim.devices[0]
