"""Variants of the simulated Junos device: how other Junos boxes differ in what they print.

Pass one to :class:`~netfleet_sim.platforms.junos.JunosPlatform` (e.g. in a
``Simulator(registry={"juniper_junos": JunosPlatform(VARIANTS["ex-vc"])})``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netfleet_sim.platforms.junos_state import JunosState


@dataclass(frozen=True, slots=True)
class JunosVariant:
    """What differs between Junos devices in this simulator."""

    name: str = "ex4300"
    chassis: str = ""
    """A line printed above every prompt: ``{master:0}`` (EX virtual chassis),
    ``{primary:node0}`` (SRX chassis cluster); in configuration mode it leads the
    ``[edit]`` line (``{master:0}[edit]``)."""
    logical_system: str = ""
    """The prompt names a logical system: ``user@r1:pe1>``."""
    legacy_version: bool = False
    """``show version`` of an older EX switch: ``JUNOS EX  Software Suite [12.3R12.4]``."""
    private: bool = True
    """``configure private`` exists; False: it is a syntax error (``configure exclusive`` works)."""


VARIANTS: dict[str, JunosVariant] = {
    "ex4300": JunosVariant(),
    "ex-vc": JunosVariant("ex-vc", chassis="{master:0}"),
    "srx-cluster": JunosVariant("srx-cluster", chassis="{primary:node0}"),
    "lsys": JunosVariant("lsys", logical_system="pe1"),
    "ex-legacy": JunosVariant("ex-legacy", chassis="{master:0}", legacy_version=True),
    "no-private": JunosVariant("no-private", private=False),
}

LEGACY_RELEASE = "12.3R12.4"
LEGACY_PACKAGES = (
    "JUNOS EX  Software Suite",
    "JUNOS FIPS mode utilities",
    "JUNOS Online Documentation",
    "JUNOS EX 2200 Software Suite",
    "JUNOS Web Management",
)


def legacy_show_version(state: JunosState) -> str:
    """``show version`` of an EX2200 on Junos 12.3 (no ``Junos:`` line)."""
    lines = ["", "fpc0:", "-" * 76, f"Hostname: {state.hostname}", "Model: ex2200-24t-4g"]
    lines += [f"{name} [{LEGACY_RELEASE}]" for name in LEGACY_PACKAGES]
    return "\n".join(lines) + "\n"
