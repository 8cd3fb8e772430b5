"""Keyed session pool: limits, waiters, health, login admission, stats."""

from __future__ import annotations

from netfleet.core.models import DeviceSpec
from netfleet.core.settings import ConnectSettings, PoolSettings, WorkerSettings
from netfleet.device import Device
from netfleet.pool.entries import Lease
from netfleet.pool.keys import SessionKey, session_key
from netfleet.pool.pool import SessionPool
from netfleet.pool.session import PooledSession
from netfleet.pool.stats import DeviceStats, Histogram, PoolStats


def device_pool(
    pool: PoolSettings | None = None,
    worker: WorkerSettings | None = None,
    connect: ConnectSettings | None = None,
) -> SessionPool[Device]:
    """A pool of real ``Device`` sessions configured from the settings sections."""
    worker = worker or WorkerSettings()
    connect = connect or ConnectSettings()

    def factory(spec: DeviceSpec) -> Device:
        return Device.from_spec(spec, connect, auto_reconnect=False)

    return SessionPool(
        factory,
        pool or PoolSettings(),
        max_total=worker.max_connections_per_worker,
        idle_timeout_s=worker.max_idle_time_seconds,
        reuse=worker.connection_reuse,
    )


__all__ = [
    "DeviceStats",
    "Histogram",
    "Lease",
    "PoolStats",
    "PooledSession",
    "SessionKey",
    "SessionPool",
    "device_pool",
    "session_key",
]
