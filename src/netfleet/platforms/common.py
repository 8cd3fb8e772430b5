"""Regex building blocks shared by the built-in platform modules.

Prompt patterns are compiled with ``re.MULTILINE``: ``^`` is the start of a line and
``\\Z`` the very end of the buffer, so a prompt only matches as the last, unterminated
line. Each prompt names the hostname part ``(?P<host>...)`` so the device layer can pin
it to the hostname learned at login (see ``CompiledPlatform.pinned``).
"""

from __future__ import annotations

HOST = r"[\w.\-]+"
"""A Cisco-style or EOS hostname."""

CONFIG_MODE = r"\([\w.\-/:]+\)"
"""Any parenthesised configuration sub-mode: ``(config)``, ``(config-if)``, ``(dhcp-config)``."""

END = r"[ \t]*\Z"
"""Optional trailing blanks, then the end of the buffer."""

PASSWORD_PROMPT = r"^[ \t]*[Pp]assword:" + END
"""The ``enable`` password prompt."""


def prompt(host: str, suffix: str) -> str:
    """A line-anchored prompt regex: the hostname group, then ``suffix``, then the end."""
    return rf"^(?P<host>{host}){suffix}{END}"


def line_error(text: str) -> str:
    """An error pattern that must start its line (after optional blanks); ``text`` is a regex."""
    return rf"^[ \t]*{text}"
