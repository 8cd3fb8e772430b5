"""Host key policies: ``strict`` (known_hosts), ``accept-new`` (pin on first use), ``off``.

known_hosts files are read with asyncssh's own parser, so OpenSSH's formats all work:
plain (``[host]:port keytype base64``, ``host keytype base64`` for port 22), hashed
(``|1|salt|hash``, as ``HashKnownHosts yes`` writes), wildcards and ``@revoked`` markers.
A port other than 22 matches only ``[host]:port`` entries, as in OpenSSH. New pins are
appended in the plain format. Reads are cached per file (invalidated by size/mtime) so
thousands of sessions opening at once do not re-read it each time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from netfleet.core.descriptors import TOO_MANY_OPEN_FILES, is_exhaustion
from netfleet.core.errors import (
    HostKeyError,
    HostKeyMismatch,
    HostKeyUnknown,
    NetfleetError,
    ResourceExhausted,
)

_cache: dict[Path, tuple[tuple[int, int], asyncssh.SSHKnownHosts]] = {}


def host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _parse(path: Path, text: str) -> asyncssh.SSHKnownHosts:
    try:
        return asyncssh.import_known_hosts(text)
    except ValueError as exc:
        raise HostKeyError(f"cannot use known_hosts {path}: {exc}") from None


def _file_error(doing: str, exc: OSError) -> NetfleetError:
    """A failed read or write of known_hosts: transient if out of descriptors."""
    if is_exhaustion(exc):
        return ResourceExhausted(f"cannot {doing}: {TOO_MANY_OPEN_FILES} in this process")
    return HostKeyError(f"cannot {doing}: {exc.strerror}")


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
            raise _file_error(f"read known_hosts {self.path}", exc) from None
        return (st.st_size, st.st_mtime_ns)

    def _entries(self) -> asyncssh.SSHKnownHosts | None:
        stamp = self._stamp()
        if stamp is None:
            return None
        cached = _cache.get(self.path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise _file_error(f"read known_hosts {self.path}", exc) from None
        entries = _parse(self.path, text)
        _cache[self.path] = (stamp, entries)
        return entries

    def _match(self, host: str, port: int) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
        """(pinned keys, revoked keys) for ``host:port``."""
        entries = self._entries()
        if entries is None:
            return [], []
        # The bracketed pattern as the host and no port: asyncssh then neither adds the
        # port itself nor falls back to port-22 entries (OpenSSH does not either).
        found = entries.match(host_pattern(host, port), "", None)
        return list(found[0]), list(found[2])

    def lookup(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        """Keys pinned for ``host:port`` (empty when the host is unknown)."""
        return self._match(host, port)[0]

    def revoked(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        """Keys marked ``@revoked`` for ``host:port``."""
        return self._match(host, port)[1]

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
            raise _file_error(f"write known_hosts {self.path}", exc) from None
        # Keep the parsed cache in step instead of re-reading the whole file, unless
        # someone else wrote to the file meanwhile.
        after = self._stamp()
        if after is not None and after[0] == (before[0] if before else 0) + len(line):
            if entries is None:
                entries = asyncssh.import_known_hosts("")
            entries.load(line.decode())
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
        if any(
            k.public_data == key.public_data for k in self.known_hosts.revoked(self.host, self.port)
        ):
            self.error = HostKeyMismatch(
                f"host key of {address} ({fingerprint(key)}) is marked @revoked in "
                f"{self.known_hosts.path}",
                device=self.device,
            )
            return False
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
