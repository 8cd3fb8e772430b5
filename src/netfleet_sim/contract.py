"""The contract between the SSH server side of the simulator and platform behaviour.

The server (``server.py`` and friends) owns sockets, authentication, echo and
line assembly, session limits, timeouts, latency, paging interaction, faults
and the control interface. A platform (``platforms/``) owns everything a
device *says*: banners, prompts, modes, command outputs, errors and the
device's configuration state. Engines are pure: no I/O, no asyncio, no sleeps.

Text crossing this contract uses ``\\n`` line endings; the server turns them
into ``\\r\\n`` on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Pager:
    """How a platform pages long output while paging is enabled."""

    prompt: str
    """What the device prints at a page break, e.g. ``" --More-- "``."""
    lines: int = 24
    """Output lines per page."""
    erase: str = ""
    """What the device prints after a key is pressed at the page break (e.g. backspaces)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """The result of one input line."""

    output: str = ""
    """What the command printed, ending in a newline when non-empty; no prompt."""
    close: bool = False
    """The session ends after ``output`` (``exit``/``logout`` at the top level)."""
    pageable: bool = True
    """Whether the pager applies to ``output`` (true for show commands)."""


class CliEngine(Protocol):
    """One interactive CLI session on a device (one per SSH session)."""

    def motd(self) -> str:
        """Text printed after login and before the first prompt (may be empty)."""

    def prompt(self) -> str:
        """The prompt to print now (changes with mode; ``"Password: "`` while awaiting one)."""

    def echo(self) -> bool:
        """False while the next input line is a secret (not echoed)."""

    def paging(self) -> Pager | None:
        """The pager while paging is enabled in this session, else None."""

    def execute(self, line: str) -> Reply:
        """Handle one input line (without its line ending) and return what the device prints."""


class DeviceState(Protocol):
    """The state of one simulated device, shared by all of its sessions."""

    hostname: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot, for ``--state-dir`` persistence."""

    def reboot(self) -> None:
        """Discard unsaved changes: the running config becomes the startup config."""


class PlatformSim(Protocol):
    """Behaviour of one platform (cisco_ios, juniper_junos ...)."""

    name: str

    def ssh_banner(self, state: DeviceState) -> str:
        """The pre-authentication SSH banner ("" for none)."""

    def new_state(self, hostname: str, *, index: int, config_size: int = 0) -> DeviceState:
        """A fresh device. ``config_size`` pads the running config to about that many bytes."""

    def load_state(self, data: dict[str, Any]) -> DeviceState:
        """Restore a device from ``DeviceState.to_json()``."""

    def engine(self, state: DeviceState, *, username: str, enable_secret: str) -> CliEngine:
        """A new CLI session on ``state`` for a user who just logged in."""
