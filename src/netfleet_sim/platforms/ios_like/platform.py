"""A :class:`~netfleet_sim.contract.PlatformSim` for any IOS-like flavour."""

from __future__ import annotations

from typing import Any

from netfleet_sim.contract import DeviceState
from netfleet_sim.platforms.ios_like.engine import IosEngine
from netfleet_sim.platforms.ios_like.state import IosFlavor, IosState


class IosPlatform:
    """Behaviour of one IOS-like platform, described by an :class:`IosFlavor`."""

    def __init__(self, flavor: IosFlavor) -> None:
        self.flavor = flavor
        self.name = flavor.name

    def ssh_banner(self, state: DeviceState) -> str:
        """The pre-authentication banner."""
        return self.flavor.banner

    def new_state(self, hostname: str, *, index: int, config_size: int = 0) -> IosState:
        """A factory-fresh device."""
        return IosState(self.flavor, hostname, index, config_size)

    def load_state(self, data: dict[str, Any]) -> IosState:
        """Restore a device saved with ``to_json``."""
        return IosState.from_json(self.flavor, data)

    def engine(self, state: DeviceState, *, username: str, enable_secret: str) -> IosEngine:
        """A new session on ``state``."""
        if not isinstance(state, IosState) or state.platform != self.name:
            raise TypeError(f"state of {getattr(state, 'platform', '?')} given to {self.name}")
        return IosEngine(state, username=username, enable_secret=enable_secret)

    def __repr__(self) -> str:
        return f"IosPlatform({self.name!r})"
