"""The shape of a platform description. Platforms are data, not classes.

One small module per platform (``cisco_ios.py`` ...) builds a ``PlatformSpec``;
users add platforms or extra error patterns from YAML with the same fields.
Regexes are strings here and compiled once by the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CommandSyntax = Literal["prefix", "shell"]
"""How a platform reads command words: ``prefix`` (keywords may be abbreviated to any
unique prefix: Cisco, Arista, Junos) or ``shell`` (words as a POSIX shell splits them)."""

DEFAULT_PRIVILEGED_COMMANDS: tuple[str, ...] = (
    "con[figure]",
    "ed[it]",
    "com[mit]",
    "wr[ite]",
    "cop[y]",
    "sav[e]",
    "rel[oad]",
    "reb[oot]",
    "shu[tdown]",
    "er[ase]",
    "del[ete]",
    "for[mat]",
    "ins[tall]",
)
"""Privileged commands of a platform defined from scratch (no ``extends``)."""


@dataclass(frozen=True, slots=True)
class PrivilegeLevel:
    """One CLI mode and how to move into and out of it."""

    name: str
    """e.g. ``exec``, ``privileged``, ``config``."""
    prompt: str
    """Regex matching the prompt at this level at the end of the buffer (hostname-free;
    the session pins it to the learned hostname). Compiled with ``re.MULTILINE``; the
    hostname part is the named group ``(?P<host>...)``, which pinning replaces."""
    enter: str | None = None
    """Command that enters this level from the level below (``enable``, ``configure terminal``)."""
    exit: str | None = None
    """Command that leaves this level to the level below (``disable``, ``end``)."""
    enter_fallback: tuple[str, ...] = ()
    """Commands tried in order when the device refuses ``enter`` with an error and stays
    where it was (Junos: ``configure exclusive`` where ``configure private`` is refused)."""
    password_prompt: str | None = None
    """Regex of a password prompt that ``enter`` may print (``enable``)."""
    exit_repeat: int = 1
    """How many times ``exit`` may be sent while the prompt stays at this level: CLIs
    without ``end`` leave each sub-mode (``(config-if)``) with one ``exit``; 1 = once."""
    exit_confirm: tuple[tuple[str, str], ...] = ()
    """(regex, answer) pairs for questions ``exit`` may ask, e.g. uncommitted changes on
    Junos/IOS-XR. Answers are sent as-is (they include their own newline)."""
    host_max_len: int = 0
    """The device may show only this many hostname characters in this level's prompt
    (IOS cuts to 20 in configuration mode on many releases, not on all); 0 = no limit.
    A pinned prompt then accepts the cut and the full hostname."""


@dataclass(frozen=True, slots=True)
class CommitSpec:
    """Candidate-configuration platforms (Junos, IOS-XR)."""

    commit: str
    check: str | None
    rollback: str
    """Discard the uncommitted candidate (``rollback 0`` / ``abort``-style)."""
    diff: str
    """Show the candidate's difference to the running config (``show | compare``)."""
    top: str | None = None
    """Command that returns to the top of the hierarchy before the diff and the commit
    (Junos ``top``: ``show | compare`` shows only the current level)."""
    hostname_line: str | None = None
    """Regex of a config line that renames the device; group 1 is the new hostname. The
    prompt changes at ``commit`` and is re-learned there."""
    confirmed: str | None = None
    """A commit the device reverts unless confirmed in time: ``{minutes}``/``{seconds}``
    are the deadline (Junos ``commit confirmed {minutes}``); None: not supported."""
    confirmed_enter: str | None = None
    """How to enter configuration mode for a confirmed commit and its confirmation or
    revert, when the usual way does not allow it (Junos: ``configure exclusive``, as
    ``commit confirmed`` is refused in a private candidate)."""
    confirm: str = "commit"
    """Confirms a pending confirmed commit (in configuration mode)."""
    revert: tuple[str, ...] = ()
    """Configuration-mode commands that restore the configuration before the last commit
    (Junos ``rollback 1`` + ``commit``); empty: let the confirmed commit expire."""


@dataclass(frozen=True, slots=True)
class RestoreSpec:
    """Rollback on platforms without a candidate: save the running configuration on the
    device before a change, and replace the running configuration with it to undo the
    change. Commands run at the privileged level; ``{name}`` is the snapshot's name."""

    snapshot: str
    replace: str
    prepare: str | None = None
    """Sent first, its errors ignored (NX-OS: delete a checkpoint a crash left behind)."""
    answers: tuple[tuple[str, str], ...] = ()
    """(regex, answer) pairs for questions the two commands may ask."""
    cleanup: str | None = None
    """Deletes the snapshot afterwards (None: it is overwritten by the next change)."""
    name: str = "netfleet-rollback.cfg"


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """Everything netfleet needs to know to drive one platform's CLI."""

    name: str
    display_name: str
    levels: tuple[PrivilegeLevel, ...]
    """Ordered from lowest to highest; the last is the configuration level."""
    default_level: str
    """The level a session is reset to between tasks."""
    config_level: str = "config"
    on_open: tuple[str, ...] = ()
    """Commands sent once after login (disable paging, set width)."""
    error_patterns: tuple[str, ...] = ()
    """Regexes; a match in a command's output makes that command fail with the device's text."""
    pager_prompt: str | None = None
    """Regex of the pager prompt, answered with ``pager_answer`` if paging is still on."""
    pager_answer: str = " "
    save_command: str | None = None
    save_confirm: tuple[tuple[str, str], ...] = ()
    """(regex, answer) pairs for questions ``save_command`` may ask; answers are sent as-is."""
    commit: CommitSpec | None = None
    restore: RestoreSpec | None = None
    """Snapshot and replace (IOS ``configure replace``, NX-OS checkpoints); None: none."""
    banner_patterns: tuple[str, ...] = ()
    """Regexes over the login banner/MOTD that identify this platform (autodetect)."""
    version_command: str = "show version"
    version_patterns: tuple[str, ...] = ()
    """Regexes over ``version_command`` output that identify this platform (autodetect)."""
    textfsm_platform: str = ""
    """The ntc-templates platform name (``cisco_ios`` ...)."""
    alive_command: str = ""
    """Cheapest command for a liveness probe ("" = just a newline)."""
    terminator: str = "\n"
    multiline: tuple[tuple[str, str], ...] = ()
    """(start, end) regex pairs of configuration blocks the device reads without a prompt
    per line (an IOS ``banner motd ^C`` ... ``^C``): the lines from a ``start`` match to
    the next line matching ``end`` are sent as one step. In ``end``, ``{delim}`` is the
    start's first group (the delimiter), escaped; a start line that already contains the
    delimiter again after the match is a block of one line."""
    ansi: bool = False
    """The platform emits ANSI escapes that must be stripped."""
    status_command: str = ""
    """A shell command run after each command on the same line (``cmd; status_command``)
    that prints the command's exit status (Linux: ``printf ... "$?"``); "" = none."""
    status_pattern: str | None = None
    """Regex (ending in ``\\Z``) of what ``status_command`` prints; group 1 is the status.
    It is cut from the output; a non-zero status fails the command, output kept."""
    context_lines: str | None = None
    """Regex (ending in ``\\Z``) of the lines a device prints between a command's output
    and its prompt that are not output (Junos ``{master:0}``, ``[edit]``); cut from outputs."""
    privileged_commands: tuple[str, ...] = DEFAULT_PRIVILEGED_COMMANDS
    """Commands that enter configuration mode, save, reload, erase, copy or commit: only
    config jobs (or admins with ``allow_privileged_commands``) may send them. Each entry
    is words; ``conf[igure]`` accepts ``conf`` .. ``configure`` (on ``prefix`` syntax),
    ``mkfs*`` any word starting so, ``*`` any word. An entry starting with a separator
    (``| t[ee]``, ``>``) applies only to the part of a command after that separator.
    See ``netfleet.platforms.commands``."""
    command_syntax: CommandSyntax = "prefix"
    command_separators: str = "|;"
    """Characters that split one command line into parts, each checked on its own."""
    extra: dict[str, str] = field(default_factory=dict)
    config_normalise: tuple[tuple[str, str], ...] = ()
    """User (pattern, action) rules for comparing configs, added to the built-in ones of
    ``netfleet.configs``; action is ``drop`` or ``mask``, patterns are anchored RE2."""
