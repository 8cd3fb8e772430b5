"""Cleaning a device's raw output: line endings, ANSI escapes, backspace erasures, echo."""

from __future__ import annotations

import re

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


def normalize(data: str) -> str:
    """CR/LF to LF, drop remaining CRs, ANSI escapes and pager erasures."""
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
