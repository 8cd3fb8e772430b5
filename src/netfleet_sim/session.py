"""One SSH session on a simulated device: echo, line assembly, paging, latency, faults.

The platform engine decides what the device says; this module decides how it
reaches the wire: ``\\r``, ``\\n`` and ``\\r\\n`` each end a line, typed
characters are echoed unless the engine is reading a secret, backspace
erases, output is sent with ``\\r\\n`` line endings, paged when the engine
pages, slowed by per-command latency (plus jitter) and ``bytes_per_second``,
and cut short by the device's faults. ``exec`` requests run one command.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from typing import cast

import asyncssh

from netfleet_sim.contract import CliEngine
from netfleet_sim.device import SimDevice

logger = logging.getLogger("netfleet_sim")

_READ_SIZE = 4096
_RATE_TICK_S = 0.05
_BACKSPACES = ("\x7f", "\x08")
_STOP_KEYS = ("q", "Q", "\x03")


class SessionClosed(Exception):
    """The client went away, the session timed out or a fault dropped it."""


class Session:
    """The state of one shell or exec session (created lazily per SSH channel)."""

    __slots__ = (
        "_buf",
        "_conn",
        "_device",
        "_engine",
        "_last_cr",
        "_pending",
        "_pos",
        "_stdin",
        "_stdout",
    )

    def __init__(
        self,
        device: SimDevice,
        conn: asyncssh.SSHServerConnection,
        stdin: asyncssh.SSHReader[str],
        stdout: asyncssh.SSHWriter[str],
    ) -> None:
        self._device = device
        self._conn = conn
        self._stdin = stdin
        self._stdout = stdout
        self._buf = ""
        self._pos = 0
        self._last_cr = False
        self._pending: list[str] = []
        username = conn.get_extra_info("username") or device.username
        self._engine: CliEngine = device.platform_sim.engine(
            device.state, username=username, enable_secret=device.enable_secret
        )
        apply = getattr(self._engine, "apply_faults", None)
        if apply is not None:  # engines with device-level variants (IOS-like: login level ...)
            apply(device.faults)

    # -- I/O helpers ------------------------------------------------------------
    async def _fill(self, *, idle_timeout: bool = True) -> None:
        """Read more input into the buffer; raise SessionClosed on EOF or idle timeout."""
        timeout = self._device.exec_timeout_s() if idle_timeout else None
        self._flush()
        while True:
            try:
                async with asyncio.timeout(timeout):
                    data = await self._stdin.read(_READ_SIZE)
            except TimeoutError:
                await self._idle_timeout(timeout or 0.0)
                raise SessionClosed from None
            except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue
            if not data:
                raise SessionClosed
            self._buf, self._pos = data, 0
            return

    async def _next_char(self, *, idle_timeout: bool = True) -> str:
        if self._pos >= len(self._buf):
            await self._fill(idle_timeout=idle_timeout)
        ch = self._buf[self._pos]
        self._pos += 1
        return ch

    async def _idle_timeout(self, timeout: float) -> None:
        self._write(f"\r\n\r\n% Session idle timeout ({timeout:g} seconds), disconnecting\r\n")
        await self._close_after_drain()

    async def _close_after_drain(self) -> None:
        self._flush()
        try:
            async with asyncio.timeout(2.0):
                await self._stdout.drain()
        except (TimeoutError, OSError, asyncssh.Error):
            pass
        await asyncio.sleep(0)  # let a pending connection-lost callback run first
        if self._conn.is_closed():
            return  # the client already left (e.g. right after sending ``exit``)
        if not self._channel().is_closing():
            self._channel().exit(0)
        self._conn.close()

    def _channel(self) -> asyncssh.SSHServerChannel[str]:
        return cast("asyncssh.SSHServerChannel[str]", self._stdout.channel)

    def _write(self, text: str) -> None:
        """Queue text (echo, prompts); it is sent in one piece before the session waits."""
        if text:
            self._pending.append(text)

    def _flush(self) -> None:
        if self._pending:
            self._stdout.write("".join(self._pending))
            self._pending.clear()

    async def _send(self, text: str) -> None:
        """Send device text (``\\n`` endings), honouring the drop fault and the output rate."""
        self._flush()
        if not text:
            return
        wire = text.replace("\n", "\r\n")
        drop_at = self._device.faults.drop_point(len(wire))
        if drop_at is not None:
            wire = wire[:drop_at]
        rate = self._device.bytes_per_second()
        line_delay = self._device.faults.line_delay_ms
        if line_delay:
            for piece in wire.splitlines(keepends=True):
                self._stdout.write(piece)
                await self._stdout.drain()
                await asyncio.sleep(line_delay / 1000.0)
        elif rate:
            chunk = max(1, int(rate * _RATE_TICK_S))
            for start in range(0, len(wire), chunk):
                self._stdout.write(wire[start : start + chunk])
                await self._stdout.drain()
                await asyncio.sleep(len(wire[start : start + chunk]) / rate)
        elif wire:
            self._stdout.write(wire)
            await self._stdout.drain()
        if drop_at is not None:
            self._conn.abort()
            raise SessionClosed

    async def _send_paged(self, text: str) -> None:
        """Send output, stopping at each page break for a key when the engine pages."""
        pager = self._engine.paging()
        lines = text.splitlines(keepends=True)
        if pager is None or pager.lines <= 0 or len(lines) <= pager.lines:
            await self._send(text)
            return
        pos, budget = 0, pager.lines
        while pos < len(lines):
            await self._send("".join(lines[pos : pos + budget]))
            pos += budget
            if pos >= len(lines):
                return
            self._write(pager.prompt)
            key = await self._next_char()
            if key == "\r" and self._pos < len(self._buf) and self._buf[self._pos] == "\n":
                self._pos += 1
            if self._device.faults.cr_pager:
                self._write("\r" + " " * len(pager.prompt) + "\r")
            else:
                self._write(pager.erase)
            if key in _STOP_KEYS:
                return
            budget = 1 if key in ("\r", "\n") else pager.lines

    async def _hang(self) -> None:
        """Stop answering: swallow input until the client goes away."""
        while True:
            await self._fill(idle_timeout=False)

    async def _answer(self, line: str, *, secret: bool) -> str | None:
        """Run one line: stats, hang fault, latency; returns the output, None when closing."""
        device = self._device
        if not secret and line.strip():
            device.record_command(line, self._conn)
            hang_on = device.faults.hang_on
            if hang_on is not None and hang_on.search(line):
                await self._hang()
            deny = device.faults.deny
            if deny is not None and deny.search(line.strip()):
                await self._send("Command authorization failed.\n")
                return ""
        delay = device.latency_s()
        if delay > 0:
            self._flush()
            await asyncio.sleep(delay)
        reply = self._engine.execute(line)
        if reply.pageable:
            await self._send_paged(reply.output)
        else:
            await self._send(reply.output)
        return None if reply.close else reply.output

    # -- shell ----------------------------------------------------------------------
    async def run_shell(self) -> None:
        engine = self._engine
        self._write(engine.motd().replace("\n", "\r\n"))
        fake = self._device.faults.prompt_motd
        if fake:
            # A MOTD whose last line looks like a prompt, in a write of its own.
            self._write("\r\n" + fake)
            self._flush()
            await self._stdout.drain()
            await asyncio.sleep(0.05)
            self._write("\r\n")
        self._write(engine.prompt())
        line: list[str] = []
        while True:
            ch = await self._next_char()
            if ch == "\n" and self._last_cr:
                self._last_cr = False
                continue
            self._last_cr = ch == "\r"
            if ch in ("\r", "\n"):
                secret = not engine.echo()
                self._write("\r\n")
                text = "".join(line)
                line.clear()
                if await self._answer(text, secret=secret) is None:
                    await self._close_after_drain()
                    return
                self._write(engine.prompt())
            elif ch in _BACKSPACES:
                if line:
                    line.pop()
                    if engine.echo():
                        self._write("\b \b")
            elif ch >= " ":
                line.append(ch)
                if engine.echo():
                    self._write(ch)

    # -- exec -------------------------------------------------------------------------
    async def run_exec(self, command: str) -> None:
        device = self._device
        device.record_command(command, self._conn)
        hang_on = device.faults.hang_on
        if hang_on is not None and hang_on.search(command):
            await self._hang()
        delay = device.latency_s()
        if delay > 0:
            await asyncio.sleep(delay)
        await self._send(self._engine.execute(command).output)
        self._channel().exit(0)


async def _run(
    device: SimDevice,
    conn: asyncssh.SSHServerConnection,
    stdin: asyncssh.SSHReader[str],
    stdout: asyncssh.SSHWriter[str],
    stderr: asyncssh.SSHWriter[str],
) -> None:
    session = Session(device, conn, stdin, stdout)
    command = stdout.channel.get_command()
    try:
        if command is not None:
            await session.run_exec(command)
        else:
            await session.run_shell()
    except (SessionClosed, OSError, asyncssh.Error):
        stdout.channel.close()
    except Exception as exc:  # a platform bug must not kill the server; report it loudly
        logger.exception("session on %s failed", device.name)
        with contextlib.suppress(OSError, asyncssh.Error):
            stdout.write(f"\r\n% simulator error: {type(exc).__name__}: {exc}\r\n")
        conn.close()
    finally:
        ended = getattr(session._engine, "session_ended", None)
        if callable(ended):
            ended()  # e.g. Junos discards a private candidate and releases its lock


def start_session(
    device: SimDevice, conn: asyncssh.SSHServerConnection
) -> asyncssh.SSHServerSessionFactory:
    """The stream handler for a new session channel on ``device``."""
    return functools.partial(_run, device, conn)
