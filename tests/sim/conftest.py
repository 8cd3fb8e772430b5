"""Fixtures for simulator server tests: an echo-platform fleet (see _echo_platform.py)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _echo_platform import REGISTRY

from netfleet_sim import SimDevice, Simulator


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(devices=2, platforms=["echo", "echo2"], registry=REGISTRY) as s:
        yield s


@pytest.fixture
def device(sim: Simulator) -> SimDevice:
    return sim.devices[0]
