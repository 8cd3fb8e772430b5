"""A Linux (Ubuntu 22.04, bash) host: state, a small shell, and the platform."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shlex
import time
from collections.abc import Callable
from typing import Any

from netfleet_sim.contract import DeviceState, Pager, Reply
from netfleet_sim.platforms import linux_show, textfilter
from netfleet_sim.platforms.identity import boot_epoch, ipv4_mgmt
from netfleet_sim.platforms.linux_variant import PROMPT_STYLES, printf, shell_prompt, split_list

GREP_USAGE = "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"
DIRS = ("/", "/etc", "/home", "/root", "/tmp", "/var", "/proc")


class LinuxState:
    """One Linux host: hostnames, addresses and the files users wrote."""

    def __init__(self, hostname: str, index: int, config_size: int = 0) -> None:
        self.platform = "linux"
        self.index = index
        self.config_size = config_size
        self.hostname = hostname
        self.static_hostname = hostname
        self.files: dict[str, str] = {}
        self.addresses: dict[str, list[str]] = self._default_addresses()
        self.gateway = "10.0.0.254"
        self.booted_at = boot_epoch(index)

    def _default_addresses(self) -> dict[str, list[str]]:
        lan = f"192.168.{self.index % 250 + 1}.1/24"
        return {"lo": ["127.0.0.1/8"], "eth0": [f"{ipv4_mgmt(self.index)}/8"], "eth1": [lan]}

    def uptime(self) -> float:
        """Seconds since boot."""
        return max(60.0, time.time() - self.booted_at)

    def reboot(self) -> None:
        """Transient changes (``hostname X``, ``ip addr add``) are lost; files persist."""
        self.hostname = self.files.get("/etc/hostname", self.static_hostname + "\n").strip()
        self.addresses = self._default_addresses()
        self.booted_at = time.time()

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot."""
        return {
            "platform": self.platform,
            "index": self.index,
            "config_size": self.config_size,
            "hostname": self.hostname,
            "static_hostname": self.static_hostname,
            "files": self.files,
            "addresses": self.addresses,
            "booted_at": self.booted_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinuxState:
        """Restore a snapshot made by :meth:`to_json`."""
        state = cls(str(data["hostname"]), int(data["index"]), int(data.get("config_size", 0)))
        state.static_hostname = str(data["static_hostname"])
        state.files = dict(data["files"])
        state.addresses = {k: list(v) for k, v in data["addresses"].items()}
        state.booted_at = float(data["booted_at"])
        return state


Command = Callable[["LinuxShell", list[str], bool], str]


class LinuxShell:
    """An interactive bash session (no paging, no secrets)."""

    def __init__(self, state: LinuxState, username: str, prompt_style: str = "debian") -> None:
        self.state = state
        self.prompt_style = prompt_style
        self.username = username
        self.cwd = f"/home/{username}"
        self.status = 0
        self.last_status = 0
        self.user_cwd = self.cwd
        self.root = False
        """Inside ``sudo -s`` / ``sudo -i``: commands run as root."""

    def motd(self) -> str:
        """The Ubuntu welcome text."""
        return linux_show.motd(self.state)

    def prompt(self) -> str:
        """``user@host:~$ ``."""
        home = "/root" if self.root else f"/home/{self.username}"
        where = "~" + self.cwd[len(home) :] if self.cwd.startswith(home) else self.cwd
        return shell_prompt(self.prompt_style, self.username, self.state.hostname, where, self.root)

    def echo(self) -> bool:
        """Always echo."""
        return True

    def paging(self) -> Pager | None:
        """Shells do not page."""
        return None

    def execute(self, line: str) -> Reply:
        """Run one command line (``|`` into grep/head/tail/wc supported)."""
        if not line.strip():
            return Reply(pageable=False)
        commands = split_list(line)
        if len(commands) > 1:
            replies = [self.execute(command) for command in commands]
            text = "".join(r.output for r in replies)
            return Reply(text, close=any(r.close for r in replies), pageable=False)
        stages = [s.strip() for s in line.split("|")]
        try:
            argv, *filters = [shlex.split(stage) for stage in stages]
        except ValueError:
            return Reply("bash: syntax error: unexpected end of file\n", pageable=False)
        if argv and argv[0] in ("exit", "logout") and self.root:
            self.root, self.cwd = False, self.user_cwd
            return Reply("logout\n" if argv[0] == "logout" else "exit\n", pageable=False)
        if argv and argv[0] in ("exit", "logout"):
            return Reply("logout\n", close=True, pageable=False)
        if argv[:2] in (["sudo", "-s"], ["sudo", "-i"], ["sudo", "su"]):
            self.root, self.user_cwd = True, self.cwd
            if argv[1] != "-s":
                self.cwd = "/root"
            return Reply(pageable=False)
        if argv and argv[0] == "sudo" and argv[1:2] == ["reboot"]:
            self.state.reboot()
            return Reply(close=True, pageable=False)
        output = self._run(argv)
        for spec in filters:
            output = _filter(output, spec)
        return Reply(output, pageable=False)

    def _run(self, argv: list[str]) -> str:
        redirect, append = None, False
        for op in (">>", ">"):
            if op in argv:
                at = argv.index(op)
                redirect, append = (argv[at + 1] if at + 1 < len(argv) else None), op == ">>"
                argv = argv[:at]
                break
        root = self.root
        if argv and argv[0] == "sudo":
            root, argv = True, argv[1:]
        if not argv:
            return ""
        handler = COMMANDS.get(argv[0])
        if handler is None:
            self.status = 127
            return f"bash: {argv[0]}: command not found\n"
        self.last_status, self.status = self.status, 0
        out = handler(self, argv[1:], root)
        if redirect is None:
            return out
        path = self.path(redirect)
        self.state.files[path] = (self.state.files.get(path, "") if append else "") + out
        return ""

    def path(self, name: str) -> str:
        """An absolute path for ``name``."""
        home = f"/home/{self.username}"
        name = name.replace("~", home, 1) if name.startswith("~") else name
        joined = name if name.startswith("/") else f"{self.cwd.rstrip('/')}/{name}"
        parts: list[str] = []
        for part in joined.split("/"):
            if part == "..":
                parts = parts[:-1]
            elif part and part != ".":
                parts.append(part)
        return "/" + "/".join(parts)

    def fail(self, message: str, status: int = 1) -> str:
        """Record a failed command and return its error text."""
        self.status = status
        return message


def _filter(text: str, argv: list[str]) -> str:
    lines = text.splitlines()
    if not argv:
        return text
    if argv[0] == "grep":
        invert = "-v" in argv
        patterns = [a for a in argv[1:] if not a.startswith("-")]
        if not patterns:
            return GREP_USAGE
        pattern = textfilter.pattern(patterns[0])
        lines = [x for x in lines if bool(pattern.search(x)) != invert]
    elif argv[0] in ("head", "tail"):
        count = int(argv[2]) if len(argv) > 2 and argv[1] == "-n" else 10
        lines = lines[:count] if argv[0] == "head" else lines[-count:]
    elif argv[0] == "wc":
        return f"{len(lines)}\n"
    return "".join(x + "\n" for x in lines)


def _id(user: str, root: bool) -> str:
    if root:
        return "uid=0(root) gid=0(root) groups=0(root)\n"
    return f"uid=1000({user}) gid=1000({user}) groups=1000({user}),27(sudo)\n"


def _cat(sh: LinuxShell, args: list[str], root: bool) -> str:
    out = []
    if "--" in args:  # end of options (POSIX utility syntax guideline 10)
        args = [a for a in args[: args.index("--")] if not a.startswith("-")] + args[
            args.index("--") + 1 :
        ]
    for name in args:
        path = sh.path(name)
        text = _read(sh.state, path)
        if text is None:
            out.append(sh.fail(f"cat: {name}: No such file or directory\n"))
        else:
            out.append(text)
    return "".join(out)


def _read(state: LinuxState, path: str) -> str | None:
    fixed = {
        "/etc/os-release": linux_show.OS_RELEASE,
        "/etc/hostname": state.static_hostname + "\n",
        "/etc/hosts": f"127.0.0.1 localhost\n127.0.1.1 {state.hostname}\n",
        "/etc/issue": "Ubuntu 22.04.4 LTS \\n \\l\n\n",
        "/proc/version": f"Linux version {linux_show.KERNEL} (buildd@lcy02-amd64-001)\n",
        "/proc/uptime": f"{state.uptime():.2f} {state.uptime() * 1.9:.2f}\n",
    }
    return state.files.get(path, fixed.get(path))


def _hostname(sh: LinuxShell, args: list[str], root: bool) -> str:
    if not args or args[0] in ("-s", "--short"):
        return sh.state.hostname.split(".")[0] + "\n"
    if args[0] in ("-I", "--all-ip-addresses"):
        ips = [a.split("/")[0] for n, v in sh.state.addresses.items() if n != "lo" for a in v]
        return " ".join(ips) + " \n"
    if args[0] in ("-f", "--fqdn"):
        return sh.state.hostname + "\n"
    if not root:
        return sh.fail("hostname: you must be root to change the host name\n")
    sh.state.hostname = args[0]
    return ""


def _hostnamectl(sh: LinuxShell, args: list[str], root: bool) -> str:
    if args[:1] == ["set-hostname"] and len(args) > 1:
        if not root:
            return sh.fail("Could not set static hostname: Access denied\n")
        sh.state.hostname = sh.state.static_hostname = args[1]
        sh.state.files.pop("/etc/hostname", None)
        return ""
    return (
        f" Static hostname: {sh.state.static_hostname}\n"
        "       Icon name: computer-vm\n"
        "         Chassis: vm\n"
        "  Virtualization: kvm\n"
        "Operating System: Ubuntu 22.04.4 LTS\n"
        f"          Kernel: Linux {linux_show.KERNEL}\n"
        "    Architecture: x86-64\n"
    )


def _ip(sh: LinuxShell, args: list[str], root: bool) -> str:
    obj = args[0] if args else ""
    rest = args[1:]
    if obj and "address".startswith(obj) and rest[:1] in (["add"], ["del"]):
        return _ip_addr_change(sh, rest, root)
    if obj and "address".startswith(obj):
        return linux_show.ip_addr(sh.state)
    if obj and "link".startswith(obj):
        return linux_show.ip_link(sh.state)
    if obj and "route".startswith(obj):
        return linux_show.ip_route(sh.state)
    return sh.fail('Object "' + obj + '" is unknown, try "ip help".\n', 255)


def _ip_addr_change(sh: LinuxShell, rest: list[str], root: bool) -> str:
    if not root:
        return sh.fail("RTNETLINK answers: Operation not permitted\n", 2)
    if len(rest) < 4 or rest[2] != "dev" or rest[3] not in sh.state.addresses:
        return sh.fail("Cannot find device\n", 1)
    try:
        address = str(ipaddress.IPv4Interface(rest[1]))
    except ValueError:
        return sh.fail(f'Error: inet prefix is expected rather than "{rest[1]}".\n', 1)
    entries = sh.state.addresses[rest[3]]
    if rest[0] == "add":
        if address in entries:
            return sh.fail("RTNETLINK answers: File exists\n", 2)
        entries.append(address)
    elif address in entries:
        entries.remove(address)
    else:
        return sh.fail("RTNETLINK answers: Cannot assign requested address\n", 2)
    return ""


def _ls(sh: LinuxShell, args: list[str], root: bool) -> str:
    target = sh.path(next((a for a in args if not a.startswith("-")), "."))
    names = sorted(
        p[len(target.rstrip("/")) + 1 :].split("/")[0]
        for p in sh.state.files
        if p.startswith(target.rstrip("/") + "/")
    )
    return "".join(n + "\n" for n in dict.fromkeys(names))


def _cd(sh: LinuxShell, args: list[str], root: bool) -> str:
    target = sh.path(args[0]) if args else f"/home/{sh.username}"
    known = (
        target in DIRS
        or target.startswith("/home")
        or any(p.startswith(target + "/") for p in sh.state.files)
    )
    if not known:
        return sh.fail(f"bash: cd: {args[0]}: No such file or directory\n")
    sh.cwd = target
    return ""


def _rm(sh: LinuxShell, args: list[str], root: bool) -> str:
    out = ""
    for name in (a for a in args if not a.startswith("-")):
        if sh.state.files.pop(sh.path(name), None) is None:
            out += sh.fail(f"rm: cannot remove '{name}': No such file or directory\n")
    return out


def _touch(sh: LinuxShell, args: list[str], root: bool) -> str:
    for name in args:
        sh.state.files.setdefault(sh.path(name), "")
    return ""


COMMANDS: dict[str, Command] = {
    "hostname": _hostname,
    "hostnamectl": _hostnamectl,
    "uname": lambda sh, a, r: linux_show.uname(sh.state, "".join(x.lstrip("-") for x in a)),
    "ip": _ip,
    "cat": _cat,
    "uptime": lambda sh, a, r: linux_show.uptime(sh.state, "-p" in a),
    "whoami": lambda sh, a, r: ("root" if r else sh.username) + "\n",
    "id": lambda sh, a, r: _id(sh.username, r),
    "pwd": lambda sh, a, r: sh.cwd + "\n",
    "cd": _cd,
    "ls": _ls,
    "rm": _rm,
    "touch": _touch,
    "echo": lambda sh, a, r: " ".join(a).replace("$?", str(sh.last_status)) + "\n",
    "date": lambda sh, a, r: (
        f"{dt.datetime.now(dt.UTC):%a %b %d %H:%M:%S} UTC {dt.datetime.now(dt.UTC):%Y}\n"
    ),
    "df": lambda sh, a, r: linux_show.df(),
    "free": lambda sh, a, r: linux_show.free(),
    "true": lambda sh, a, r: "",
    "export": lambda sh, a, r: "",
    "unset": lambda sh, a, r: "",
    "stty": lambda sh, a, r: "",
    "alias": lambda sh, a, r: "",
    "clear": lambda sh, a, r: "",
    "sleep": lambda sh, a, r: "",
    "false": lambda sh, a, r: sh.fail(""),
    "printf": lambda sh, a, r: printf(a, sh.last_status),
}


class LinuxPlatform:
    """Ubuntu 22.04 host reached over SSH."""

    name = "linux"

    def __init__(self, prompt_style: str = "debian") -> None:
        if prompt_style not in PROMPT_STYLES:
            raise ValueError(f"unknown prompt style {prompt_style!r} (known: {PROMPT_STYLES})")
        self.prompt_style = prompt_style

    def ssh_banner(self, state: DeviceState) -> str:
        """No pre-authentication banner."""
        return ""

    def new_state(self, hostname: str, *, index: int, config_size: int = 0) -> LinuxState:
        """A freshly installed host."""
        return LinuxState(hostname, index, config_size)

    def load_state(self, data: dict[str, Any]) -> LinuxState:
        """Restore a host saved with ``to_json``."""
        return LinuxState.from_json(data)

    def engine(self, state: DeviceState, *, username: str, enable_secret: str) -> LinuxShell:
        """A new shell on ``state``."""
        if not isinstance(state, LinuxState):
            raise TypeError("linux needs a LinuxState")
        return LinuxShell(state, username, self.prompt_style)
