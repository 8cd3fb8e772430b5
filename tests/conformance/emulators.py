"""Independent emulators (fake-switches, FakeNOS) run as subprocesses on loopback (fixtures).

Each fixture starts its emulator, waits for the line that says it listens, and stops it
by its process at the end. Without the emulator packages the tests skip, unless
``NETFLEET_REQUIRE_EMULATORS`` is set (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
USER = "admin"
PASSWORD = "nf-conformance"
FAKENOS_PLATFORMS = (
    "cisco_ios",
    "arista_eos",
    "cisco_asa",
    "juniper_junos",
    "cisco_nxos",
    "cisco_xr",
    "linux",
)


@dataclass
class Emulator:
    ports: dict[str, int]
    """Port per device name."""
    process: subprocess.Popen[str]


def _require(module: str) -> None:
    if importlib.util.find_spec(module) is not None:
        return
    if os.environ.get("NETFLEET_REQUIRE_EMULATORS"):
        pytest.fail(f"the {module} package is missing and NETFLEET_REQUIRE_EMULATORS is set")
    pytest.skip(f"the {module} package is not installed (./scripts/setup.sh installs it)")


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()  # blocks until the emulator listens (or dies)
    if not line:
        _stop(process)
        assert process.stderr is not None
        raise RuntimeError(f"emulator did not start: {process.stderr.read()[-2000:]}")
    return line


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="module")
def fake_switches() -> Iterator[Emulator]:
    """One fake-switches ``cisco_generic`` switch called ``fsw1``."""
    _require("fake_switches")
    process = _start(
        [str(HERE / "fake_switches_server.py"), "cisco_generic", "fsw1", USER, PASSWORD]
    )
    try:
        line = _first_line(process)
        assert line.startswith("port="), line
        yield Emulator({"fsw1": int(line.removeprefix("port="))}, process)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def fakenos() -> Iterator[Emulator]:
    """One FakeNOS device per platform in ``FAKENOS_PLATFORMS``, named ``fn-<platform>``."""
    _require("fakenos")
    ports = dict(
        zip(
            (f"fn-{p.replace('_', '-')}" for p in FAKENOS_PLATFORMS),
            _free_ports(len(FAKENOS_PLATFORMS)),
            strict=True,
        )
    )
    devices = [
        f"{name}={platform}:{port}"
        for (name, port), platform in zip(ports.items(), FAKENOS_PLATFORMS, strict=True)
    ]
    process = _start([str(HERE / "fakenos_server.py"), USER, PASSWORD, *devices])
    try:
        assert _first_line(process) == "ready"
        yield Emulator(ports, process)
    finally:
        _stop(process)
