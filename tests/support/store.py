"""Devices and job specs for tests that fill a store directly."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet

from netfleet.core.models import Credential, DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore

KEY = Fernet.generate_key()


def device(
    name: str, *, max_sessions: int = 2, groups: tuple[str, ...] = ("core",), **fields: Any
) -> DeviceSpec:
    """A cisco_ios device on 127.0.0.1 with its own credential; ``fields`` override."""
    values: dict[str, Any] = {
        "name": name,
        "host": "127.0.0.1",
        "port": 2222,
        "platform": "cisco_ios",
        "credentials": (Credential("admin", password="pw-" + name, name="cred-" + name),),
        "max_sessions": max_sessions,
        "groups": groups,
        "tags": ("lab",),
    }
    values.update(fields)
    return DeviceSpec(**values)


def commands(*devices: str, **options: object) -> JobSpec:
    return JobSpec.model_validate(
        {"targets": {"devices": list(devices)}, "commands": ["show version"], "options": options}
    )


def config(*devices: str, **options: object) -> JobSpec:
    return JobSpec.model_validate(
        {"targets": {"devices": list(devices)}, "config": ["hostname x"], "options": options}
    )


async def add_devices(
    store: SqlStore, *names: str | int, prefix: str = "edge", **fields: Any
) -> None:
    """Store ``device(name, **fields)`` for each name; a number ``n`` stands for the
    names ``<prefix>-000`` to ``<prefix>-<n-1>`` (on ports 10000 and up)."""
    for item in names:
        if isinstance(item, int):  # numbered devices: ports 10000, 10001, ...
            for i in range(item):
                spec = device(f"{prefix}-{i:03d}", **{"port": 10_000 + i, **fields})
                await store.devices.upsert(spec)
        else:
            await store.devices.upsert(device(item, **fields))
