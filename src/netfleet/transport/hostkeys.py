"""Host key policies: ``strict`` (known_hosts), ``accept-new`` (pin on first use), ``off``.

The known_hosts file uses OpenSSH's plain format (``[host]:port keytype base64``,
``host keytype base64`` for port 22). Hashed entries and markers are ignored.
Reads are cached per file (invalidated by size/mtime) so thousands of sessions
opening at once do not re-read it each time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from netfleet.core.errors import HostKeyError, HostKeyMismatch, HostKeyUnknown

_Entries = dict[str, list[str]]
"""Host pattern -> public keys as ``"keytype base64"`` text (decoded only when looked up)."""
_cache: dict[Path, tuple[tuple[int, int], _Entries]] = {}


def host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _parse(text: str) -> _Entries:
    entries: _Entries = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "@", "|")):
            continue
        parts = line.split()
        if len(parts) < 3:
            continue
        for pattern in parts[0].split(","):
            entries.setdefault(pattern, []).append(f"{parts[1]} {parts[2]}")
    return entries


def _decode(texts: list[str]) -> list[asyncssh.SSHKey]:
    keys = []
    for text in texts:
        try:
            keys.append(asyncssh.import_public_key(text))
        except (asyncssh.KeyImportError, ValueError):
            continue
    return keys


class KnownHosts:
    """One known_hosts file."""

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise HostKeyError(f"cannot read known_hosts {self.path}: {exc.strerror}") from None
        return (st.st_size, st.st_mtime_ns)

    def _entries(self) -> _Entries:
        stamp = self._stamp()
        if stamp is None:
            return {}
        cached = _cache.get(self.path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            entries = _parse(self.path.read_text(encoding="utf-8", errors="replace"))
        except OSError as exc:
            raise HostKeyError(f"cannot read known_hosts {self.path}: {exc.strerror}") from None
        _cache[self.path] = (stamp, entries)
        return entries

    def lookup(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        """Keys pinned for ``host:port`` (empty when the host is unknown)."""
        return _decode(self._entries().get(host_pattern(host, port), []))

    def add(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        """Pin ``key`` for ``host:port`` (appends one line; creates the file 0600)."""
        entries = self._entries()
        before = self._stamp()
        pattern = host_pattern(host, port)
        key_text = " ".join(key.export_public_key("openssh").decode().split()[:2])
        line = f"{pattern} {key_text}\n".encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise HostKeyError(f"cannot write known_hosts {self.path}: {exc.strerror}") from None
        # Keep the parsed cache in step instead of re-reading the whole file, unless
        # someone else wrote to the file meanwhile.
        after = self._stamp()
        if after is not None and after[0] == (before[0] if before else 0) + len(line):
            entries = dict(entries)
            entries[pattern] = [*entries.get(pattern, []), key_text]
            _cache[self.path] = (after, entries)
        else:
            _cache.pop(self.path, None)


def fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")


@dataclass(slots=True)
class HostKeyVerifier:
    """Applies one policy to the key a server presents; remembers why it refused."""

    policy: str
    known_hosts: KnownHosts | None
    host: str
    port: int
    device: str
    error: HostKeyError | None = field(default=None)

    def pinned_algorithms(self) -> list[str]:
        """Host key algorithms of the pinned keys, so negotiation picks a pinned key type."""
        if self.policy == "off" or self.known_hosts is None:
            return []
        algs: list[str] = []
        for key in self.known_hosts.lookup(self.host, self.port):
            for alg in key.sig_algorithms:
                name = alg.decode()
                if name not in algs:
                    algs.append(name)
        return algs

    def verify(self, key: asyncssh.SSHKey) -> bool:
        if self.policy == "off":
            return True
        assert self.known_hosts is not None
        address = host_pattern(self.host, self.port)
        pinned = self.known_hosts.lookup(self.host, self.port)
        if not pinned:
            if self.policy == "accept-new":
                self.known_hosts.add(self.host, self.port, key)
                return True
            self.error = HostKeyUnknown(
                f"host key of {address} ({fingerprint(key)}) is not in {self.known_hosts.path} "
                "(host_key_policy=strict)",
                device=self.device,
            )
            return False
        if any(k.public_data == key.public_data for k in pinned):
            return True
        self.error = HostKeyMismatch(
            f"host key of {address} changed: expected {fingerprint(pinned[0])}, "
            f"got {fingerprint(key)} (pinned in {self.known_hosts.path})",
            device=self.device,
        )
        return False
