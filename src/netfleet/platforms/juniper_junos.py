"""Juniper Junos: ``user@host>`` operational, ``user@host#`` configuration (candidate + commit).

netfleet edits a private candidate (``configure private``; ``configure exclusive`` where
private is refused), never the shared one, so it neither commits nor discards other
users' uncommitted changes. Diffs and commits are taken from ``top``.
"""

from __future__ import annotations

from netfleet.platforms.common import END, line_error, prompt
from netfleet.platforms.spec import CommitSpec, PlatformSpec, PrivilegeLevel

HOST = r"[\w.\-]+@[\w.\-]+(?::[\w.\-]+)?"
"""``user@host``, or ``user@host:lsys`` inside a logical system."""

CHASSIS = r"\{(?:master|backup|primary|secondary|linecard|line)(?::[^}\n]*)?\}"
"""The routing-engine / cluster-node line above the prompt: ``{master:0}``, ``{primary:node0}``."""

EDIT = r"\[edit(?: [^\]\n]*)?\]"
"""The configuration-mode context line: ``[edit]``, ``[edit interfaces ge-0/0/0]``."""

SPEC = PlatformSpec(
    name="juniper_junos",
    display_name="Juniper Junos",
    levels=(
        PrivilegeLevel(name="exec", prompt=prompt(HOST, ">")),
        PrivilegeLevel(
            name="config",
            prompt=prompt(HOST, "#"),
            enter="configure private",
            enter_fallback=("configure exclusive",),
            exit="exit configuration-mode",
            exit_confirm=(
                # Leaving with uncommitted changes: discard them (the caller commits first).
                (r"Discard uncommitted changes\? \[yes,no\] \(yes\)", "yes\n"),
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
        line_error(r"'[^'\n]+' is ambiguous\."),
    ),
    pager_prompt=r"-+\(more(?: \d+%)?\)-+" + END,
    commit=CommitSpec(
        commit="commit",
        check="commit check",
        rollback="rollback 0",  # in a private candidate: only this session's changes
        diff="show | compare",
        top="top",
        hostname_line=r"^\s*set\s+system\s+host-name\s+(\S+)\s*$",
    ),
    banner_patterns=(r"^--- ?JUNOS \d",),
    version_patterns=(
        r"^Junos: \d",
        r"JUNOS (?:Software Release|Base OS|OS Kernel)",
        r"^JUNOS EX\s+(?:\d+ )?Software Suite \[\d",
    ),
    textfsm_platform="juniper_junos",
    context_lines=rf"(?:\A|\n+)(?:{CHASSIS}(?:{EDIT})?|{EDIT})[ \t]*\Z",
)
