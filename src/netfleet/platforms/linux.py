"""Linux shell: ``user@host:~$``, ``[user@host ~]$``, root ``#``; ``sudo -s`` for root."""

from __future__ import annotations

from netfleet.platforms.common import END
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

USER_AT_HOST = r"\[?(?P<host>[\w.\-]+@[\w.\-]+)(?:[: ][^\n$#\]]*)?\]?"
"""``user@host:~`` (Debian) or ``[user@host ~]`` (Red Hat); the path part is optional."""


def _shell_prompt(char: str) -> str:
    return rf"^(?:{USER_AT_HOST})?{char}{END}"


SPEC = PlatformSpec(
    name="linux",
    display_name="Linux",
    levels=(
        PrivilegeLevel(name="exec", prompt=_shell_prompt(r"\$")),
        PrivilegeLevel(
            name="privileged",
            prompt=_shell_prompt("#"),
            enter="sudo -s",
            exit="exit",
            password_prompt=r"^[ \t]*(?:\[sudo\] )?[Pp]assword(?: for [^\n:]+)?:" + END,
        ),
    ),
    default_level="exec",
    config_level="privileged",
    on_open=("export PAGER=cat",),
    error_patterns=(
        r"command not found",
        r"No such file or directory",
        r"Permission denied",
    ),
    version_command="uname -a",
    version_patterns=(r"^Linux \S+ \d+\.\d+", r"GNU/Linux$"),
    banner_patterns=(r"Welcome to (?:Ubuntu|Debian)", r"Debian GNU/Linux"),
    textfsm_platform="linux",
    ansi=True,
)
