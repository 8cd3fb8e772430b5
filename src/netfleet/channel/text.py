"""Cleaning a device's raw output: line endings, ANSI escapes, backspace erasures, echo."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import IncrementalNewlineDecoder

import re2

ANSI_RE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[()][A-Za-z0-9]|[0-Z\\-_`-~])"
)
"""CSI sequences, OSC strings, charset selections and two-byte escapes: the private ones
(``ESC=``/``ESC>`` keypad modes, ``ESC7``/``ESC8`` save/restore cursor), the C1 ones
(``ESC D``, ``ESC M`` ...) and the independent ones (``ESC c``)."""
_PARTIAL_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|[()])?\Z")
_PARTIAL_CR_RE = re.compile(r"(?:\r[ \t]*)+\Z")
CR_ERASE_RE = re.compile(r"\r[ \t]*(?=\r)")
"""A carriage return, blanks and another carriage return: a pager erasing its prompt
(NX-OS, ASA, Junos). The blanks were printed over the prompt, not in front of the text."""
BACKSPACE_RE = re.compile(r"\x08+(?:[ \t]+\x08+)*")
"""Runs of backspaces (with the blanks between them) that a pager prints to erase itself."""


def split_partial_escape(data: str) -> tuple[str, str]:
    """``data`` without an escape sequence (or a pager's carriage-return erase) cut off at
    its end, and that cut-off part."""
    m = _PARTIAL_ANSI_RE.search(data, max(0, len(data) - 64))
    if m is None and data.endswith(("\r", " ", "\t")):
        m = _PARTIAL_CR_RE.search(data, max(0, len(data) - 256))
    if m is None:
        return data, ""
    return data[: m.start()], data[m.start() :]


def pager_start(pager: re.Pattern[str], line: str) -> int:
    """Where a pager prompt on ``line`` starts, with the blanks that lead it (" --More-- "),
    or -1."""
    m = pager.search(line)
    if m is None:
        return -1
    start = m.start()
    while start > 0 and line[start - 1] in " \t":
        start -= 1
    return start


def _compact(text: str) -> str:
    return "".join(text.split())


def echo_matches(line: str, command: str) -> bool:
    """Whether ``line`` is the device's echo of ``command``: it ends with the command
    (blanks ignored, as terminals wrap long lines), or with the visible tail of a
    horizontally scrolled line (``R1#$ng-name-of-the-command``)."""
    want = _compact(command)
    seen = _compact(line)
    if seen.endswith(want):
        return True
    dollar = seen.rfind("$")
    if dollar >= 0:
        tail = seen[dollar + 1 :]
        return len(tail) >= min(len(want), 8) and want.endswith(tail)
    return False


ECHO_MAX = 4096
"""The longest echo line looked at."""


def echo_end(text: str, command: str, prompt_seen: Callable[[], bool]) -> int | str:
    """Where the output after the echo of ``command`` starts in ``text`` (after its line
    break); -1 when that line has not ended yet; or why ``text`` does not start with the
    echo (``prompt_seen()``: the last line already shows a prompt)."""
    nl = text.find("\n")
    if nl < 0:
        if prompt_seen():
            return f"{command!r}: the prompt came back without the echo"
        if len(text) > ECHO_MAX:
            return f"{command!r}: expected its echo, got {text[:120]!r}"
        return -1
    if not echo_matches(text[:nl], command):
        return f"{command!r}: expected its echo, got {text[:nl][:120]!r}"
    if nl > ECHO_MAX:
        return f"{command!r}: expected its echo, got {text[:120]!r}"
    return nl + 1


DECODE_MIN = 512
"""Text at least this long has its CR/LF line ends translated in C, in one pass or two."""
_LONE_CR = re2.compile(b"\r[^\n]|\r\\z")
"""A carriage return that does not end a line (RE2 finds the CRs by ``memchr``)."""


def normalize(data: str) -> str:
    """CR/LF to LF, drop remaining CRs, ANSI escapes and pager erasures."""
    if "\r" in data:
        if len(data) >= DECODE_MIN:
            if data.isascii():
                # Every CR ends a line (the common case): deleting them all is CR/LF to LF.
                raw = data.encode("ascii")  # a copy: ASCII text is stored as bytes
                if _LONE_CR.search(raw) is None:
                    data = raw.replace(b"\r", b"").decode("ascii")
            else:
                # One pass in C (str.replace of a two-character needle takes two, slower);
                # it also reports a lone CR, which the slow path below must handle.
                decoder = IncrementalNewlineDecoder(None, translate=True)
                lf = decoder.decode(data, final=True)
                seen = decoder.newlines
                if seen != "\r" and not (isinstance(seen, tuple) and "\r" in seen):
                    data = lf
        if "\r" in data:
            data = data.replace("\r\n", "\n")
            if "\r" in data:
                data = CR_ERASE_RE.sub("", data).replace("\r", "")
    if "\x1b" in data:
        data = ANSI_RE.sub("", data)
    if "\x08" in data:
        data = BACKSPACE_RE.sub("", data)
    return data


def strip_echo(text: str, command: str) -> str:
    """``text`` without the device's echo of ``command`` on its first line."""
    if not command:
        return text
    nl = text.find("\n")
    first = text if nl < 0 else text[:nl]
    want = command.strip()
    if want and first.rstrip().endswith(want):
        return "" if nl < 0 else text[nl + 1 :]
    return text
