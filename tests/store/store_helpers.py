"""Helpers shared by the store tests: devices and job specs."""

from __future__ import annotations

from cryptography.fernet import Fernet

from netfleet.core.models import Credential, DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.store import SqlStore

KEY = Fernet.generate_key()


def device(name: str, *, max_sessions: int = 2, groups: tuple[str, ...] = ("core",)) -> DeviceSpec:
    return DeviceSpec(
        name=name,
        host="127.0.0.1",
        port=2222,
        platform="cisco_ios",
        credentials=(Credential("admin", password="pw-" + name, name="cred-" + name),),
        max_sessions=max_sessions,
        groups=groups,
        tags=("lab",),
    )


def commands(*devices: str, **options: object) -> JobSpec:
    return JobSpec.model_validate(
        {"targets": {"devices": list(devices)}, "commands": ["show version"], "options": options}
    )


def config(*devices: str, **options: object) -> JobSpec:
    return JobSpec.model_validate(
        {"targets": {"devices": list(devices)}, "config": ["hostname x"], "options": options}
    )


async def add_devices(store: SqlStore, *names: str, max_sessions: int = 2) -> None:
    for name in names:
        await store.devices.upsert(device(name, max_sessions=max_sessions))
