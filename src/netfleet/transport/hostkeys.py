"""Host key policies: ``strict`` (known_hosts), ``accept-new`` (pin on first use), ``off``.

known_hosts files are read with asyncssh's own parser, so OpenSSH's formats all work:
plain (``[host]:port keytype base64``, ``host keytype base64`` for port 22), hashed
(``|1|salt|hash``, as ``HashKnownHosts yes`` writes), wildcards and ``@revoked`` markers.
A port other than 22 matches only ``[host]:port`` entries, as in OpenSSH. New pins are
appended in the plain format. Each process keeps the file parsed: a file that only grew
has just its new lines parsed (pins appended by other workers), and any other change
(size, inode, or the bytes before the old end) re-reads it whole.
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
from netfleet.transport.hashed_hosts import HashedLines, split

_FOUND_MAX = 65_536
"""Lookups remembered per file version, at most."""
_TAIL = 64
"""Bytes before the end of what was read that must be unchanged for an append-only re-read."""


@dataclass(slots=True)
class _Read:
    """What one process has parsed of a known_hosts file."""

    inode: int
    offset: int
    """Bytes parsed: the whole file when it was read whole, then up to the last line
    break of what was appended (a line still being written waits for the next read)."""
    stamp: tuple[int, int]
    """(size, mtime) when it was last checked."""
    tail: bytes
    """The last bytes parsed, to tell an append from a rewrite."""
    entries: asyncssh.SSHKnownHosts
    """The plain entries (asyncssh finds a host among them by a dictionary)."""
    hashed: HashedLines = field(default_factory=HashedLines)
    found: dict[str, tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey]]] = field(
        default_factory=dict
    )
    """Lookups since the last change: a login asks for one host three times."""


_cache: dict[Path, _Read] = {}


def host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def _file_error(doing: str, exc: OSError) -> NetfleetError:
    """A failed read or write of known_hosts: transient if out of descriptors."""
    if is_exhaustion(exc):
        return ResourceExhausted(f"cannot {doing}: {TOO_MANY_OPEN_FILES} in this process")
    return HostKeyError(f"cannot {doing}: {exc.strerror}")


class KnownHosts:
    """One known_hosts file."""

    def __init__(self, path: Path) -> None:
        self.path = path.expanduser()

    def _stat(self) -> os.stat_result | None:
        try:
            return self.path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _file_error(f"read known_hosts {self.path}", exc) from None

    def _read_from(self, offset: int) -> bytes:
        try:
            with self.path.open("rb") as fh:
                fh.seek(offset)
                return fh.read()
        except OSError as exc:
            raise _file_error(f"read known_hosts {self.path}", exc) from None

    def _read(self) -> _Read | None:
        """The parsed file. A file that only grew (pins appended by other processes or
        sessions) has just its new lines parsed, so N devices pinned by several workers
        cost O(N) parsing, not O(N) per login; any other change re-reads it whole."""
        st = self._stat()
        if st is None:
            _cache.pop(self.path, None)
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        read = _cache.get(self.path)
        if read is not None and read.inode == st.st_ino and read.stamp == stamp:
            return read
        if read is not None and read.inode == st.st_ino and st.st_size >= read.offset:
            start = read.offset - len(read.tail)
            new = self._read_from(start)
            if new.startswith(read.tail):
                self._load(read, new[len(read.tail) :], stamp)
                return read
        data = self._read_from(0)
        read = _Read(st.st_ino, 0, stamp, b"", asyncssh.import_known_hosts(""))
        self._load(read, data, stamp)
        _cache[self.path] = read
        return read

    def _load(self, read: _Read, data: bytes, stamp: tuple[int, int]) -> None:
        """Parse ``data`` (the file from ``read.offset`` on) into ``read``."""
        if read.offset:
            data = data[: data.rfind(b"\n") + 1]
        if data:
            read.found.clear()
            try:
                read.entries.load(split(data.decode("utf-8", errors="replace"), read.hashed))
            except ValueError as exc:
                _cache.pop(self.path, None)
                raise HostKeyError(f"cannot use known_hosts {self.path}: {exc}") from None
            read.offset += len(data)
            read.tail = (read.tail + data)[-_TAIL:]
        read.stamp = stamp

    def _match(self, host: str, port: int) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
        """(pinned keys, revoked keys) for ``host:port``."""
        read = self._read()
        if read is None:
            return [], []
        pattern = host_pattern(host, port)
        known = read.found.get(pattern)
        if known is None:
            if len(read.found) >= _FOUND_MAX:
                read.found.clear()
            # The bracketed pattern as the host and no port: asyncssh then neither adds the
            # port itself nor falls back to port-22 entries (OpenSSH does not either).
            found = read.entries.match(pattern, "", None)
            pinned, revoked = read.hashed.match(pattern) if read.hashed else ([], [])
            known = read.found[pattern] = ([*found[0], *pinned], [*found[2], *revoked])
        return list(known[0]), list(known[1])

    def lookup(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        """Keys pinned for ``host:port`` (empty when the host is unknown)."""
        return self._match(host, port)[0]

    def revoked(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        """Keys marked ``@revoked`` for ``host:port``."""
        return self._match(host, port)[1]

    def add(self, host: str, port: int, key: asyncssh.SSHKey) -> None:
        """Pin ``key`` for ``host:port`` (appends one line; creates the file 0600).

        The next lookup parses the appended line only (see ``_read``)."""
        pattern = host_pattern(host, port)
        key_text = " ".join(key.export_public_key("openssh").decode().split()[:2])
        line = f"{pattern} {key_text}\n".encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line  # an edited last line without its line break
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise _file_error(f"write known_hosts {self.path}", exc) from None


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
