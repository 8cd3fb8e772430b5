"""Hashed known_hosts entries (``|1|salt|hash``, as ``HashKnownHosts yes`` writes), kept
apart so a lookup does not cost asyncssh's match over every one of them.

asyncssh matches a host against a hashed entry by an HMAC in Python, about 8 µs an entry:
80 ms a lookup in a file of 10,000. Here each hashed line keeps its hash and the HMAC's two
SHA-1 states with the salt already absorbed (RFC 2104's inner and outer pads, about 540
bytes a line), so a lookup costs two state copies an entry (about 1 µs), and only the
lines that match are parsed by asyncssh, which decides what they mean (markers, key
types). Plain entries stay with asyncssh, which finds them by a dictionary.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import Any

import asyncssh

MAGIC = "|1|"
"""The host field of a hashed entry starts so (OpenSSH's only hash format, HMAC-SHA1)."""
_BLOCK = 64
"""SHA-1's block size: HMAC pads its key to it."""


def _pads(salt: bytes) -> tuple[Any, Any]:
    """SHA-1 states that have absorbed ``salt`` XOR the inner and the outer pad."""
    key = (hashlib.sha1(salt).digest() if len(salt) > _BLOCK else salt).ljust(_BLOCK, b"\0")
    inner = hashlib.sha1(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha1(bytes(b ^ 0x5C for b in key))
    return inner, outer


@dataclass(slots=True)
class HashedLines:
    """The hashed lines of one file, with their hashes and HMAC states."""

    inner: list[Any] = field(default_factory=list)
    outer: list[Any] = field(default_factory=list)
    hashes: list[bytes] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, salt: bytes, digest: bytes, line: str) -> None:
        inner, outer = _pads(salt)
        self.inner.append(inner)
        self.outer.append(outer)
        self.hashes.append(digest)
        self.lines.append(line)

    def match(self, pattern: str) -> tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey]]:
        """(pinned keys, revoked keys) of the hashed lines for ``pattern`` (``host`` or
        ``[host]:port``, the name OpenSSH hashes)."""
        name = pattern.encode()
        found = []
        for inner, outer, digest, line in zip(
            self.inner, self.outer, self.hashes, self.lines, strict=True
        ):
            h = inner.copy()
            h.update(name)
            mac = outer.copy()
            mac.update(h.digest())
            if mac.digest() == digest:  # hashes of host names: nothing secret to time
                found.append(line)
        if not found:
            return [], []
        entries = asyncssh.import_known_hosts("".join(found)).match(pattern, "", None)
        return list(entries[0]), list(entries[2])


def split(text: str, into: HashedLines) -> str:
    """Move the hashed lines of ``text`` into ``into``; returns the other lines.

    A line whose hashed host field does not decode stays with the others, so asyncssh
    reports it as it would. Raises ``ValueError`` (asyncssh's) for a hashed line asyncssh
    cannot parse.
    """
    plain: list[str] = []
    hashed: list[tuple[bytes, bytes, str]] = []
    for line in text.splitlines(keepends=True):
        fields = line.split(None, 2)
        marked = len(fields) > 1 and fields[0].startswith("@")  # @revoked, @cert-authority
        host = fields[1] if marked else fields[0] if fields else ""
        parts = host.split("|")
        if host.startswith(MAGIC) and len(parts) == 4:
            try:
                salt = base64.b64decode(parts[2], validate=True)
                digest = base64.b64decode(parts[3], validate=True)
            except binascii.Error:
                plain.append(line)
                continue
            hashed.append((salt, digest, line if line.endswith("\n") else line + "\n"))
        else:
            plain.append(line)
    if hashed:
        # Parsed once whole, so a line asyncssh refuses is an error as it would be.
        asyncssh.import_known_hosts("".join(line for _, _, line in hashed))
        for salt, digest, line in hashed:
            into.add(salt, digest, line)
    return "".join(plain)
