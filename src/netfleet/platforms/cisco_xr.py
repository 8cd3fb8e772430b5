"""Cisco IOS-XR: logs in at ``RP/0/RP0/CPU0:R1#``; candidate config with ``commit``."""

from __future__ import annotations

from netfleet.platforms.common import (
    AMBIGUOUS,
    AUTHORIZATION_FAILED,
    CISCO_PRIVILEGED,
    INCOMPLETE,
    INVALID_INPUT,
    MORE_PAGER,
    cisco_levels,
    percent_errors,
)
from netfleet.platforms.spec import CommitSpec, PlatformSpec

HOST = r"(?:[\w.\-]+/[\w./\-]*:)?[\w.\-]+"
"""``RP/0/RP0/CPU0:R1`` (node location, then the hostname) or a bare hostname."""

SPEC = PlatformSpec(
    name="cisco_xr",
    display_name="Cisco IOS-XR",
    levels=cisco_levels(
        HOST,
        user_exec=False,
        exit_confirm=(
            # Leaving with uncommitted changes: discard them (the caller commits first).
            (r"Uncommitted changes found, commit them[^\n]*\?\s*\[cancel\]:", "no\n"),
        ),
    ),
    default_level="privileged",
    on_open=("terminal length 0", "terminal width 511"),
    error_patterns=(
        *percent_errors(
            INVALID_INPUT,
            INCOMPLETE,
            AMBIGUOUS,
            "Failed to commit",
            "Bad IP address",
            "Unknown command",
        ),
        AUTHORIZATION_FAILED,
    ),
    pager_prompt=MORE_PAGER,
    commit=CommitSpec(
        commit="commit",
        check=None,  # XR has no "commit check"; a failed commit rolls itself back.
        rollback="clear",  # discards the target (uncommitted) configuration, stays in config
        diff="show commit changes diff",
        hostname_line=r"^\s*hostname\s+(\S+)\s*$",
        confirmed="commit confirmed {seconds}",  # reverts unless "commit" follows in time
    ),
    version_patterns=(r"Cisco IOS XR Software",),
    textfsm_platform="cisco_xr",
    privileged_commands=(
        *CISCO_PRIVILEGED,
        "adm[in]",  # admin mode: reload location all, install ...
        "com[mit]",
        "ins[tall]",
        "rol[lback]",  # rollback configuration last 1
        "run",  # the shell
        "bash",
        "hw[-module]",  # hw-module location ... reload
        "pro[cess]",  # process restart|shutdown
    ),
)
