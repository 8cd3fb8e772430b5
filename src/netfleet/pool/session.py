"""The small interface the pool needs from a device session (``netfleet.device.Device``)."""

from __future__ import annotations

from typing import Protocol


class PooledSession(Protocol):
    """A session the pool can open, probe, reset and close."""

    @property
    def closed(self) -> bool:
        """The connection is gone (closed by us, the device, or the network)."""

    @property
    def dirty(self) -> bool:
        """A command was interrupted mid-way; the CLI state is unknown."""

    async def open(self) -> None:
        """Connect and log in (raises a ``ConnectError`` subclass)."""

    async def is_alive(self) -> bool:
        """A cheap liveness probe; False when the session is unusable."""

    async def reset(self) -> None:
        """Return the CLI to its default privilege level (raises on failure)."""

    async def close(self) -> None:
        """Close the connection; never raises."""
