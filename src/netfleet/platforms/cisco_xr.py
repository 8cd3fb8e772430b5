"""Cisco IOS-XR: logs in at ``RP/0/RP0/CPU0:R1#``; candidate config with ``commit``."""

from __future__ import annotations

from netfleet.platforms.common import CONFIG_MODE, END, line_error, prompt
from netfleet.platforms.spec import CommitSpec, PlatformSpec, PrivilegeLevel

HOST = r"(?:[\w.\-]+/[\w./\-]*:)?[\w.\-]+"
"""``RP/0/RP0/CPU0:R1`` (node location, then the hostname) or a bare hostname."""

SPEC = PlatformSpec(
    name="cisco_xr",
    display_name="Cisco IOS-XR",
    levels=(
        PrivilegeLevel(name="privileged", prompt=prompt(HOST, "#")),
        PrivilegeLevel(
            name="config",
            prompt=prompt(HOST, CONFIG_MODE + "#"),
            enter="configure terminal",
            exit="end",
            exit_confirm=(
                # Leaving with uncommitted changes: discard them (the caller commits first).
                (r"Uncommitted changes found, commit them[^\n]*\?\s*\[cancel\]:", "no\n"),
            ),
        ),
    ),
    default_level="privileged",
    on_open=("terminal length 0", "terminal width 511"),
    error_patterns=(
        line_error(r"% ?Invalid input detected"),
        line_error(r"% ?Incomplete command"),
        line_error(r"% ?Ambiguous command"),
        line_error(r"% ?Failed to commit"),
        line_error(r"% ?Bad IP address"),
        line_error(r"% ?Unknown command"),
    ),
    pager_prompt=r"-+ ?More ?-+" + END,
    commit=CommitSpec(
        commit="commit",
        check=None,  # XR has no "commit check"; a failed commit rolls itself back.
        rollback="clear",  # discards the target (uncommitted) configuration, stays in config
        diff="show commit changes diff",
    ),
    version_patterns=(r"Cisco IOS XR Software",),
    textfsm_platform="cisco_xr",
)
