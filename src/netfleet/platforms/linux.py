"""Linux shell: ``user@host:~$``, ``[user@host ~]$``, root ``#``; ``sudo -s`` for root."""

from __future__ import annotations

from netfleet.platforms.common import END
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

USER_AT_HOST = r"\[?(?P<host>[\w.\-]+@[\w.\-]+)(?:[: ][^\n$#\]]*)?\]?"
"""``user@host:~`` (Debian) or ``[user@host ~]`` (Red Hat); the path part is optional."""


def _shell_prompt(char: str) -> str:
    return rf"^(?:{USER_AT_HOST})?{char}{END}"


PRIVILEGED = (
    # gaining root
    *("sudo", "su", "doas", "pkexec", "run0", "sudoedit"),
    # stopping or restarting the host
    *("reboot", "shutdown", "halt", "poweroff", "init", "telinit", "kexec"),
    *(
        f"systemctl {verb}"
        for verb in ("reboot", "poweroff", "halt", "kexec", "rescue", "emergency", "isolate")
    ),
    # erasing, formatting, writing disks
    *("mkfs*", "dd", "wipefs", "fdisk", "sfdisk", "parted", "shred"),
    # routing daemons' configuration shells
    *("vtysh", "birdc", "gobgp", "nmcli"),
    # commands that run other commands (to hide one of the above)
    *("env", "nohup", "exec", "eval", "xargs", "setsid", "timeout", "nice", "chroot"),
    *("command", "builtin", "busybox", "watch", "time", "stdbuf"),
    *("bash", "sh", "dash", "zsh", "ksh", "fish", "python*", "perl"),
)
"""Best effort: a shell can be made to do anything, so give the login account of
operator jobs no sudo rights."""

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
    privileged_commands=PRIVILEGED,
    command_syntax="shell",
    command_separators="|;&()`{}",
)
