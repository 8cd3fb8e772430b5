"""scrapli (libscrapli over the system ssh) logs in, runs show commands, pushes and reads config."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from scrapli import AuthOptions, Cli, LookupKeyValue

from netfleet_sim import SimDevice, Simulator
from netfleet_sim.fleet import builtin_platforms
from tests.support.client_cases import CASES, ClientCase

DEFINITIONS = {
    "cisco_xe": "cisco_iosxe",
    "cisco_nxos": "cisco_nxos",
    "cisco_xr": "cisco_iosxr",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
}

pytestmark = pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh binary")


def params() -> list[object]:
    available = builtin_platforms()
    return [
        pytest.param(
            CASES[name],
            definition,
            id=name,
            marks=[] if name in available else [pytest.mark.skip(reason=f"{name} not built in")],
        )
        for name, definition in DEFINITIONS.items()
    ]


def scrapli_session(device: SimDevice, case: ClientCase, definition: str) -> tuple[str, str]:
    auth = AuthOptions(
        username=device.username,
        password=device.password,
        lookups=[LookupKeyValue(key="enable", value=device.enable_secret)],
    )
    with Cli(
        device.host, port=device.port, definition_file_or_name=definition, auth_options=auth
    ) as cli:
        shown = cli.send_input(case.show).result
        lines = list(case.config)
        if case.commit:
            lines.append("commit")
        cli.send_inputs(lines, requested_mode="configuration")
        readback = cli.send_input(case.readback).result
    return shown, readback


@pytest.mark.parametrize(("case", "definition"), params())
async def test_scrapli_show_and_config(case: ClientCase, definition: str) -> None:
    async with Simulator(devices=1, platforms=[case.platform]) as sim:
        device = sim.devices[0]
        shown, readback = await asyncio.to_thread(scrapli_session, device, case, definition)
        assert case.show_expect in shown
        assert case.readback_expect in readback
        assert device.stats.logins == 1
