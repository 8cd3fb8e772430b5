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
        confirmed="commit confirmed {minutes}",
        confirmed_enter="configure exclusive",  # refused in configure private
        revert=("rollback 1", "commit"),
    ),
    banner_patterns=(r"^--- ?JUNOS \d",),
    version_patterns=(
        r"^Junos: \d",
        r"JUNOS (?:Software Release|Base OS|OS Kernel)",
        r"^JUNOS EX\s+(?:\d+ )?Software Suite \[\d",
    ),
    textfsm_platform="juniper_junos",
    context_lines=rf"(?:\A|\n+)(?:{CHASSIS}(?:{EDIT})?|{EDIT})[ \t]*\Z",
    privileged_commands=(
        "co[nfigure]",  # configure, configure private|exclusive|dynamic ("c" is ambiguous)
        "ed[it]",  # operational "edit" is configure
        "com[mit]",  # commit, commit and-quit, commit confirmed
        "rol[lback]",
        "lo[ad]",  # load override|merge|replace
        "req[uest] sy[stem] r[eboot]",
        "req[uest] sy[stem] h[alt]",
        "req[uest] sy[stem] p[ower-off]",
        "req[uest] sy[stem] z[eroize]",
        "req[uest] sy[stem] so[ftware]",  # add|rollback|delete: installs and reboots
        "req[uest] sy[stem] c[onfiguration]",  # rescue save|delete
        "req[uest] sy[stem] st[orage]",  # cleanup deletes files
        "req[uest] sy[stem] sn[apshot]",
        "req[uest] ch[assis]",  # fpc|pic|routing-engine offline|restart
        "res[tart]",  # restarts daemons (routing, chassis-control ...)
        "st[art] sh[ell]",
        "fi[le] cop[y]",
        "fi[le] del[ete]",
        "fi[le] ren[ame]",
        "op",  # op scripts
        "| sav[e]",  # show ... | save /var/tmp/file writes a file
        "| t[ee]",
    ),
)
