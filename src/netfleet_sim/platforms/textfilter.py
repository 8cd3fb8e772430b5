"""Output filters after ``|`` (``include``, ``exclude``, ``begin``, ``section``, ``count``)."""

from __future__ import annotations

import re

from netfleet_sim.platforms.cmdtree import resolve_keyword

_FILTERS = ("include", "exclude", "begin", "section", "count")


def split_filter(line: str) -> tuple[str, str | None]:
    """Split ``show run | include x`` into the command and the filter text."""
    if "|" not in line:
        return line, None
    command, _, pipe = line.partition("|")
    return command.rstrip(), pipe.strip()


def pattern(text: str) -> re.Pattern[str]:
    """``text`` as a regular expression, or literally when it is not a valid one."""
    try:
        return re.compile(text)
    except re.error:
        return re.compile(re.escape(text))


def apply_filter(output: str, pipe: str) -> str | None:
    """Filter ``output``; None when the filter is not understood."""
    words = pipe.split(None, 1)
    if not words:
        return None
    kind = resolve_keyword(words[0], _FILTERS)
    if not isinstance(kind, str):
        return None
    lines = output.splitlines()
    if kind == "count":
        return f"Number of lines which match regexp = {len(lines)}\n"
    if len(words) < 2:
        return None
    regex = pattern(words[1])
    if kind == "include":
        kept = [line for line in lines if regex.search(line)]
    elif kind == "exclude":
        kept = [line for line in lines if not regex.search(line)]
    elif kind == "begin":
        start = next((i for i, line in enumerate(lines) if regex.search(line)), len(lines))
        kept = lines[start:]
    else:
        kept = _section(lines, regex)
    return "".join(line + "\n" for line in kept)


def _section(lines: list[str], pattern: re.Pattern[str]) -> list[str]:
    kept: list[str] = []
    keeping = False
    for line in lines:
        if not line.startswith(" "):
            keeping = bool(pattern.search(line))
        if keeping:
            kept.append(line)
    return kept
