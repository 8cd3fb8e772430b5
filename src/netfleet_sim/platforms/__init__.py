"""Platform behaviour of simulated devices: one :class:`PlatformSim` per platform name.

Six platforms share the IOS-like engine (``iosengine``), each described by an
:class:`~netfleet_sim.platforms.ios_like.state.IosFlavor` (``ios``, ``eos``, ``nxos``, ``xr``,
``asa``); Junos (``junos``) and Linux (``linux``) have their own engines. Engines are
pure: no I/O, no asyncio.
"""

from __future__ import annotations

from netfleet_sim.contract import PlatformSim
from netfleet_sim.platforms.ios_like.asa import ASA
from netfleet_sim.platforms.ios_like.eos import EOS
from netfleet_sim.platforms.ios_like.ios import IOS, XE
from netfleet_sim.platforms.ios_like.nxos import NXOS
from netfleet_sim.platforms.ios_like.platform import IosPlatform
from netfleet_sim.platforms.ios_like.xr import XR
from netfleet_sim.platforms.junos import JunosPlatform
from netfleet_sim.platforms.linux import LinuxPlatform

PLATFORMS: dict[str, PlatformSim] = {
    "cisco_ios": IosPlatform(IOS),
    "cisco_xe": IosPlatform(XE),
    "cisco_nxos": IosPlatform(NXOS),
    "cisco_xr": IosPlatform(XR),
    "cisco_asa": IosPlatform(ASA),
    "arista_eos": IosPlatform(EOS),
    "juniper_junos": JunosPlatform(),
    "linux": LinuxPlatform(),
}
"""Every shipped platform; this order is the simulator's default round-robin."""


def get_platform(name: str) -> PlatformSim:
    """The platform called ``name``; KeyError naming the known platforms otherwise."""
    try:
        return PLATFORMS[name]
    except KeyError:
        known = ", ".join(sorted(PLATFORMS))
        raise KeyError(f"unknown platform {name!r} (known: {known})") from None


__all__ = ["PLATFORMS", "get_platform"]
