"""Is a fetched text a complete configuration? Per-platform checks, as data.

An empty text, a device error (the platform's error patterns) or a text cut short (no
closing ``end`` on IOS-like platforms, ``: end`` on ASA, unbalanced braces on Junos ...)
is rejected with a reason; such a text is a failed backup, never a new version.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import re2

from netfleet.configs.normalise import (
    NormalisedLines,
    builtin_family,
    config_sha256,
    normaliser,
)
from netfleet.configs.rules import GENERIC_SANITY, SANITY, Sanity
from netfleet.core.errors import ConfigRejected
from netfleet.core.regex import compile_re2
from netfleet.platforms import PlatformSpec, compiled, get_platform


@dataclass(frozen=True, slots=True)
class PreparedConfig:
    """A checked configuration: the text as fetched, its comparison text and digest."""

    text: str
    normalised: str
    sha256: str
    size: int
    """Bytes of ``text`` in UTF-8."""
    lines: NormalisedLines | None = field(default=None, compare=False, repr=False)
    """How ``text``'s lines normalised (None: not kept, or a text with CR), for the
    comparison text of an edit of it (the previous version, from its delta)."""


def config_problem(text: str, platform: PlatformSpec | str) -> str | None:
    """Why ``text`` is not a complete configuration of ``platform``, or None if it is."""
    spec = get_platform(platform) if isinstance(platform, str) else platform
    stripped = text.strip()
    if not stripped:
        return "the output is empty"
    error = compiled(spec).any_error
    if error is not None:
        edges = _edges(text)
        m = error.search(edges)
        if m is not None:
            end = edges.find("\n", m.start())
            line = edges[m.start() : end if end >= 0 else len(edges)].strip()
            return f"the device returned an error: {line[:200]!r}"
    check = SANITY.get(builtin_family(spec), GENERIC_SANITY)
    return _check(check, stripped)


_EDGE = 4096
"""Device errors are looked for in the first and last bytes of an output only: an error
answer is short, and a configuration's own lines (banners) may look like one."""


def _edges(text: str) -> str:
    if len(text) <= 2 * _EDGE:
        return text
    return text[:_EDGE] + "\n" + text[-_EDGE:]


@functools.cache
def _pattern(pattern: str) -> re2._Regexp[str]:
    return compile_re2(pattern)


def _check(check: Sanity, stripped: str) -> str | None:
    # the last line, as after CR LF to LF (that only drops a CR before a LF)
    last = stripped[stripped.rfind("\n") + 1 :].strip()
    if check.last_line is not None and _pattern(check.last_line).fullmatch(last) is None:
        return f"expected {check.what}; the last line is {last[:200]!r} (truncated?)"
    if check.header is not None and _pattern("(?m)" + check.header).search(stripped) is None:
        return f"expected {check.what}; no such line found"
    if check.junos:
        lines = [line.rstrip() for line in stripped.replace("\r\n", "\n").split("\n")]
        return _junos_problem(check, [line for line in lines if line.strip()])
    return None


def _junos_problem(check: Sanity, content: list[str]) -> str | None:
    body = [line for line in content if not line.lstrip().startswith("#")]
    if not body:
        return f"expected {check.what}; only comments found"
    if all(line.startswith(("set ", "deactivate ", "protect ")) for line in body):
        return None
    depth = 0
    for line in body:
        stripped = _without_quoted(line)
        depth += stripped.count("{") - stripped.count("}")
        if depth < 0:
            return f"expected {check.what}; a '}}' closes nothing: {line.strip()[:200]!r}"
    if depth != 0:
        return f"expected {check.what}; {depth} block(s) not closed (truncated?)"
    if not body[-1].strip().endswith("}"):
        return f"expected {check.what}; the last line is {body[-1].strip()[:200]!r} (truncated?)"
    return None


def _without_quoted(line: str) -> str:
    """``line`` without its double-quoted strings and ``/* */`` annotations."""
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif line.startswith("/*", i):
            end = line.find("*/", i + 2)
            i = len(line) if end < 0 else end + 1
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def check_config(text: str, platform: PlatformSpec | str, *, device: str = "") -> None:
    """Raise ``ConfigRejected`` (naming ``device``) if ``text`` is not a complete config."""
    problem = config_problem(text, platform)
    if problem is not None:
        raise ConfigRejected(f"not a configuration: {problem}", device=device)


def prepare_config(text: str, platform: PlatformSpec | str, *, device: str = "") -> PreparedConfig:
    """Check ``text`` (raises ``ConfigRejected``), then normalise and digest it."""
    check_config(text, platform, device=device)
    normalised, lines = normaliser(platform).normalise_lines(text)
    return PreparedConfig(
        text=text,
        normalised=normalised,
        sha256=config_sha256(normalised),
        size=len(text.encode("utf-8")),
        lines=lines,
    )
