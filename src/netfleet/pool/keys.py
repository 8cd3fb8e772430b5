"""Pool keys: which sessions may be shared, and when a device's settings changed.

A pooled session may only be handed to a job whose key is equal: same device,
address, platform, connection options and credential fingerprint. A job with a
different (say, wrong) password therefore never borrows another job's
authenticated session. Fingerprints are one-way digests; keys hold no secrets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from netfleet.core.models import DeviceSpec


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()[:24]


def credentials_fingerprint(spec: DeviceSpec) -> str:
    """A digest of every credential of ``spec``, in order (the fallback list counts)."""
    return _digest(*(c.fingerprint() for c in spec.credentials))


def options_fingerprint(spec: DeviceSpec, extra: str = "") -> str:
    """A digest of how a session is opened, apart from the credentials."""
    jump = spec.jump_host
    jump_parts = (
        ("", "", "", "")
        if jump is None
        else (
            jump.host,
            str(jump.port),
            jump.host_key_policy,
            jump.credential.fingerprint() if jump.credential else "",
        )
    )
    return _digest(spec.host_key_policy, str(spec.legacy_algorithms), *jump_parts, extra)


def device_fingerprint(spec: DeviceSpec) -> str:
    """Everything but credentials that makes existing sessions of a device stale if changed."""
    return _digest(spec.host, str(spec.port), spec.platform, options_fingerprint(spec))


@dataclass(frozen=True, slots=True)
class SessionKey:
    """Identity of an interchangeable pooled session."""

    device: str
    address: str
    platform: str
    options: str
    credential: str

    def __str__(self) -> str:
        return f"{self.device}@{self.address}/{self.platform}/{self.credential[:8]}"


def session_key(spec: DeviceSpec, extra: str = "") -> SessionKey:
    """The key of sessions that may serve a job for ``spec`` (``extra``: job-level options)."""
    return SessionKey(
        device=spec.name,
        address=spec.address,
        platform=spec.platform,
        options=options_fingerprint(spec, extra),
        credential=credentials_fingerprint(spec),
    )
