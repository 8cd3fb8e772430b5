"""Open an interactive shell (pty) on a device and feed its output to a sink.

The shell's bytes go straight from asyncssh's ``data_received`` callback to the
sink (the channel); there are no reader tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

import asyncssh

from netfleet.core.errors import (
    AuthenticationFailed,
    ConnectionLost,
    ConnectTimeout,
    InputError,
    NetfleetError,
)
from netfleet.core.models import Credential
from netfleet.transport.errors import translate
from netfleet.transport.jump import JUMP_HOSTS
from netfleet.transport.options import ConnectOptions, ConnectTimings
from netfleet.transport.proxyjump import config_jump_host
from netfleet.transport.ssh import PhaseClient, connect_once, ssh_config_file


class ShellSink(Protocol):
    """Receives a shell's output (decoded text) and its end."""

    def feed(self, data: str) -> None: ...

    def lost(self, error: NetfleetError | None) -> None: ...


class _ShellSession(asyncssh.SSHClientSession[str]):
    __slots__ = ("_address", "_device", "_sink")

    def __init__(self, sink: ShellSink, device: str, address: str) -> None:
        self._sink = sink
        self._device = device
        self._address = address

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        self._sink.feed(data)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        error: NetfleetError | None = None
        if exc is not None:
            error = translate(exc, device=self._device, address=self._address, phase="session")
        self._sink.lost(error)


class ShellTransport:
    """An open SSH connection with one interactive shell channel."""

    __slots__ = ("_chan", "_conn", "_release", "banner", "credential", "device", "timings")

    def __init__(
        self,
        conn: asyncssh.SSHClientConnection,
        chan: asyncssh.SSHClientChannel[str],
        *,
        device: str,
        credential: Credential,
        banner: str,
        timings: ConnectTimings,
        release: Callable[[], None] | None,
    ) -> None:
        self._conn = conn
        self._chan = chan
        self._release = release
        self.device = device
        self.credential = credential
        self.banner = banner
        self.timings = timings

    def write(self, data: str) -> None:
        """Send text to the shell; ConnectionLost when the channel is gone."""
        try:
            self._chan.write(data)
        except (BrokenPipeError, OSError, asyncssh.Error) as exc:
            raise ConnectionLost(
                f"cannot send: {exc or 'channel closed'}", device=self.device
            ) from None

    @property
    def closing(self) -> bool:
        return self._chan.is_closing()

    async def close(self, timeout: float = 2.0) -> None:
        """Close the shell and the connection (and release a shared jump host)."""
        self._chan.close()
        self._conn.close()
        try:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(timeout):
                    await self._conn.wait_closed()
        finally:
            if self._release is not None:
                self._release()
                self._release = None


async def open_shell(
    options: ConnectOptions, sink: ShellSink, *, timings: ConnectTimings | None = None
) -> ShellTransport:
    """Connect, authenticate (credentials in order) and open a pty shell feeding ``sink``.

    The next credential is tried only after an authentication failure, never
    after a timeout or a connection problem. ``timings`` (filled in as phases
    complete, also when opening fails) defaults to a new ``ConnectTimings``.
    """
    if not options.credentials:
        raise InputError(f"{options.label}: no credentials given")
    loop = asyncio.get_running_loop()
    started = loop.time()
    timings = timings if timings is not None else ConnectTimings()
    release: Callable[[], None] | None = None
    tunnel: asyncssh.SSHClientConnection | None = None
    config = ssh_config_file(options)
    jump = options.jump_host or config_jump_host(options, config)
    if jump is not None:
        tunnel, release = await JUMP_HOSTS.acquire(
            jump,
            known_hosts=options.known_hosts,
            timeouts=options.timeouts,
            keepalive_seconds=options.keepalive_seconds,
            device=options.label,
            ssh_config=config if options.jump_host is None else None,
        )
    try:
        conn, client, cred = await _authenticate(options, tunnel, timings)
        shell_started = loop.time()
        try:
            async with asyncio.timeout(options.timeouts.prompt):
                chan, _ = await conn.create_session(
                    lambda: _ShellSession(sink, options.label, options.address),
                    term_type="vt100",
                    term_size=(options.term_width, options.term_height),
                    encoding="utf-8",
                    errors="replace",
                )
        except BaseException as exc:
            conn.close()
            if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
                raise ConnectTimeout(
                    f"opening a shell on {options.address} timed out", device=options.label
                ) from None
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise translate(
                exc, device=options.label, address=options.address, phase="shell open"
            ) from None
        now = loop.time()
        timings.shell_ms = (now - shell_started) * 1000.0
        timings.total_ms = (now - started) * 1000.0
        return ShellTransport(
            conn,
            chan,
            device=options.label,
            credential=cred,
            banner=client.banner,
            timings=timings,
            release=release,
        )
    except BaseException:
        if release is not None:
            release()
        raise


async def _authenticate(
    options: ConnectOptions,
    tunnel: asyncssh.SSHClientConnection | None,
    timings: ConnectTimings,
) -> tuple[asyncssh.SSHClientConnection, PhaseClient, Credential]:
    refused: list[str] = []
    for cred in options.credentials:
        try:
            conn, client = await connect_once(options, cred, tunnel=tunnel, timings=timings)
        except AuthenticationFailed:
            refused.append(cred.name or cred.username)
            continue
        return conn, client, cred
    tried = ", ".join(repr(n) for n in refused)
    raise AuthenticationFailed(
        f"authentication failed at {options.address} with every credential ({tried})",
        device=options.label,
    )
