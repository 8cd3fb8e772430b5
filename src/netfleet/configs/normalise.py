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
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import re2

from netfleet.configs.needles import common_prefix, literal, minimal_needles, needles
from netfleet.configs.rules import BUILTIN_RULES, Rule
from netfleet.core.errors import PlatformFileError
from netfleet.core.regex import compile_re2
from netfleet.platforms import PlatformSpec, get_platform

MASK = "<volatile>"
"""What a masked part of a line is replaced by in the comparison text."""

_MAX_CACHED = 256


@dataclass(frozen=True, slots=True)
class LineRule:
    """One compiled rule: ``regex`` is matched at the start of a single line."""

    regex: re2._Regexp[str]
    drop: bool
    needles: tuple[str, ...] | None
    """Literal prefixes one of which starts every matching line (None: any line may match)."""
    literal: bool = False
    """The pattern is just its needles: starting with one is matching (no regex needed)."""


@dataclass(frozen=True, slots=True)
class _Scan:
    """How candidate lines are found: ``str.find`` of ``"\\n" + needle`` when every needle
    is long, else one regex pass for all of them, or every line when a rule has no
    needles."""

    finds: tuple[str, ...]
    short: re.Pattern[str] | None
    """``\\n`` followed by one of the needles (a lookahead: each line start is tried on
    its own): an alternation of literals (linear), for the standard library's ``re``
    whose literal scan beats an RE2 pass here."""
    every_line: bool


_FIND_MIN = 6
"""Needles at least this long are found with ``str.find`` (fast on long literals) when
there are only such needles; a shorter one needs a regex pass, which finds them all."""


@dataclass(frozen=True, slots=True)
class Normaliser:
    """A platform's compiled rules; build with ``normaliser``."""

    platform: str
    rules: tuple[LineRule, ...]
    scan: _Scan

    def normalise(self, text: str) -> str:
        """The comparison text of ``text`` (ends with one newline unless empty)."""
        return self._normalise(text, prefilter=True)

    def normalise_lines(self, text: str) -> tuple[str, NormalisedLines | None]:
        """``normalise(text)`` and, for a text without CR, how its lines came out (to
        normalise an edit of it with ``NormalisedLines.edited``)."""
        if "\r" in text:
            return self._normalise(text, prefilter=True), None
        rewritten: dict[int, str | None] = {}
        lines = [line.rstrip() for line in text.split("\n")]
        normalised = self._normalised(lines, prefilter=True, rewritten=rewritten)
        return normalised, NormalisedLines(self, lines, rewritten)

    def normalise_line(self, line: str) -> str | None:
        """The comparison form of one line without line breaks (None: dropped)."""
        line = line.rstrip()
        if not self.rules:
            return line
        return self._rewrite(line, filtered=not self.scan.every_line)

    def normalise_full(self, text: str) -> str:
        """The same as ``normalise``, trying every rule on every line (the reference the
        prefilter is tested against)."""
        return self._normalise(text, prefilter=False)

    def _normalise(self, text: str, *, prefilter: bool) -> str:
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = [line.rstrip() for line in text.split("\n")]
        return self._normalised(lines, prefilter=prefilter)

    def _normalised(
        self,
        lines: list[str],
        *,
        prefilter: bool,
        rewritten: dict[int, str | None] | None = None,
    ) -> str:
        """The comparison text of right-stripped ``lines``; ``rewritten`` gets the lines
        the rules changed (None: dropped) by index."""
        if not self.rules:
            joined = "\n".join(lines)
        elif prefilter and not self.scan.every_line:
            joined = self._candidates_only("\n".join(lines), rewritten)
        else:
            kept = [self._rewrite(line, filtered=False) for line in lines]
            if rewritten is not None:
                changed = zip(kept, lines, strict=True)
                rewritten.update(
                    (i, new) for i, (new, line) in enumerate(changed) if new is not line
                )
            joined = "\n".join(line for line in kept if line is not None)
        return _body(joined)

    def _candidates_only(self, joined: str, rewritten: dict[int, str | None] | None = None) -> str:
        """Rewrite the lines that start with a needle; every other line stays as it is.
        ``rewritten`` gets the changed lines by index."""
        starts: set[int] = set()
        hay = "\n" + joined  # hay.find("\n" + needle) == i: a line starts at joined[i]
        for needle in self.scan.finds:
            i = hay.find(needle)
            while i >= 0:
                starts.add(i)
                i = hay.find(needle, i + 1)
        if self.scan.short is not None:
            starts.update(m.start() for m in self.scan.short.finditer(hay))
        if not starts:
            return joined
        out: list[str] = []
        at = counted = number = 0
        for start in sorted(starts):
            end = joined.find("\n", start)
            end = len(joined) if end < 0 else end
            line = joined[start:end]
            new = self._rewrite(line, filtered=True)
            if new is line:
                continue
            if rewritten is not None:
                number += joined.count("\n", counted, start)
                counted = start
                rewritten[number] = new
            out.append(joined[at:start])
            if new is None:
                at = end + 1
            else:
                out.append(new)
                at = end
        out.append(joined[at:])
        return "".join(out)

    def _rewrite(self, line: str, *, filtered: bool) -> str | None:
        """``line`` with its masks applied, ``line`` itself when no rule matches, or None
        when a drop rule matches. ``filtered``: skip rules whose needles do not start it."""
        spans: list[tuple[int, int]] = []
        for rule in self.rules:
            if filtered and rule.needles is not None and not line.startswith(rule.needles):
                continue
            if rule.drop:
                if (filtered and rule.literal) or rule.regex.match(line) is not None:
                    return None
                continue
            m = rule.regex.match(line)
            if m is None:
                continue
            groups = range(1, rule.regex.groups + 1) if rule.regex.groups else (0,)
            for g in groups:
                a, b = m.span(g)
                if 0 <= a < len(line):
                    spans.append((a, min(b, len(line))))
        if not spans:
            return line
        for a, b in sorted(spans, reverse=True):
            line = line[:a] + MASK + line[b:]
        return line


def _body(joined: str) -> str:
    body = joined.strip("\n")  # lines are right-stripped: blank lines are empty
    return body + "\n" if body else ""


@dataclass(frozen=True, slots=True)
class NormalisedLines:
    """A text (without CR) as ``Normaliser.normalise_lines`` saw it: its right-stripped
    lines and the few the rules changed. The rules see one line at a time, so a text
    made of these lines and some others normalises to these lines' results and the
    others' (``edited``), without going through every line again."""

    normaliser: Normaliser
    lines: list[str]
    rewritten: dict[int, str | None]
    """Changed lines by index (None: dropped)."""

    def outputs(self) -> list[str | None]:
        """Each line's comparison form (None: dropped)."""
        out: list[str | None] = list(self.lines)
        for i, new in self.rewritten.items():
            out[i] = new
        return out

    def edited(self, outputs: Iterable[str | None]) -> str:
        """The comparison text of a text whose lines have the comparison forms
        ``outputs`` (from ``outputs()`` and ``Normaliser.normalise_line``)."""
        return _body("\n".join([line for line in outputs if line is not None]))


def compile_rules(
    platform: str, rules: Iterable[Rule | tuple[str, str]], *, source: str = ""
) -> Normaliser:
    """Compile ``rules`` ((pattern, action) pairs or ``Rule``) for ``platform``.

    Raises ``PlatformFileError`` naming ``source`` for a pattern that is not anchored
    RE2 or an unknown action.
    """
    compiled: list[LineRule] = []
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
            regex = compile_re2("^(?:" + pattern[1:] + ")")
        except ValueError as exc:
            raise PlatformFileError(
                f"{where}: config_normalise[{i}]: not a valid RE2 pattern {pattern!r}: {exc}"
            ) from None
        exact = literal(pattern)
        found = exact if exact is not None else needles(pattern)
        compiled.append(LineRule(regex, action == "drop", found, literal=exact is not None))
    # drops first: a dropped line needs no masks
    ordered = tuple(sorted(compiled, key=lambda r: not r.drop))
    return Normaliser(platform=platform, rules=ordered, scan=_scan(ordered))


def _scan(rules: tuple[LineRule, ...]) -> _Scan:
    if any(rule.needles is None for rule in rules):
        return _Scan((), None, every_line=True)
    wanted: set[str] = set()
    for rule in rules:
        assert rule.needles is not None
        common = common_prefix(rule.needles)
        wanted.update((common,) if len(common) >= 4 else rule.needles)
    minimal = minimal_needles(wanted)
    if all(len(n) >= _FIND_MIN for n in minimal):
        return _Scan(tuple("\n" + n for n in minimal), None, every_line=False)
    # a pass over the text is needed for the short needles: the long ones join it (on
    # a 50 KB IOS text one pass took 0.08 ms, the pass and seven finds 0.13 ms)
    regex = re.compile("\n(?=" + "|".join(re.escape(n) for n in minimal) + ")")
    return _Scan((), regex, every_line=False)


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
