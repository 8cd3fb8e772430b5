"""Regex building blocks shared by the built-in platform modules.

Prompt patterns are compiled with ``re.MULTILINE``: ``^`` is the start of a line and
``\\Z`` the very end of the buffer, so a prompt only matches as the last, unterminated
line. Each prompt names the hostname part ``(?P<host>...)`` so the device layer can pin
it to the hostname learned at login (see ``CompiledPlatform.pinned``).
"""

from __future__ import annotations

from netfleet.platforms.spec import PrivilegeLevel

HOST = r"[\w.\-]+"
"""A Cisco-style or EOS hostname."""

CONFIG_MODE = r"\([\w.\-/:]+\)"
"""Any parenthesised configuration sub-mode: ``(config)``, ``(config-if)``, ``(dhcp-config)``."""

END = r"[ \t]*\Z"
"""Optional trailing blanks, then the end of the buffer."""

PASSWORD_PROMPT = r"^[ \t]*[Pp]assword:" + END
"""The ``enable`` password prompt."""


def prompt(host: str, suffix: str, after_host: str = "") -> str:
    """A line-anchored prompt regex: the hostname group, ``after_host`` (not pinned: it
    may change during a session), then ``suffix``, then the end."""
    return rf"^(?P<host>{host}){after_host}{suffix}{END}"


def line_error(text: str) -> str:
    """An error pattern that must start its line (after optional blanks); ``text`` is a regex."""
    return rf"^[ \t]*{text}"


MORE_PAGER = r"-+ ?More ?-+" + END
"""The ``--More--`` / ``-- More --`` pager line of the Cisco-style CLIs."""

INVALID_INPUT = "Invalid input detected"
INCOMPLETE = "Incomplete command"
AMBIGUOUS = "Ambiguous command"
"""Message texts most Cisco-style CLIs share (after ``%``)."""


AUTHORIZATION_FAILED = line_error(r"Command authorization failed\.")
"""What Cisco-style CLIs print when a TACACS+ server refuses a command (no ``%``)."""


DELIMITED_BANNER = (r"^[ \t]*banner[ \t]+[\w-]+[ \t]+(\S)", "{delim}")
"""``banner motd ^C``, the text lines, then a line with the delimiter (IOS, NX-OS)."""
EOF_BANNER = (r"^[ \t]*banner[ \t]+[\w-]+[ \t]*$", r"^[ \t]*EOF[ \t]*$")
"""``banner motd``, the text lines, then ``EOF`` on a line of its own (EOS)."""


def percent_errors(*messages: str) -> tuple[str, ...]:
    """Error patterns for ``% message`` lines (the space after ``%`` is optional)."""
    return tuple(line_error(rf"% ?{message}") for message in messages)


def cisco_levels(
    host: str = HOST,
    *,
    user_exec: bool = True,
    host_max_len: int = 0,
    exit_confirm: tuple[tuple[str, str], ...] = (),
    after_host: str = "",
) -> tuple[PrivilegeLevel, ...]:
    """Cisco-style levels: ``host>`` (``user_exec`` only; ``enable`` with a password prompt
    leads on), ``host#``, then ``host(config...)#`` via ``configure terminal`` / ``end``."""
    config = PrivilegeLevel(
        name="config",
        prompt=prompt(host, CONFIG_MODE + "#", after_host),
        enter="configure terminal",
        exit="end",
        exit_confirm=exit_confirm,
        host_max_len=host_max_len,
    )
    if not user_exec:
        return (PrivilegeLevel(name="privileged", prompt=prompt(host, "#", after_host)), config)
    return (
        PrivilegeLevel(name="exec", prompt=prompt(host, ">", after_host)),
        PrivilegeLevel(
            name="privileged",
            prompt=prompt(host, "#", after_host),
            enter="enable",
            exit="disable",
            password_prompt=PASSWORD_PROMPT,
        ),
        config,
    )


CISCO_PRIVILEGED = (
    "con[figure]",  # configure terminal|memory|replace|confirm ("conf t", "config t")
    "wr[ite]",  # write, "wr", "wr mem", write erase, write network
    "cop[y]",  # copy running-config startup-config ("copy run start", "copy r s")
    "rel[oad]",
    "er[ase]",
    "del[ete]",
    "for[mat]",
    "ren[ame]",
    "squ[eeze]",
    "tcl[sh]",  # Tcl can run configuration commands
    "| r[edirect]",  # show ... | redirect flash:file writes a file
    "| t[ee]",
    "| a[ppend]",
)
"""Commands of Cisco-style CLIs that change, save, copy or erase configuration or reload."""
