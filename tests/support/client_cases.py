"""Per-platform commands for the netmiko and scrapli client tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from netfleet_sim.fleet import builtin_platforms


@dataclass(frozen=True)
class ClientCase:
    platform: str
    show: str
    """A show command and a fragment of its output."""
    show_expect: str
    config: tuple[str, ...] = ()
    """Config lines pushed in configuration mode (empty: no config on this platform)."""
    readback: str = ""
    readback_expect: str = ""
    commit: bool = False


CASES = {
    "cisco_ios": ClientCase(
        "cisco_ios",
        "show version",
        "Cisco IOS Software",
        ("interface Loopback99", "description nf-client-test"),
        "show running-config interface Loopback99",
        "description nf-client-test",
    ),
    "cisco_xe": ClientCase(
        "cisco_xe",
        "show version",
        "Cisco IOS XE Software",
        ("interface Loopback99", "description nf-client-test"),
        "show running-config interface Loopback99",
        "description nf-client-test",
    ),
    "cisco_nxos": ClientCase(
        "cisco_nxos",
        "show version",
        "NX-OS",
        ("interface loopback99", "description nf-client-test"),
        "show running-config interface loopback99",
        "description nf-client-test",
    ),
    "cisco_xr": ClientCase(
        "cisco_xr",
        "show version",
        "IOS XR",
        ("interface Loopback99", "description nf-client-test"),
        "show running-config interface Loopback99",
        "description nf-client-test",
        commit=True,
    ),
    "cisco_asa": ClientCase(
        "cisco_asa",
        "show version",
        "Adaptive Security Appliance",
        ("interface GigabitEthernet1/5", "description nf-client-test"),
        "show running-config interface GigabitEthernet1/5",
        "description nf-client-test",
    ),
    "arista_eos": ClientCase(
        "arista_eos",
        "show version",
        "Arista",
        ("interface Loopback99", "description nf-client-test"),
        "show running-config interfaces Loopback99",
        "description nf-client-test",
    ),
    "juniper_junos": ClientCase(
        "juniper_junos",
        "show version",
        "Junos",
        ("set interfaces lo0 description nf-client-test",),
        "show configuration interfaces lo0",
        "description nf-client-test;",
        commit=True,
    ),
    "linux": ClientCase("linux", "uname -a", "Linux"),
}


def case_params() -> list[object]:
    """One pytest param per platform; skipped while that platform is not built in."""
    available = builtin_platforms()
    return [
        pytest.param(
            case,
            id=name,
            marks=[] if name in available else [pytest.mark.skip(reason=f"{name} not built in")],
        )
        for name, case in CASES.items()
    ]
