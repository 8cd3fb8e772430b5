"""Arista EOS: ``sw1>``, ``sw1#``, ``sw1(config)#``, ``sw1(config-if-Et1/1)#``."""

from __future__ import annotations

from netfleet.platforms.common import (
    AMBIGUOUS,
    AUTHORIZATION_FAILED,
    CISCO_PRIVILEGED,
    EOF_BANNER,
    INCOMPLETE,
    MORE_PAGER,
    cisco_levels,
    percent_errors,
)
from netfleet.platforms.spec import PlatformSpec, RestoreSpec

SPEC = PlatformSpec(
    name="arista_eos",
    display_name="Arista EOS",
    levels=cisco_levels(),
    default_level="privileged",
    on_open=("terminal length 0", "terminal width 32767"),
    error_patterns=(
        *percent_errors("Invalid input", INCOMPLETE, AMBIGUOUS, "Unavailable command", "Error"),
        AUTHORIZATION_FAILED,
    ),
    multiline=(EOF_BANNER,),
    pager_prompt=MORE_PAGER,
    save_command="copy running-config startup-config",
    restore=RestoreSpec(
        snapshot="copy running-config flash:{name}",
        replace="configure replace flash:{name}",
    ),
    version_patterns=(r"^Arista ", r"Software image version: \d"),
    textfsm_platform="arista_eos",
    privileged_commands=(
        *CISCO_PRIVILEGED,
        "bash",  # the Linux shell (bash sudo ...)
        "zer[otouch]",  # zerotouch cancel|enable reloads the switch
        "ins[tall]",
        ">",  # show ... > flash:file writes a file
    ),
    command_separators="|;>",
)
