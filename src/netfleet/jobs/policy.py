"""Command policy: a command job never changes configuration.

Commands that enter configuration mode, save, reload, erase, copy or commit are listed
per platform (``PlatformSpec.privileged_commands``, extendable by user platform files).
A command job may send them only with ``options.allow_privileged_commands``, which only
admins may set; configuration goes through config jobs (admins too). A job's targets
can change (groups, filters, schedules), so a command is privileged when the rules of
*any* registered platform say so.

Control characters in commands (newlines: several commands in one) are refused by
``JobSpec`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netfleet.core.errors import CommandNotAllowed, Forbidden
from netfleet.jobs.model import JobSpec
from netfleet.platforms import get_platform, known_platforms
from netfleet.platforms.commands import CommandRules
from netfleet.platforms.spec import PlatformSpec

ALLOW_OPTION = "options.allow_privileged_commands"

_rules: dict[int, tuple[PlatformSpec, CommandRules]] = {}


@dataclass(frozen=True, slots=True)
class PrivilegedHit:
    """A command of a job that a platform's rule calls privileged."""

    index: int
    command: str
    rule: str
    platforms: tuple[str, ...]
    """Every platform whose rules call it privileged; ``rule`` is the first one's."""

    def describe(self) -> str:
        shown = self.command if len(self.command) <= 80 else self.command[:77] + "..."
        return f"commands[{self.index}] {shown!r} is a privileged command {self.where()}"

    def where(self) -> str:
        """``(rule 'x' of cisco_ios)``, or of the first platforms and how many more."""
        names = list(self.platforms)
        if len(names) == 1:
            return f"(rule {self.rule!r} of platform {names[0]})"
        if len(names) > 3:
            names[3:] = [f"{len(names) - 3} more"]
        return f"(rule {self.rule!r} of platforms {', '.join(names[:-1])} and {names[-1]})"


def _rules_of(spec: PlatformSpec) -> CommandRules:
    entry = _rules.get(id(spec))
    if entry is None or entry[0] is not spec:
        if len(_rules) > 256:
            _rules.clear()
        entry = (spec, CommandRules(spec))
        _rules[id(spec)] = entry
    return entry[1]


def privileged_hit(command: str) -> tuple[str, tuple[str, ...]] | None:
    """(the first matching rule, every platform with a rule ``command`` matches), or None."""
    first: str | None = None
    names: list[str] = []
    for name in known_platforms():
        rule = _rules_of(get_platform(name)).match(command)
        if rule is not None:
            first = first or rule
            names.append(name)
    return None if first is None else (first, tuple(names))


def privileged_commands(commands: Sequence[str]) -> list[PrivilegedHit]:
    """The commands that some platform's rules call privileged."""
    hits = []
    for index, command in enumerate(commands):
        hit = privileged_hit(command)
        if hit is not None:
            hits.append(PrivilegedHit(index, command, hit[0], hit[1]))
    return hits


def job_permission(spec: JobSpec) -> str:
    """What the job may do, for the audit log: ``config``, ``commands+privileged``
    (privileged commands allowed) or ``commands``."""
    if spec.kind == "config":
        return "config"
    return "commands+privileged" if spec.options.allow_privileged_commands else "commands"


def check_job_policy(spec: JobSpec, *, admin: bool, what: str = "a job") -> None:
    """Refuse what the caller may not submit.

    ``Forbidden`` (403) when a non-admin sends config, sets the allow option or
    sends a privileged command; ``CommandNotAllowed`` (422) when an admin sends a
    privileged command in a command job without the allow option.
    """
    allow = spec.options.allow_privileged_commands
    if spec.options.emergency and not admin:
        raise Forbidden("options.emergency (start outside change windows) needs the admin role")
    if not admin:
        if spec.kind == "config":
            raise Forbidden(f"{what} with config lines needs the admin role")
        if allow:
            raise Forbidden(f"{ALLOW_OPTION} may only be set by an admin")
    if not allow:
        check_check_commands(spec)
    if spec.kind == "config" or allow:
        return
    check_commands(spec.commands, admin=admin)


def check_check_commands(spec: JobSpec) -> None:
    """Pre/post check commands only read state: ``CommandNotAllowed`` for a privileged
    one (reload, copy, configure ...) unless the job allows privileged commands."""
    hits = privileged_commands([check.command for check in spec.checks])
    if hits:
        hit = hits[0]
        raise CommandNotAllowed(
            f"checks[{hit.index}] {hit.command!r} is a privileged command {hit.where()}: "
            "checks only read the device's state"
        )


def check_commands(commands: Sequence[str], *, admin: bool) -> None:
    """Refuse privileged commands (``Forbidden`` for non-admins, else ``CommandNotAllowed``)."""
    hits = privileged_commands(commands)
    if not hits:
        return
    first = hits[0].describe()
    more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
    if not admin:
        raise Forbidden(
            f"{first}{more}: only admins may send it, as a config job or with {ALLOW_OPTION}"
        )
    raise CommandNotAllowed(
        f"{first}{more}: command jobs never change configuration; send config lines as a "
        f"config job, or set {ALLOW_OPTION} (CLI: --allow-privileged-commands)"
    )
