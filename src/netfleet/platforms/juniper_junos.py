"""Juniper Junos: ``user@host>`` operational, ``user@host#`` configuration (candidate + commit)."""

from __future__ import annotations

from netfleet.platforms.common import END, line_error, prompt
from netfleet.platforms.spec import CommitSpec, PlatformSpec, PrivilegeLevel

HOST = r"[\w.\-]+@[\w.\-]+"
"""``user@host``."""

SPEC = PlatformSpec(
    name="juniper_junos",
    display_name="Juniper Junos",
    levels=(
        PrivilegeLevel(name="exec", prompt=prompt(HOST, ">")),
        PrivilegeLevel(
            name="config",
            prompt=prompt(HOST, "#"),
            enter="configure",
            exit="exit configuration-mode",
            exit_confirm=(
                # Leaving with uncommitted changes: discard them (the caller commits first).
                (r"Exit with uncommitted changes\? \[yes,no\] \(yes\)", "yes\n"),
            ),
        ),
    ),
    default_level="exec",
    on_open=("set cli screen-length 0", "set cli screen-width 511"),
    error_patterns=(
        line_error(r"syntax error"),
        line_error(r"unknown command"),
        line_error(r"error: "),
        line_error(r"missing argument"),
        line_error(r"invalid (?:value|interface|ip address)"),
    ),
    pager_prompt=r"-+\(more(?: \d+%)?\)-+" + END,
    commit=CommitSpec(
        commit="commit",
        check="commit check",
        rollback="rollback 0",
        diff="show | compare",
    ),
    banner_patterns=(r"^--- ?JUNOS \d",),
    version_patterns=(r"^Junos: \d", r"JUNOS (?:Software Release|Base OS|OS Kernel)"),
    textfsm_platform="juniper_junos",
)
