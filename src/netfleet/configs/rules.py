"""Built-in per-platform data for configuration texts: volatile lines and sanity checks.

Volatile lines are the ones a device prints differently each time although nothing was
configured: headers with the time of the command, the last change or the last save, the
configuration size, the NTP clock drift. Every pattern is RE2 syntax (linear time),
anchored at a line start and matched against one line. ``drop`` removes the line from the
comparison text, ``mask`` replaces its capture groups (or the whole match) by a marker,
so that the line's presence still counts.

A platform whose name is not listed here uses the rules of its ``textfsm_platform``
(platforms derived with ``extends`` inherit it), else none. User platform files add rules
with ``config_normalise``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["drop", "mask"]

_DAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_CLOCK = r"\d{1,2}:\d{2}:\d{2}(?:\.\d+)?"


@dataclass(frozen=True, slots=True)
class Rule:
    """One volatile-line rule."""

    pattern: str
    action: Action
    why: str = ""


@dataclass(frozen=True, slots=True)
class Sanity:
    """What a complete configuration of a platform looks like.

    ``last_line``: the last non-blank line must fully match it. ``header``: some line must
    match it. ``junos``: hierarchical text with balanced braces ending in ``}``, or
    ``display set`` lines. ``what`` describes the expectation in error messages.
    """

    what: str
    last_line: str | None = None
    header: str | None = None
    junos: bool = False


_CISCO_COMMON = (
    Rule(r"^Building configuration\.\.\.$", "drop", "printed before the text"),
    Rule(
        r"^\*?" + _CLOCK + r" \S+ " + _DAY + " " + _MONTH + r" +\d+ \d{4}$",
        "drop",
        "exec prompt timestamp line",
    ),
    Rule(r"^Load for five secs: ", "drop", "exec prompt timestamp, CPU load"),
    Rule(r"^Time source is ", "drop", "exec prompt timestamp, clock source"),
)

_IOS = (
    *_CISCO_COMMON,
    Rule(r"^Current configuration : \d+ bytes$", "drop", "size changes with every edit"),
    Rule(r"^! Last configuration change at ", "drop", "time and user of the last change"),
    Rule(r"^! NVRAM config last updated at ", "drop", "time of the last save"),
    Rule(r"^! No configuration change since last restart", "drop", "reboot-dependent"),
    Rule(r"^! No (?:NVRAM )?configuration (?:change|save)", "drop", "reboot-dependent"),
    Rule(r"^ntp clock-period (\d+)$", "mask", "NTP drift correction, rewritten by the clock"),
)

_NXOS = (
    *_CISCO_COMMON,
    Rule(r"^!Time: ", "drop", "time of the command"),
    Rule(r"^!Running configuration last done at: ", "drop", "time of the last change"),
    Rule(r"^!Startup config saved at: ", "drop", "time of the last save"),
)

_EOS = (
    Rule(r"^! Time: ", "drop", "time of the command"),
    Rule(r"^! Startup-config last modified at ", "drop", "time of the last save"),
    Rule(r"^! Running-config last modified at ", "drop", "time of the last change"),
    Rule(r"^ntp clock-period (\d+)$", "mask", "NTP drift correction"),
)

_ASA = (
    *_CISCO_COMMON,
    Rule(r"^: Saved$", "drop", "save marker"),
    Rule(r"^: Written by \S+ at ", "drop", "time and user of the last save"),
    Rule(r"^Cryptochecksum: ?[0-9a-f ]+$", "drop", "checksum of the text, changes with it"),
)

_XR = (
    Rule(
        r"^" + _DAY + " " + _MONTH + r" +\d+ " + _CLOCK + r" \S+$",
        "drop",
        "time stamp XR prints before every command's output",
    ),
    Rule(r"^Building configuration\.\.\.$", "drop", "printed before the text"),
    Rule(r"^!! Last configuration change at ", "drop", "time and user of the last change"),
)

_JUNOS = (
    Rule(r"^## Last commit: ", "drop", "time and user of the last commit"),
    Rule(r"^## Last changed: ", "drop", "time of the last change"),
)

BUILTIN_RULES: dict[str, tuple[Rule, ...]] = {
    "cisco_ios": _IOS,
    "cisco_xe": _IOS,
    "cisco_nxos": _NXOS,
    "arista_eos": _EOS,
    "cisco_asa": _ASA,
    "cisco_xr": _XR,
    "juniper_junos": _JUNOS,
    "linux": (),
}

_ENDS_END = Sanity(what="a configuration ending with 'end'", last_line=r"end")

SANITY: dict[str, Sanity] = {
    "cisco_ios": _ENDS_END,
    "cisco_xe": _ENDS_END,
    "arista_eos": _ENDS_END,
    "cisco_xr": _ENDS_END,
    "cisco_nxos": Sanity(
        what="a configuration with the '!Command:' header or a 'version' line",
        header=r"^(?:!Command: show (?:running|startup)-config|version \S+)",
    ),
    "cisco_asa": Sanity(what="a configuration ending with ': end'", last_line=r": end"),
    "juniper_junos": Sanity(
        what="a configuration ending with a closing '}' or made of 'set' lines", junos=True
    ),
}
GENERIC_SANITY = Sanity(what="a non-empty configuration")
"""Platforms without their own check (Linux files, user platforms): not empty, no error."""
