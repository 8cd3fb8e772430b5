"""What the transport needs to open one session: address, credentials, timeouts, policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from netfleet.core.models import Credential, HostKeyPolicy, JumpHost
from netfleet.core.settings import ConnectSettings


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed for each connect phase and for the first prompt."""

    tcp: float = 10.0
    handshake: float = 15.0
    auth: float = 20.0
    prompt: float = 20.0

    @classmethod
    def from_settings(cls, settings: ConnectSettings) -> Timeouts:
        return cls(
            tcp=settings.tcp_timeout_seconds,
            handshake=settings.handshake_timeout_seconds,
            auth=settings.auth_timeout_seconds,
            prompt=settings.prompt_timeout_seconds,
        )

    def for_phase(self, phase: str) -> float:
        return {"tcp": self.tcp, "handshake": self.handshake}.get(phase, self.auth)


@dataclass(slots=True)
class ConnectTimings:
    """Milliseconds spent in each phase of opening a session."""

    tcp_ms: float = 0.0
    handshake_ms: float = 0.0
    auth_ms: float = 0.0
    shell_ms: float = 0.0
    prompt_ms: float = 0.0
    total_ms: float = 0.0
    attempts: int = 0
    """Connections made (more than one when a credential was refused)."""

    def to_dict(self) -> dict[str, float]:
        return {
            "tcp_ms": round(self.tcp_ms, 3),
            "handshake_ms": round(self.handshake_ms, 3),
            "auth_ms": round(self.auth_ms, 3),
            "shell_ms": round(self.shell_ms, 3),
            "prompt_ms": round(self.prompt_ms, 3),
            "total_ms": round(self.total_ms, 3),
            "attempts": self.attempts,
        }


@dataclass(frozen=True, slots=True)
class ConnectOptions:
    """Everything the transport needs for one device session."""

    host: str
    port: int
    credentials: tuple[Credential, ...]
    device: str = ""
    """Name used in errors (defaults to host:port)."""
    timeouts: Timeouts = field(default_factory=Timeouts)
    host_key_policy: HostKeyPolicy = "strict"
    known_hosts: Path | None = None
    legacy_algorithms: bool = False
    keepalive_seconds: float = 30.0
    jump_host: JumpHost | None = None
    ssh_config: Path | None = None
    """An OpenSSH client config file (``~/.ssh/config``) applied by asyncssh, if it exists."""
    term_width: int = 511
    term_height: int = 24

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def label(self) -> str:
        return self.device or self.address
