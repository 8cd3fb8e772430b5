"""The comparison text of a configuration: volatile lines dropped or masked.

The stored text keeps every line as fetched; a new version is stored only when the
normalised text (and so its ``sha256``) changed. Besides the platform's rules (see
``netfleet.configs.rules``), normalising turns CR LF and CR into LF, strips trailing
blanks and removes leading and trailing blank lines.

>>> normalise("Building configuration...\\n\\nhostname R1\\nend\\n", "cisco_ios")
'hostname R1\\nend\\n'
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import re2

from netfleet.configs.rules import BUILTIN_RULES, Rule
from netfleet.core.errors import PlatformFileError
from netfleet.platforms import PlatformSpec, get_platform

MASK = "<volatile>"
"""What a masked part of a line is replaced by in the comparison text."""

_MAX_CACHED = 256


@dataclass(frozen=True, slots=True)
class Normaliser:
    """A platform's compiled rules; build with ``normaliser``."""

    platform: str
    drops: tuple[re2._Regexp[str], ...]
    masks: tuple[re2._Regexp[str], ...]

    def normalise(self, text: str) -> str:
        """The comparison text of ``text`` (ends with one newline unless empty)."""
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = [line.rstrip() for line in text.split("\n")]
        if self.drops or self.masks:
            lines = self._apply("\n".join(lines), lines)
        start, end = 0, len(lines)
        while start < end and not lines[start]:
            start += 1
        while end > start and not lines[end - 1]:
            end -= 1
        return "\n".join(lines[start:end]) + "\n" if end > start else ""

    def _apply(self, joined: str, lines: list[str]) -> list[str]:
        locate = _LineLocator(joined)
        dropped: set[int] = set()
        for pattern in self.drops:
            for m in pattern.finditer(joined):
                dropped.add(locate(m.start()))
        spans: dict[int, list[tuple[int, int]]] = {}
        for pattern in self.masks:
            for m in pattern.finditer(joined):
                index = locate(m.start())
                if index in dropped:
                    continue
                base = m.start()  # patterns are anchored: a match starts its line
                limit = base + len(lines[index])
                groups = range(1, pattern.groups + 1) if pattern.groups else (0,)
                for g in groups:
                    a, b = m.span(g)
                    if 0 <= a < limit:
                        spans.setdefault(index, []).append((a - base, min(b, limit) - base))
        if not dropped and not spans:
            return lines
        out: list[str] = []
        for index, line in enumerate(lines):
            if index in dropped:
                continue
            for a, b in sorted(spans.get(index, ()), reverse=True):
                line = line[:a] + MASK + line[b:]
            out.append(line)
        return out


class _LineLocator:
    """Line index of an offset, counting newlines in C from the previous offset asked."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.offset = 0
        self.index = 0

    def __call__(self, offset: int) -> int:
        if offset < self.offset:
            self.offset = self.index = 0
        self.index += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.index


def compile_rules(
    platform: str, rules: Iterable[Rule | tuple[str, str]], *, source: str = ""
) -> Normaliser:
    """Compile ``rules`` ((pattern, action) pairs or ``Rule``) for ``platform``.

    Raises ``PlatformFileError`` naming ``source`` for a pattern that is not anchored
    RE2 or an unknown action.
    """
    drops: list[re2._Regexp[str]] = []
    masks: list[re2._Regexp[str]] = []
    where = source or f"platform {platform!r}"
    for i, rule in enumerate(rules):
        pattern, action = (rule.pattern, rule.action) if isinstance(rule, Rule) else rule
        if not pattern.startswith("^"):
            raise PlatformFileError(
                f"{where}: config_normalise[{i}]: pattern {pattern!r} must start with '^'"
            )
        if action not in ("drop", "mask"):
            raise PlatformFileError(
                f"{where}: config_normalise[{i}]: action {action!r} is not 'drop' or 'mask'"
            )
        try:
            compiled = re2.compile("(?m)^(?:" + pattern[1:] + ")")
        except re2.error as exc:
            raise PlatformFileError(
                f"{where}: config_normalise[{i}]: not a valid RE2 pattern {pattern!r}: {exc}"
            ) from None
        (drops if action == "drop" else masks).append(compiled)
    return Normaliser(platform=platform, drops=_combined(drops), masks=tuple(masks))


def _combined(drops: list[re2._Regexp[str]]) -> tuple[re2._Regexp[str], ...]:
    """One alternation of every drop rule (one pass over the text), if it compiles."""
    if len(drops) < 2:
        return tuple(drops)
    try:
        return (re2.compile("(?m)" + "|".join(p.pattern[4:] for p in drops)),)
    except re2.error:  # e.g. the same group name in two rules
        return tuple(drops)


def builtin_family(spec: PlatformSpec) -> str:
    """The built-in rule set a platform uses: its name, else its ``textfsm_platform``, else ''."""
    if spec.name in BUILTIN_RULES:
        return spec.name
    if spec.textfsm_platform in BUILTIN_RULES:
        return spec.textfsm_platform
    return ""


_lock = threading.Lock()
_cache: dict[int, tuple[PlatformSpec, Normaliser]] = {}


def normaliser(platform: PlatformSpec | str) -> Normaliser:
    """The compiled rules of ``platform`` (built-in plus ``config_normalise``), made once."""
    spec = get_platform(platform) if isinstance(platform, str) else platform
    entry = _cache.get(id(spec))
    if entry is not None and entry[0] is spec:
        return entry[1]
    rules: list[Rule | tuple[str, str]] = list(BUILTIN_RULES.get(builtin_family(spec), ()))
    rules.extend(spec.config_normalise)
    result = compile_rules(spec.name, rules)
    with _lock:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        _cache[id(spec)] = (spec, result)
    return result


def normalise(text: str, platform: PlatformSpec | str) -> str:
    """The comparison text of ``text`` on ``platform``."""
    return normaliser(platform).normalise(text)


def config_sha256(normalised: str) -> str:
    """Hex sha256 of a (normalised) text, UTF-8 encoded."""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
