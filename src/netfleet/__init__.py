"""netfleet: run CLI commands and configuration on fleets of network devices over SSH.

``from netfleet import Netfleet`` is the Python API; ``Device`` (async) and ``SyncDevice``
drive one device directly. All are loaded on first use, so ``import netfleet`` stays
cheap for the CLI.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("netfleet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from netfleet.client import Netfleet
    from netfleet.device import Device, SyncDevice

__all__ = ["Device", "Netfleet", "SyncDevice", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Netfleet":
        from netfleet.client import Netfleet

        return Netfleet
    if name in ("Device", "SyncDevice"):
        from netfleet import device

        return getattr(device, name)
    raise AttributeError(f"module 'netfleet' has no attribute {name!r}")
