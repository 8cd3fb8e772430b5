"""Helpers for the schedule tests: a controllable clock, job templates, devices."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from netfleet.core.models import Credential, DeviceSpec
from netfleet.store import SqlStore

KEY = Fernet.generate_key()
"""The secret key of the schedule tests' stores."""


class Clock:
    """A controllable clock (epoch seconds) for ``Scheduler(now=...)``."""

    def __init__(self, start: float) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


def template(*devices: str, **options: Any) -> dict[str, Any]:
    return {
        "targets": {"devices": list(devices or ("r1",))},
        "commands": ["show version"],
        "options": options,
    }


async def add_devices(store: SqlStore, *names: str) -> None:
    for name in names:
        await store.devices.upsert(
            DeviceSpec(
                name=name,
                host="127.0.0.1",
                port=22,
                platform="cisco_ios",
                credentials=(Credential("admin", password="pw", name="lab"),),
            )
        )


def start_worker(url: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``netfleet worker`` on ``url`` with its scheduler on (the default), output to a file."""
    command = [sys.executable, "-c", "from netfleet.cli.app import main; main()"]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [*command, "worker", "--db", url, "--concurrency", "4"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
