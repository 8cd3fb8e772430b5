"""Cisco ASA: ``asa>``, ``asa#``, ``asa(config)#``; multi-context ``asa/ctx1#``; failover
pairs ``asa/pri/act#``."""

from __future__ import annotations

from netfleet.platforms.common import (
    AUTHORIZATION_FAILED,
    CISCO_PRIVILEGED,
    END,
    INVALID_INPUT,
    cisco_levels,
    line_error,
    percent_errors,
)
from netfleet.platforms.spec import PlatformSpec

HOST = r"[\w.\-]+(?:/(?!(?:pri|sec)/)[\w.\-]+)?"
"""Hostname, optionally followed by ``/context``."""
FAILOVER = r"(?:/(?:pri|sec)/(?:act|stby))?"
"""A failover pair's unit and state after the hostname (``fw/pri/act#``, ``fw/sec/stby#``);
not part of the pinned hostname, since it changes when the pair fails over."""

SPEC = PlatformSpec(
    name="cisco_asa",
    display_name="Cisco ASA",
    levels=cisco_levels(HOST, after_host=FAILOVER),
    default_level="privileged",
    on_open=("terminal pager 0",),
    error_patterns=(line_error(r"ERROR: "), *percent_errors(INVALID_INPUT), AUTHORIZATION_FAILED),
    pager_prompt=r"<-+ ?More ?-+>" + END,
    save_command="write memory",
    version_patterns=(r"Cisco Adaptive Security Appliance Software",),
    textfsm_platform="cisco_asa",
    privileged_commands=(*CISCO_PRIVILEGED, "cha[ngeto]"),  # changeto context|system
)
