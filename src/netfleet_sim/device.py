"""One simulated device: identity, credentials, platform state, faults and statistics."""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncssh

from netfleet_sim.contract import DeviceState, PlatformSim
from netfleet_sim.faults import Faults, apply_fault_changes

RECENT_COMMANDS = 100
MAX_COUNTED_LINES = 100_000
"""Distinct lines counted in ``DeviceStats.line_counts`` (new lines beyond are not)."""
"""How many recent commands each device remembers."""

_NO_FAULTS = Faults()


@dataclass(slots=True)
class ConnInfo:
    """One SSH connection at a device, as ``GET /connections`` lists it: who (the client's
    port, to find the process that owns it), since when, and what it did."""

    peer_port: int
    opened: float = field(default_factory=time.monotonic)
    line: bool = False
    """It holds a vty line (counted in ``sessions_open``)."""
    authenticated: bool = False
    channels: int = 0
    commands: int = 0
    last_command: float = 0.0

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "peer_port": self.peer_port,
            "age_s": round(now - self.opened, 3),
            "line": self.line,
            "authenticated": self.authenticated,
            "channels": self.channels,
            "commands": self.commands,
            "idle_s": round(now - (self.last_command or self.opened), 3),
        }


DEFAULT_ENABLE_SECRET = "sim-enable"
"""The enable secret devices take unless told otherwise: a value no device prints, so the
client's masking of known secret values leaves its output as it is (a secret such as
``enable`` would be masked wherever the word appears, ``enable secret`` lines included)."""


@dataclass(slots=True)
class Settings:
    """Simulator-wide settings every device falls back to (shared, not copied)."""

    username: str = "admin"
    password: str = field(default="admin", repr=False)
    enable_secret: str = field(default=DEFAULT_ENABLE_SECRET, repr=False)
    login_delay_ms: float = 0.0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    max_sessions: int = 5
    exec_timeout_s: float | None = None
    bytes_per_second: int | None = None
    auth_methods: frozenset[str] = frozenset({"password", "keyboard-interactive", "publickey"})
    authorized_keys: frozenset[bytes] = frozenset()
    """Public key blobs (``SSHKey.public_data``) accepted for public-key authentication."""


@dataclass(frozen=True, slots=True)
class DeviceStats:
    """A snapshot of one device's counters (since start or the last reset)."""

    sessions_open: int
    """SSH connections holding a vty line now (a line is taken when the TCP connection arrives)."""
    peak_sessions: int
    logins: int
    """Successful authentications."""
    login_failures: int
    """Rejected passwords or keyboard-interactive answers, refused auths, rejected keys."""
    sessions_refused: int
    """Connections turned away: all vty lines busy, ``refuse_sessions`` or rebooting."""
    command_count: int
    """Non-empty command lines received (secrets excluded)."""
    commands: list[str]
    line_counts: dict[str, int] = field(default_factory=dict)
    """How many times each line was received (ground truth for "config never ran twice")."""
    """The most recent command lines (up to 100), oldest first."""


class SimDevice:
    """A simulated device. Read its identity from attributes; change faults at run time."""

    __slots__ = (
        "_commands",
        "_conns",
        "_down_until",
        "_failures",
        "_line_counts",
        "_logins",
        "_open",
        "_peak",
        "_refused",
        "_settings",
        "command_count",
        "dirty",
        "faults",
        "host",
        "index",
        "name",
        "platform",
        "platform_sim",
        "port",
        "state",
    )

    def __init__(
        self,
        *,
        name: str,
        index: int,
        platform: str,
        platform_sim: PlatformSim,
        state: DeviceState,
        settings: Settings,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.name = name
        self.index = index
        self.platform = platform
        self.platform_sim = platform_sim
        self.state: DeviceState = state
        self.host = host
        self.port = port
        self.faults: Faults = _NO_FAULTS
        self.dirty = False
        self.command_count = 0
        self._line_counts: dict[str, int] = {}
        self._settings = settings
        self._open = self._peak = self._logins = self._failures = self._refused = 0
        self._commands: deque[str] | None = None
        self._conns: dict[asyncssh.SSHServerConnection, ConnInfo] | None = None
        self._down_until = 0.0

    def __repr__(self) -> str:
        return f"SimDevice(name={self.name!r}, platform={self.platform!r}, port={self.port})"

    # -- credentials (shared by all devices) --------------------------------
    @property
    def username(self) -> str:
        return self._settings.username

    @property
    def password(self) -> str:
        return self._settings.password

    @property
    def enable_secret(self) -> str:
        return self._settings.enable_secret

    @property
    def settings(self) -> Settings:
        return self._settings

    # -- effective timing ----------------------------------------------------
    def latency_s(self) -> float:
        """Seconds before a command answers: latency plus a uniform jitter draw."""
        f = self.faults
        latency = self._settings.latency_ms if f.latency_ms is None else f.latency_ms
        jitter = self._settings.jitter_ms if f.jitter_ms is None else f.jitter_ms
        if jitter > 0:
            latency += random.uniform(0.0, jitter)
        return latency / 1000.0

    def login_delay_s(self) -> float:
        f = self.faults
        delay = self._settings.login_delay_ms if f.login_delay_ms is None else f.login_delay_ms
        return delay / 1000.0

    def max_sessions(self) -> int:
        f = self.faults
        return self._settings.max_sessions if f.max_sessions is None else f.max_sessions

    def exec_timeout_s(self) -> float | None:
        f = self.faults
        return self._settings.exec_timeout_s if f.exec_timeout_s is None else f.exec_timeout_s

    def bytes_per_second(self) -> int | None:
        f = self.faults
        return self._settings.bytes_per_second if f.bytes_per_second is None else f.bytes_per_second

    # -- faults --------------------------------------------------------------
    def set_faults(self, **changes: Any) -> None:
        """Set faults or timing overrides; fields not named keep their value.

        ``hang_on=str``, ``drop_mid_output=bool|int``, ``refuse_auth=bool``,
        ``refuse_sessions=bool``, ``latency_ms``, ``jitter_ms``,
        ``login_delay_ms``, ``bytes_per_second``, ``max_sessions``, ``exec_timeout_s``
        (see :mod:`netfleet_sim.faults`).
        """
        self.faults = apply_fault_changes(self.faults, changes)

    def clear_faults(self) -> None:
        """Remove every fault and timing override."""
        self.faults = _NO_FAULTS

    async def reboot(self, *, downtime_s: float = 0.0) -> None:
        """Drop every session and discard unsaved changes; refuse logins for ``downtime_s``."""
        self._down_until = time.monotonic() + downtime_s if downtime_s > 0 else 0.0
        for conn in list(self._conns or ()):
            conn.abort()
        self.state.reboot()
        self.dirty = True

    def is_down(self) -> bool:
        return self._down_until > 0 and time.monotonic() < self._down_until

    # -- statistics ----------------------------------------------------------
    @property
    def stats(self) -> DeviceStats:
        return DeviceStats(
            sessions_open=self._open,
            peak_sessions=self._peak,
            logins=self._logins,
            login_failures=self._failures,
            sessions_refused=self._refused,
            command_count=self.command_count,
            commands=list(self._commands or ()),
            line_counts=dict(self._line_counts),
        )

    def reset_stats(self) -> None:
        """Zero the counters; the peak restarts from the sessions open now."""
        self._peak = self._open
        self._logins = self._failures = self._refused = self.command_count = 0
        self._commands = None
        self._line_counts = {}

    def to_json(self) -> dict[str, Any]:
        """Identity, faults and statistics, as the control interface reports them."""
        stats = self.stats
        return {
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "platform": self.platform,
            "sessions_open": stats.sessions_open,
            "peak_sessions": stats.peak_sessions,
            "logins": stats.logins,
            "login_failures": stats.login_failures,
            "sessions_refused": stats.sessions_refused,
            "command_count": stats.command_count,
            "line_counts": stats.line_counts,
            "commands": stats.commands,
            "faults": self.faults.to_json(),
        }

    # -- bookkeeping used by the server ---------------------------------------
    def take_line(self) -> bool:
        """Take a vty line for a new connection; False when all lines are busy."""
        if self._open >= self.max_sessions():
            self._refused += 1
            return False
        self._open += 1
        self._peak = max(self._peak, self._open)
        return True

    def release_line(self) -> None:
        self._open -= 1

    def count_refused(self) -> None:
        self._refused += 1

    def count_login(self) -> None:
        self._logins += 1

    def count_login_failure(self) -> None:
        self._failures += 1

    def record_command(self, line: str, conn: asyncssh.SSHServerConnection | None = None) -> None:
        self.command_count += 1
        info = self._conns.get(conn) if conn is not None and self._conns else None
        if info is not None:
            info.commands += 1
            info.last_command = time.monotonic()
        counts = self._line_counts
        if line in counts or len(counts) < MAX_COUNTED_LINES:
            counts[line] = counts.get(line, 0) + 1
        self.dirty = True
        if self._commands is None:
            self._commands = deque(maxlen=RECENT_COMMANDS)
        self._commands.append(line)

    def add_connection(self, conn: asyncssh.SSHServerConnection) -> ConnInfo:
        """Register a new connection; its ``ConnInfo`` (the server updates it)."""
        if self._conns is None:
            self._conns = {}
        peer = conn.get_extra_info("peername")
        info = self._conns[conn] = ConnInfo(int(peer[1]) if peer else 0)
        return info

    def discard_connection(self, conn: asyncssh.SSHServerConnection) -> None:
        if self._conns is not None:
            self._conns.pop(conn, None)
            if not self._conns:
                self._conns = None

    def connections(self) -> Iterable[asyncssh.SSHServerConnection]:
        return list(self._conns or ())

    def connection_info(self) -> list[dict[str, Any]]:
        """The open connections (``ConnInfo.to_json``), oldest first."""
        now = time.monotonic()
        infos = sorted((self._conns or {}).values(), key=lambda i: i.opened)
        return [i.to_json(now) for i in infos]
