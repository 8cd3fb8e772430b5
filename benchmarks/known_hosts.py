"""First contact with a fleet: known_hosts lookups while workers pin new devices.

Each login looks its device up in known_hosts (the pinned key types, then the key
itself) and, under ``accept-new``, pins a new device by appending a line. Several
workers share one file, so between two logins of one worker the others append lines.
Each run starts from a file of N - K pinned devices and pins K more through one
``KnownHosts`` (three lookups and a pin per device, as a login does), so the time per
login is that of a fleet of N:

- one writer (the baseline): every pin is this process's own;
- two writers: every other pin is appended by "another worker" (written to the file
  directly), so the file this process has parsed keeps growing under it;
- a whole re-read per change: two writers with the parsed file dropped whenever it
  changed, which is what a cache keyed on size and mtime alone does.

Ratios are against the baseline; the aim is that a second writer costs about nothing.

A second table times a login's lookups (strict: nothing pinned) in a file of N hashed
entries (``HashKnownHosts yes``), against the same file unhashed (the baseline), and
against asyncssh's match over the whole file, three times a login (as before).

    .venv/bin/python benchmarks/known_hosts.py            # 1,000, 10,000 and 50,000 devices
    .venv/bin/python benchmarks/known_hosts.py --smoke    # 200 devices (CI)
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import base64
import hashlib
import hmac
import os
import tempfile
import time
import warnings

with warnings.catch_warnings():  # cryptography 51 deprecates DSA; asyncssh names it
    warnings.filterwarnings("ignore", "DSA is deprecated")
    import asyncssh

from netfleet.transport import KnownHosts, hostkeys

LOGINS = 500
"""K: the logins timed per run (a tenth of it for the whole re-reads, which are slow)."""


def _pin_fleet(path: Path, fleet: int, *, others: bool, reread: bool) -> float:
    """Seconds per login (lookups and a pin) for the last ``LOGINS`` devices of ``fleet``."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    line = " ".join(key.export_public_key("openssh").decode().split()[:2])
    first = max(0, fleet - (LOGINS // 10 if reread else LOGINS))
    path.write_text("".join(f"[10.0.0.1]:{20000 + i} {line}\n" for i in range(first)))
    kh = KnownHosts(path)
    hostkeys._cache.clear()
    kh.lookup("10.0.0.1", 1)  # the file as the worker found it at start
    start = time.perf_counter()
    for i in range(first, fleet):
        port = 20000 + i
        if others and i % 2:
            with path.open("a") as fh:  # another worker pins this one
                fh.write(f"[10.0.0.1]:{port} {line}\n")
            if reread:
                hostkeys._cache.clear()
        for _ in range(2):  # the key types to offer, then the revoked keys
            kh.lookup("10.0.0.1", port)
        if not kh.lookup("10.0.0.1", port):
            kh.add("10.0.0.1", port, key)
    return (time.perf_counter() - start) / (fleet - first)


def _hashed_name(salt: bytes, name: str) -> str:
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def _hashed_logins(tmp: Path, fleet: int) -> dict[str, float]:
    """Seconds per login (three lookups) in a file of ``fleet`` entries."""
    key = asyncssh.generate_private_key("ssh-ed25519")
    line = " ".join(key.export_public_key("openssh").decode().split()[:2])
    names = [f"[10.0.0.1]:{20000 + i}" for i in range(fleet)]
    plain = "".join(f"{n} {line}\n" for n in names)
    hashed = "".join(f"{_hashed_name(os.urandom(20), n)} {line}\n" for n in names)
    logins = range(20000, 20000 + fleet, max(1, fleet // 50))
    out: dict[str, float] = {}
    for label, text in (("plain (baseline)", plain), ("hashed", hashed)):
        path = tmp / label.split()[0]
        path.write_text(text)
        kh = KnownHosts(path)
        kh.lookup("10.0.0.1", 1)  # parsed once, as at a worker's start
        start = time.perf_counter()
        for port in logins:
            kh.lookup("10.0.0.1", port)
            kh.revoked("10.0.0.1", port)
            assert kh.lookup("10.0.0.1", port)
        out[label] = (time.perf_counter() - start) / len(logins)
    whole = asyncssh.import_known_hosts(hashed)
    start = time.perf_counter()
    for port in logins[:10]:
        for _ in range(3):
            whole.match(f"[10.0.0.1]:{port}", "", None)
    out["hashed, asyncssh's match alone (before)"] = (time.perf_counter() - start) / 10
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="200 devices (CI)")
    args = p.parse_args()
    sizes = [200] if args.smoke else [1_000, 10_000, 50_000]
    print(f"| devices | run ({LOGINS} logins timed at most) | per login | ratio |")
    print("|---|---|---|---|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            runs = {}
            for label, others, reread in (
                ("one writer (baseline)", False, False),
                ("two writers", True, False),
                ("a whole re-read per change", True, True),
            ):
                path = Path(tmp) / label.replace(" ", "_")
                runs[label] = _pin_fleet(path, n, others=others, reread=reread)
                lines = len(path.read_text().splitlines())
                assert lines == n, (label, lines)
            base = runs["one writer (baseline)"]
            for label, seconds in runs.items():
                print(f"| {n:,} | {label} | {seconds * 1e6:,.0f} µs | {seconds / base:.2f} |")
    print("\n| entries | file (a login's three lookups) | per login | ratio |")
    print("|---|---|---|---|")
    for n in sizes[:2]:
        with tempfile.TemporaryDirectory() as tmp:
            runs = _hashed_logins(Path(tmp), n)
        base = runs["plain (baseline)"]
        for label, seconds in runs.items():
            print(f"| {n:,} | {label} | {seconds * 1e6:,.0f} µs | {seconds / base:.2f} |")


if __name__ == "__main__":
    main()
