"""Cisco ASA: ``asa>``, ``asa#``, ``asa(config)#``; multi-context ``asa/ctx1#``."""

from __future__ import annotations

from netfleet.platforms.common import CONFIG_MODE, END, PASSWORD_PROMPT, line_error, prompt
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

HOST = r"[\w.\-]+(?:/[\w.\-]+)?"
"""Hostname, optionally followed by ``/context``."""

SPEC = PlatformSpec(
    name="cisco_asa",
    display_name="Cisco ASA",
    levels=(
        PrivilegeLevel(name="exec", prompt=prompt(HOST, ">")),
        PrivilegeLevel(
            name="privileged",
            prompt=prompt(HOST, "#"),
            enter="enable",
            exit="disable",
            password_prompt=PASSWORD_PROMPT,
        ),
        PrivilegeLevel(
            name="config",
            prompt=prompt(HOST, CONFIG_MODE + "#"),
            enter="configure terminal",
            exit="end",
        ),
    ),
    default_level="privileged",
    on_open=("terminal pager 0",),
    error_patterns=(line_error(r"ERROR: "), line_error(r"% ?Invalid input detected")),
    pager_prompt=r"<-+ ?More ?-+>" + END,
    save_command="write memory",
    version_patterns=(r"Cisco Adaptive Security Appliance Software",),
    textfsm_platform="cisco_asa",
)
