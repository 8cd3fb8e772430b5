"""Plain data shared by every layer: devices, credentials, command results."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

HostKeyPolicy = Literal["strict", "accept-new", "off"]
FailureStrategyName = Literal["continue", "abort_first", "abort_after_n"]


@dataclass(frozen=True, slots=True)
class Credential:
    """Login secrets for a device. ``repr`` never shows a secret."""

    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)
    """A private key in OpenSSH/PEM text form (not a path)."""
    private_key_passphrase: str | None = field(default=None, repr=False)
    enable_secret: str | None = field(default=None, repr=False)
    name: str = ""
    use_agent: bool = False

    def fingerprint(self) -> str:
        """A stable digest of everything in the credential, for pool keys (not reversible)."""
        h = hashlib.sha256()
        for part in (
            self.username,
            self.password,
            self.private_key,
            self.private_key_passphrase,
            self.enable_secret,
            str(self.use_agent),
        ):
            h.update(b"\x00" if part is None else b"\x01" + part.encode())
        return h.hexdigest()[:32]

    def secrets(self) -> list[str]:
        """Every secret value in this credential, for redaction."""
        return [s for s in (self.password, self.private_key_passphrase, self.enable_secret) if s]


@dataclass(frozen=True, slots=True)
class JumpHost:
    """A bastion through which a device is reached."""

    host: str
    port: int = 22
    credential: Credential | None = None
    host_key_policy: HostKeyPolicy = "accept-new"


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """An inventory entry: everything needed to open a session to one device."""

    name: str
    host: str
    platform: str
    port: int = 22
    credentials: tuple[Credential, ...] = ()
    max_sessions: int = 2
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    jump_host: JumpHost | None = None
    host_key_policy: HostKeyPolicy = "accept-new"
    legacy_algorithms: bool = False
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(slots=True)
class CommandResult:
    """What one command produced on one device."""

    command: str
    output: str = ""
    ok: bool = True
    error: str | None = None
    error_kind: str | None = None
    parsed: list[dict[str, Any]] | None = None
    started_at: float = 0.0
    """Wall-clock start, seconds since the epoch."""
    duration_ms: float = 0.0
    raw_output: str | None = field(default=None, repr=False, compare=False)
    """The output before masking, only when the session keeps it (``masking.keep_raw``)
    and masking changed something. Never in ``to_dict``: the store keeps it encrypted."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "output": self.output,
            "parsed": self.parsed,
            "ok": self.ok,
            "error": self.error,
            "error_kind": self.error_kind,
            "started_at": self.started_at,
            "duration_ms": round(self.duration_ms, 3),
        }
