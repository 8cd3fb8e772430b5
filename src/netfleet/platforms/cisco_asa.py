"""Cisco ASA: ``asa>``, ``asa#``, ``asa(config)#``; multi-context ``asa/ctx1#``."""

from __future__ import annotations

from netfleet.platforms.common import (
    CISCO_PRIVILEGED,
    END,
    INVALID_INPUT,
    cisco_levels,
    line_error,
    percent_errors,
)
from netfleet.platforms.spec import PlatformSpec

HOST = r"[\w.\-]+(?:/[\w.\-]+)?"
"""Hostname, optionally followed by ``/context``."""

SPEC = PlatformSpec(
    name="cisco_asa",
    display_name="Cisco ASA",
    levels=cisco_levels(HOST),
    default_level="privileged",
    on_open=("terminal pager 0",),
    error_patterns=(line_error(r"ERROR: "), *percent_errors(INVALID_INPUT)),
    pager_prompt=r"<-+ ?More ?-+>" + END,
    save_command="write memory",
    version_patterns=(r"Cisco Adaptive Security Appliance Software",),
    textfsm_platform="cisco_asa",
    privileged_commands=(*CISCO_PRIVILEGED, "cha[ngeto]"),  # changeto context|system
)
