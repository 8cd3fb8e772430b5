"""Junos operational-mode commands and ``|`` pipe modifiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from netfleet_sim.platforms import junos_show, junoscfg, textfilter
from netfleet_sim.platforms.cmdtree import CommandTree

if TYPE_CHECKING:
    from netfleet_sim.platforms.junos import JunosEngine

Op = Callable[["JunosEngine", tuple[str, ...], "Pipes"], str]


class Pipes:
    """The ``| ...`` modifiers of one command."""

    def __init__(self, parts: list[str]) -> None:
        self.display_set = any(p.startswith("display set") for p in parts)
        self.compare = any(p == "compare" for p in parts)
        self.no_more = any(p == "no-more" for p in parts)
        self.filters = [p for p in parts if p.split()[0] in ("match", "except", "count", "find")]

    def apply(self, text: str) -> str:
        """Apply ``match``/``except``/``count``/``find`` to ``text``."""
        for spec in self.filters:
            kind, _, arg = spec.partition(" ")
            pattern = textfilter.pattern(arg.strip().strip('"') or ".")
            lines = text.splitlines()
            if kind == "match":
                lines = [line for line in lines if pattern.search(line)]
            elif kind == "except":
                lines = [line for line in lines if not pattern.search(line)]
            elif kind == "find":
                start = next(
                    (i for i, line in enumerate(lines) if pattern.search(line)), len(lines)
                )
                lines = lines[start:]
            else:
                return f"Count: {len(lines)} lines\n"
            text = "".join(line + "\n" for line in lines)
        return text


def _op_show_configuration(eng: JunosEngine, args: tuple[str, ...], pipes: Pipes) -> str:
    path = junoscfg.words(args[0]) if args else []
    return junos_show.configuration_text(
        eng, eng.state.committed, path, display_set=pipes.display_set
    )


def _op_interfaces(eng: JunosEngine, args: tuple[str, ...], pipes: Pipes) -> str:
    name = args[0].split()[0] if args else None
    if args and args[0].split()[-1] == "terse":
        return junos_show.show_interfaces_terse(eng.state)
    text = junos_show.show_interfaces(eng.state, name)
    return text if text is not None else f"error: device {name} not found\n"


def _op_cli(eng: JunosEngine, args: tuple[str, ...], pipes: Pipes) -> str:
    setting, value = args[0], args[1] if len(args) > 1 else ""
    if setting == "screen-length":
        eng.paging_on = value != "0"
        if value.isdigit() and value != "0":
            eng.page_lines = int(value)
        return f"Screen length set to {value}\n"
    if setting == "screen-width":
        return f"Screen width set to {value}\n"
    if setting == "complete-on-space":
        return f"{'Enabling' if value == 'on' else 'Disabling'} complete-on-space\n"
    return ""


OPS: dict[str, Op] = {
    "show version": lambda e, a, p: e.version_text(),
    "show configuration": _op_show_configuration,
    "show configuration <rest>": _op_show_configuration,
    "show interfaces": _op_interfaces,
    "show interfaces terse": lambda e, a, p: junos_show.show_interfaces_terse(e.state),
    "show interfaces <rest>": _op_interfaces,
    "show chassis hardware": lambda e, a, p: junos_show.show_chassis_hardware(e.state),
    "show system uptime": lambda e, a, p: junos_show.show_system_uptime(e.state),
    "show vlans": lambda e, a, p: junos_show.show_vlans(e.state),
    "set cli screen-length <arg>": lambda e, a, p: _op_cli(e, ("screen-length", *a), p),
    "set cli screen-width <arg>": lambda e, a, p: _op_cli(e, ("screen-width", *a), p),
    "set cli complete-on-space <arg>": lambda e, a, p: _op_cli(e, ("complete-on-space", *a), p),
    "set cli timestamp disable": lambda e, a, p: "",
    "ping <rest>": lambda e, a, p: f"PING {a[0].split()[0]}: 56 data bytes\n",
}
OP_TREE: CommandTree[Op] = CommandTree(OPS)
for _word in ("configure", "exit", "quit", "logout", "request", "start", "file", "clear", "save"):
    OP_TREE.add(_word, lambda e, a, p: "")
OP_TREE.add("configure private", lambda e, a, p: "")
OP_TREE.add("configure exclusive", lambda e, a, p: "")
OP_TREE.add("request system reboot", lambda e, a, p: "")

DESCRIPTIONS = {
    "clear": "Clear information in the system",
    "configure": "Manipulate software configuration information",
    "exit": "Exit the management session",
    "file": "Perform file operations",
    "ping": "Ping remote target",
    "quit": "Exit the management session",
    "request": "Make system-level requests",
    "save": "Save information to file",
    "set": "Set CLI properties, date/time, craft interface message",
    "show": "Show system information",
    "start": "Start shell",
}


def possible_completions(line: str, column: int) -> str:
    """The ``Possible completions:`` list Junos prints for an ambiguous word."""
    words = OP_TREE.completions(line, column)
    rows = [f"  {w:<20} {DESCRIPTIONS.get(w, '')}".rstrip() for w in words]
    return "Possible completions:\n" + "".join(r + "\n" for r in rows)
