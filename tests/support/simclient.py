"""Helpers for simulator server tests: a raw SSH shell client over asyncssh."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import asyncssh

from netfleet_sim import SimDevice

READ_TIMEOUT = 10.0


class Shell:
    """A raw interactive shell over asyncssh (no prompt handling beyond read_until)."""

    def __init__(self, conn: asyncssh.SSHClientConnection, proc: asyncssh.SSHClientProcess[str]):
        self.conn = conn
        self.proc = proc
        self.buffer = ""

    async def read_until(self, pattern: str, timeout: float = READ_TIMEOUT) -> str:
        """Read until ``pattern`` (a regex) matches; return everything up to the match end."""
        regex = re.compile(pattern)
        async with asyncio.timeout(timeout):
            while not (match := regex.search(self.buffer)):
                data = await self.proc.stdout.read(65536)
                if not data:
                    raise EOFError(f"EOF before {pattern!r}; got {self.buffer!r}")
                self.buffer += data
        text, self.buffer = self.buffer[: match.end()], self.buffer[match.end() :]
        return text

    async def read_to_eof(self, timeout: float = READ_TIMEOUT) -> str:
        async with asyncio.timeout(timeout):
            try:
                while data := await self.proc.stdout.read(65536):
                    self.buffer += data
            except asyncssh.ConnectionLost:
                pass
        text, self.buffer = self.buffer, ""
        return text

    def send(self, text: str) -> None:
        self.proc.stdin.write(text)

    async def command(self, line: str, prompt: str = r"[>#] ?$") -> str:
        self.send(line + "\r")
        return await self.read_until(prompt)

    def close(self) -> None:
        self.conn.close()


async def connect(device: SimDevice, **kwargs: object) -> asyncssh.SSHClientConnection:
    options: dict[str, object] = {
        "username": device.username,
        "password": device.password,
        "known_hosts": None,
        "client_keys": None,
        "agent_path": None,
        "config": None,
    }
    options.update(kwargs)
    return await asyncssh.connect(device.host, device.port, **options)  # type: ignore[arg-type]


async def open_shell(device: SimDevice, **kwargs: object) -> Shell:
    conn = await connect(device, **kwargs)
    proc = await conn.create_process(term_type="vt100", term_size=(200, 50))
    shell = Shell(conn, proc)
    await shell.read_until(r"[>#]$")
    return shell


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` (server-side bookkeeping lags the client by a moment)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
