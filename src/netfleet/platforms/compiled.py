"""Validate a ``PlatformSpec`` and compile its regexes once.

The device layer asks for prompt, error and pager regexes on every command, so the
registry compiles each spec exactly once into a ``CompiledPlatform``. All patterns are
compiled with ``re.MULTILINE`` (``^`` = start of a line; use ``\\Z`` for the buffer end).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from netfleet.core.scan import contains
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

FLAGS = re.MULTILINE
NAME_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
HOST_GROUP = "(?P<host>"
_MAX_PINNED = 1024


class SpecError(Exception):
    """Internal: one invalid field of a spec (``field`` is a path like ``levels[1].prompt``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class PromptMatch:
    """Which level a prompt belongs to, the hostname part, and the prompt text itself."""

    level: str
    host: str
    text: str


@dataclass(frozen=True, slots=True)
class CompiledPlatform:
    """A spec with every regex compiled; build it with ``compile_spec``."""

    spec: PlatformSpec
    prompts: Mapping[str, re.Pattern[str]]
    """Prompt regex per level name."""
    any_prompt: re.Pattern[str]
    """Matches the prompt of any level (one search instead of one per level)."""
    password_prompts: Mapping[str, re.Pattern[str]]
    """Password prompt regex per level that has one."""
    exit_confirm: Mapping[str, tuple[tuple[re.Pattern[str], str], ...]]
    errors: tuple[re.Pattern[str], ...]
    any_error: re.Pattern[str] | None
    pager: re.Pattern[str] | None
    save_confirm: tuple[tuple[re.Pattern[str], str], ...]
    banner: tuple[re.Pattern[str], ...]
    version: tuple[re.Pattern[str], ...]
    context: re.Pattern[str] | None = None
    """``spec.context_lines``: cut from the end of every output."""
    hostname_line: re.Pattern[str] | None = None
    status: re.Pattern[str] | None = None
    """``spec.status_pattern``: the exit-status line ``status_command`` prints."""
    """``spec.commit.hostname_line``: a config line that renames the device at commit."""
    host: str | None = None
    """The hostname the prompts are pinned to, if any."""
    multiline: tuple[tuple[re.Pattern[str], str], ...] = ()
    """Compiled ``start`` patterns of ``spec.multiline`` with their ``end`` templates."""
    error_literals: tuple[str, ...] | None = None
    """Text one of which every error match contains (None: unknown); lets ``find_error``
    skip the regex for the (usual) output that contains none of them."""
    _pinned: dict[str, CompiledPlatform] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def level_names(self) -> tuple[str, ...]:
        return tuple(level.name for level in self.spec.levels)

    def match_prompt(self, text: str) -> PromptMatch | None:
        """The prompt at the end of ``text`` (the buffer tail), or None.

        Passing only the last line of the buffer keeps this cheap.
        """
        m = self.any_prompt.search(text)
        return None if m is None else self.prompt_match(m)

    def prompt_match(self, m: re.Match[str]) -> PromptMatch:
        """Level, hostname and text of a match of ``any_prompt``.

        In ``any_prompt`` level ``i`` is the group ``_lvl{i}`` and its hostname ``_host{i}``.
        """
        for i, level in enumerate(self.spec.levels):
            start = m.start(f"_lvl{i}")
            if start >= 0:
                host = m.group(f"_host{i}") if f"_host{i}" in m.re.groupindex else None
                return PromptMatch(level=level.name, host=host or "", text=m.group(f"_lvl{i}"))
        raise ValueError("not a match of this platform's any_prompt")

    def find_error(self, output: str) -> str | None:
        """The device's error message if ``output`` matches an error pattern, else None.

        The message runs from the start of the first matching line to the end of the output.
        """
        if self.any_error is None:
            return None
        literals = self.error_literals
        if literals is not None and not any(contains(output, lit) for lit in literals):
            return None
        m = self.any_error.search(output)
        if m is None:
            return None
        line_start = output.rfind("\n", 0, m.start()) + 1
        return output[line_start:].strip()

    def strip_context(self, output: str) -> str:
        """``output`` without the trailing context lines (``{master:0}``, ``[edit]``)."""
        return output if self.context is None else self.context.sub("", output, count=1)

    def frame(self, command: str) -> str:
        """``command`` followed by the platform's exit-status command, if it has one."""
        extra = self.spec.status_command
        if not extra or self.status is None or not command.strip():
            return command
        stripped = command.rstrip()
        joiner = " " if stripped.endswith((";", "&")) and not stripped.endswith("&&") else "; "
        return f"{stripped}{joiner}{extra}"

    def unframe(self, output: str) -> tuple[str, int | None]:
        """``output`` without the exit-status line, and the status (None if not printed)."""
        if self.status is None:
            return output, None
        m = self.status.search(output)
        if m is None:
            return output, None
        text = output[: m.start()]
        return (text[:-1] if text.endswith("\n") else text), int(m.group(1))

    def pinned(self, host: str) -> CompiledPlatform:
        """This platform with every prompt's ``(?P<host>...)`` group fixed to ``host``."""
        if host == self.host:
            return self
        with self._lock:
            cached = self._pinned.get(host)
            if cached is None:
                if len(self._pinned) >= _MAX_PINNED:
                    self._pinned.clear()
                prompts, any_prompt = _compile_prompts(self.spec, host)
                # Only the prompts name the host: every other regex is shared, not recompiled.
                cached = replace(
                    self, prompts=prompts, any_prompt=any_prompt, host=host, _pinned={}
                )
                self._pinned[host] = cached
            return cached


def compile_spec(spec: PlatformSpec) -> CompiledPlatform:
    """Validate ``spec`` and compile its regexes; raises ``SpecError`` naming the field."""
    validate_structure(spec)
    return _compile(spec, None)


def validate_structure(spec: PlatformSpec) -> None:
    """Check the non-regex invariants of a spec; raises ``SpecError``."""
    if not NAME_RE.match(spec.name):
        raise SpecError("name", f"{spec.name!r} must be lower-case letters, digits and '_'")
    if not spec.levels:
        raise SpecError("levels", "at least one privilege level is required")
    names = [level.name for level in spec.levels]
    for i, name in enumerate(names):
        if not name or names.index(name) != i:
            raise SpecError(f"levels[{i}].name", f"{name!r} is empty or repeated")
    for i, level in enumerate(spec.levels):
        if level.host_max_len < 0:
            raise SpecError(f"levels[{i}].host_max_len", "must be 0 (no limit) or positive")
        if level.exit_repeat < 1:
            raise SpecError(f"levels[{i}].exit_repeat", "must be at least 1")
    for field_name in ("default_level", "config_level"):
        value = getattr(spec, field_name)
        if value not in names:
            raise SpecError(field_name, f"{value!r} is not one of the levels {names}")
    _validate_command_rules(spec)


def _validate_command_rules(spec: PlatformSpec) -> None:
    from netfleet.platforms.commands import RuleError, parse_rule

    if spec.command_syntax not in ("prefix", "shell"):
        raise SpecError("command_syntax", f"{spec.command_syntax!r}: use 'prefix' or 'shell'")
    if any(ch.isalnum() or ch.isspace() for ch in spec.command_separators):
        raise SpecError("command_separators", "only punctuation characters may separate commands")
    for i, rule in enumerate(spec.privileged_commands):
        try:
            parse_rule(rule, spec.command_separators)
        except RuleError as exc:
            raise SpecError(f"privileged_commands[{i}]", str(exc)) from None


def pin_host(pattern: str, host: str, *, max_len: int = 0) -> str:
    """Replace the body of the ``(?P<host>...)`` group in ``pattern`` by ``re.escape(host)``.

    With ``max_len`` (a device that may cut the hostname to that many characters in
    this prompt) both the cut and the full hostname match.
    """
    start = pattern.find(HOST_GROUP)
    if start < 0:
        return pattern
    end = _group_end(pattern, start + len(HOST_GROUP))
    body = re.escape(host)
    if 0 < max_len < len(host):
        body = f"{re.escape(host[:max_len])}(?:{re.escape(host[max_len:])})?"
    return f"{pattern[:start]}{HOST_GROUP}{body}){pattern[end:]}"


def _group_end(pattern: str, pos: int) -> int:
    """Index just past the ``)`` closing the group whose body starts at ``pos``."""
    depth = 1
    in_class = False
    i = pos
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            # A ']' right after '[' or '[^' is a literal member.
            if pattern.startswith("^]", i + 1):
                i += 2
            elif pattern.startswith("]", i + 1):
                i += 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)  # unbalanced: re.compile reports it


def _regex(field_name: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, FLAGS)
    except re.error as exc:
        raise SpecError(field_name, f"invalid regex {pattern!r}: {exc}") from None


def _pairs(
    field_name: str, pairs: tuple[tuple[str, str], ...]
) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_regex(f"{field_name}[{i}]", p), answer) for i, (p, answer) in enumerate(pairs))


def _level_prompts(levels: tuple[PrivilegeLevel, ...], host: str | None) -> Iterator[str]:
    for level in levels:
        if host is None:
            yield level.prompt
        else:
            yield pin_host(level.prompt, host, max_len=level.host_max_len)


def _compile_prompts(
    spec: PlatformSpec, host: str | None
) -> tuple[Mapping[str, re.Pattern[str]], re.Pattern[str]]:
    prompts: dict[str, re.Pattern[str]] = {}
    alternatives: list[str] = []
    for i, text in enumerate(_level_prompts(spec.levels, host)):
        compiled = _regex(f"levels[{i}].prompt", text)
        prompts[spec.levels[i].name] = compiled
        # Rename groups so the alternation has unique names; keep the host group per level.
        renamed = re.sub(r"\(\?P([<=])(\w+)([>)])", _group_renamer(i), text)
        alternatives.append(f"(?P<_lvl{i}>{renamed})")
    return MappingProxyType(prompts), _regex("levels", "|".join(alternatives))


def _compile(spec: PlatformSpec, host: str | None) -> CompiledPlatform:
    prompts, any_prompt = _compile_prompts(spec, host)
    passwords = {
        level.name: _regex(f"levels[{i}].password_prompt", level.password_prompt)
        for i, level in enumerate(spec.levels)
        if level.password_prompt
    }
    exit_confirm = {
        level.name: _pairs(f"levels[{i}].exit_confirm", level.exit_confirm)
        for i, level in enumerate(spec.levels)
        if level.exit_confirm
    }
    errors = tuple(_regex(f"error_patterns[{i}]", p) for i, p in enumerate(spec.error_patterns))
    any_error = _regex("error_patterns", "|".join(f"(?:{p})" for p in spec.error_patterns))
    return CompiledPlatform(
        spec=spec,
        prompts=prompts,
        any_prompt=any_prompt,
        password_prompts=MappingProxyType(passwords),
        exit_confirm=MappingProxyType(exit_confirm),
        errors=errors,
        any_error=any_error if spec.error_patterns else None,
        pager=_regex("pager_prompt", spec.pager_prompt) if spec.pager_prompt else None,
        save_confirm=_pairs("save_confirm", spec.save_confirm),
        banner=tuple(
            _regex(f"banner_patterns[{i}]", p) for i, p in enumerate(spec.banner_patterns)
        ),
        version=tuple(
            _regex(f"version_patterns[{i}]", p) for i, p in enumerate(spec.version_patterns)
        ),
        context=_regex("context_lines", spec.context_lines) if spec.context_lines else None,
        hostname_line=(
            _regex("commit.hostname_line", spec.commit.hostname_line)
            if spec.commit is not None and spec.commit.hostname_line
            else None
        ),
        status=_regex("status_pattern", spec.status_pattern) if spec.status_pattern else None,
        host=host,
        error_literals=_error_literals(spec.error_patterns),
        multiline=tuple(
            (_regex(f"multiline[{i}]", start), end) for i, (start, end) in enumerate(spec.multiline)
        ),
    )


_LINE_START = "^[ \\t]*"
_SPECIAL = frozenset(".^$*+?{}[]()|")


def literal_head(pattern: str) -> str | None:
    """The literal text a line-start error pattern (``line_error``) begins with, if any."""
    if not pattern.startswith(_LINE_START) or pattern.startswith("(?"):
        return None
    rest = pattern[len(_LINE_START) :]
    out: list[str] = []
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == "\\":
            nxt = rest[i + 1 : i + 2]
            if not nxt or nxt.isalnum():
                break
            out.append(nxt)
            i += 2
            continue
        if ch in _SPECIAL:
            if ch in "*?{" and out:
                out.pop()  # the quantifier makes the previous character optional
            break
        out.append(ch)
        i += 1
    return "".join(out) or None


def _error_literals(patterns: tuple[str, ...]) -> tuple[str, ...] | None:
    heads = [literal_head(p) for p in patterns]
    if not heads or any(h is None for h in heads):
        return None
    found = {h for h in heads if h}
    # A literal that contains another is redundant ("%Error " and "%"): one scan less.
    return tuple(sorted(h for h in found if not any(o != h and o in h for o in found)))


def _group_renamer(level_index: int) -> Callable[[re.Match[str]], str]:
    def rename(m: re.Match[str]) -> str:
        kind, name, close = m.groups()
        new = f"_host{level_index}" if name == "host" else f"_g{level_index}_{name}"
        return f"(?P{kind}{new}{close}"

    return rename
