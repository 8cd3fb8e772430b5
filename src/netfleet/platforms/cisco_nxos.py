"""Cisco NX-OS: logs in at ``switch#``; ``switch(config)#``."""

from __future__ import annotations

from netfleet.platforms.common import CONFIG_MODE, END, HOST, line_error, prompt
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

SPEC = PlatformSpec(
    name="cisco_nxos",
    display_name="Cisco NX-OS",
    levels=(
        PrivilegeLevel(name="privileged", prompt=prompt(HOST, "#")),
        PrivilegeLevel(
            name="config",
            prompt=prompt(HOST, CONFIG_MODE + "#"),
            enter="configure terminal",
            exit="end",
        ),
    ),
    default_level="privileged",
    on_open=("terminal length 0", "terminal width 511"),
    error_patterns=(
        line_error(r"% ?Invalid command"),
        line_error(r"% ?Incomplete command"),
        line_error(r"% ?Invalid parameter"),
        line_error(r"% ?Invalid (?:number|range|value|ip address|interface)"),
        line_error(r"% ?Ambiguous command"),
        line_error(r"% ?Permission denied"),
        line_error(r"% ?Invalid input detected"),
    ),
    pager_prompt=r"-+ ?More ?-+" + END,
    save_command="copy running-config startup-config",
    version_patterns=(r"Cisco Nexus Operating System \(NX-OS\) Software",),
    textfsm_platform="cisco_nxos",
)
