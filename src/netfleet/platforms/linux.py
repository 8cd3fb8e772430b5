"""Linux shell: ``user@host:~$``, ``[user@host ~]$``, ``host:~$``, ``bash-5.1$``, root ``#``.

The hostname part of the prompt is required once pinned, so a lone ``#`` or ``$`` line in
a command's output never ends the read. Each command is followed by a ``printf`` of its
exit status; a non-zero status makes it fail (its output is kept).
"""

from __future__ import annotations

from netfleet.platforms.common import END
from netfleet.platforms.spec import PlatformSpec, PrivilegeLevel

VENV = r"(?:\([^()\n]*\)[ \t]?)?"
"""A Python virtualenv or conda prefix: ``(venv) ``."""

SHELL_HOST = (
    r"\[?(?:[\w.\-]+@)?(?P<host>[\w.\-]*)(?:(?<=[\w.\-])(?::[^\n$#\]]*|\s[^\n$#\]]*\]))?\]?"
)
"""``user@host:~`` (Debian), ``[user@host ~]`` (Red Hat), ``host:~`` or ``bash-5.1``: the
host group is the hostname (or the shell name), so ``sudo -s`` keeps it (``root@host``)."""

STATUS_MARK = "__nf_rc"


def _shell_prompt(char: str) -> str:
    return rf"^{VENV}{SHELL_HOST}{char}{END}"


def _line_error(message: str) -> str:
    """``prog: [what: ]message`` at the start of a line (``bash: x: command not found``)."""
    return rf"^-?[\w.\-/]+: (?:[^:\n]+: ){{0,2}}{message}[ \t]*$"


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
        _line_error("command not found"),
        _line_error("No such file or directory"),
        _line_error("Permission denied"),
    ),
    version_command="uname -a",
    version_patterns=(r"^Linux \S+ \d+\.\d+", r"GNU/Linux$"),
    banner_patterns=(r"Welcome to (?:Ubuntu|Debian)", r"Debian GNU/Linux"),
    textfsm_platform="linux",
    ansi=True,
    status_command=f"printf '\\n%s=%d\\n' {STATUS_MARK} \"$?\"",
    status_pattern=rf"(?:\A|\n){STATUS_MARK}=(\d+)[ \t]*\Z",
    privileged_commands=PRIVILEGED,
    command_syntax="shell",
    command_separators="|;&()`{}",
)
