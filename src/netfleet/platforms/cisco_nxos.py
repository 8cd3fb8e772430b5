"""Cisco NX-OS: logs in at ``switch#``; ``switch(config)#``."""

from __future__ import annotations

from netfleet.platforms.common import (
    AMBIGUOUS,
    AUTHORIZATION_FAILED,
    CISCO_PRIVILEGED,
    DELIMITED_BANNER,
    INCOMPLETE,
    INVALID_INPUT,
    MORE_PAGER,
    cisco_levels,
    line_error,
    percent_errors,
)
from netfleet.platforms.spec import PlatformSpec, RestoreSpec

SPEC = PlatformSpec(
    name="cisco_nxos",
    display_name="Cisco NX-OS",
    levels=cisco_levels(user_exec=False),
    default_level="privileged",
    on_open=("terminal length 0", "terminal width 511"),
    error_patterns=(
        *percent_errors(
            "Invalid command",
            INCOMPLETE,
            "Invalid parameter",
            "Invalid (?:number|range|value|ip address|interface)",
            AMBIGUOUS,
            "Permission denied",
            INVALID_INPUT,
        ),
        AUTHORIZATION_FAILED,
        line_error(r"ERROR: (?:Checkpoint|No checkpoint|Rollback)"),  # checkpoint commands
    ),
    multiline=(DELIMITED_BANNER,),
    pager_prompt=MORE_PAGER,
    save_command="copy running-config startup-config",
    # Configuration rollback with a named user checkpoint.
    restore=RestoreSpec(
        prepare="no checkpoint {name}",
        snapshot="checkpoint {name}",
        replace="rollback running-config checkpoint {name}",
        cleanup="no checkpoint {name}",
        name="netfleet-rollback",
    ),
    version_patterns=(r"Cisco Nexus Operating System \(NX-OS\) Software",),
    textfsm_platform="cisco_nxos",
    privileged_commands=(
        *CISCO_PRIVILEGED,
        "ins[tall]",  # install all nxos bootflash:...
        "rol[lback]",  # rollback running-config checkpoint ...
        "run",  # run bash
        "run-[script]",
        "py[thon]",
        "bash",
        ">",  # show ... > bootflash:file (and >>) write files
    ),
    command_separators="|;>",  # NX-OS runs "cmd1 ; cmd2" in sequence
)
