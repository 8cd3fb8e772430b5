"""Jump hosts: one bastion SSH connection shared (refcounted) by many device sessions."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from netfleet.core.errors import ConnectError, InputError
from netfleet.core.models import JumpHost
from netfleet.transport.options import ConnectOptions, ConnectTimings, Timeouts
from netfleet.transport.ssh import connect_once

_Key = tuple[int, str, int, str, str, str, str]


@dataclass(slots=True)
class _Entry:
    task: asyncio.Task[asyncssh.SSHClientConnection]
    refs: int = 0


class JumpHostRegistry:
    """Bastion connections by (event loop, host, port, credential, policy, known_hosts)."""

    def __init__(self) -> None:
        self._entries: dict[_Key, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def refs(self, jump: JumpHost) -> int:
        """Sessions currently sharing the connection to ``jump`` (all loops)."""
        return sum(e.refs for k, e in self._entries.items() if k[1:3] == (jump.host, jump.port))

    async def acquire(
        self,
        jump: JumpHost,
        *,
        known_hosts: Path | None,
        timeouts: Timeouts,
        keepalive_seconds: float,
        device: str,
        ssh_config: Path | None = None,
    ) -> tuple[asyncssh.SSHClientConnection, Callable[[], None]]:
        """The shared connection to ``jump`` and a function that releases this use of it.

        With ``ssh_config`` the jump host's own entry there (Hostname, Port, IdentityFile)
        applies to this connection, as with ssh's ``ProxyJump``."""
        if jump.credential is None:
            raise InputError(f"{device}: jump host {jump.host}:{jump.port} has no credential")
        loop = asyncio.get_running_loop()
        key: _Key = (
            id(loop),
            jump.host,
            jump.port,
            jump.credential.fingerprint(),
            jump.host_key_policy,
            str(known_hosts),
            str(ssh_config or ""),
        )
        entry = self._entries.get(key)
        if (
            entry is not None
            and entry.task.done()
            and (
                entry.task.cancelled()
                or entry.task.exception() is not None
                or entry.task.result().is_closed()
            )
        ):
            entry = None
        if entry is None:
            options = ConnectOptions(
                host=jump.host,
                port=jump.port,
                credentials=(jump.credential,),
                device=f"jump host {jump.host}:{jump.port}",
                timeouts=timeouts,
                host_key_policy=jump.host_key_policy,
                known_hosts=known_hosts,
                keepalive_seconds=keepalive_seconds,
                ssh_config=ssh_config,
            )
            entry = _Entry(loop.create_task(self._open(options)))
            self._entries[key] = entry
        entry.refs += 1
        try:
            conn = await asyncio.shield(entry.task)
        except BaseException as exc:
            self._release(key, entry)
            if isinstance(exc, ConnectError):
                raise type(exc)(f"via {exc.message}", device=device) from None
            raise
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._release(key, entry)

        return conn, release

    @staticmethod
    async def _open(options: ConnectOptions) -> asyncssh.SSHClientConnection:
        conn, _ = await connect_once(options, options.credentials[0], timings=ConnectTimings())
        return conn

    def _release(self, key: _Key, entry: _Entry) -> None:
        entry.refs -= 1
        if entry.refs > 0:
            return
        if self._entries.get(key) is entry:
            del self._entries[key]
        if entry.task.done():
            if not entry.task.cancelled() and entry.task.exception() is None:
                entry.task.result().close()
        else:
            entry.task.cancel()
            with contextlib.suppress(BaseException):
                entry.task.exception()


JUMP_HOSTS = JumpHostRegistry()
"""The process-wide registry used by ``open_shell``."""
