"""A loopback TCP forwarder that can freeze traffic: a database outage without a restart.

``TcpGate(port)`` listens on 127.0.0.1 (a free port) and forwards every connection to
127.0.0.1:``port``. ``pause()`` stops forwarding in both directions but keeps every
socket open (queries hang, as across a network partition or a stalled server); new
connections are accepted and wait. ``resume()`` lets the held bytes through.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpGate:
    """Forwards 127.0.0.1:``port`` (the gate's own port is ``port`` after ``start``)."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self._target = (target_host, target_port)
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None
        self._pumps: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.connections = 0

    async def __aenter__(self) -> TcpGate:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def paused(self) -> bool:
        return not self._open.is_set()

    def pause(self) -> None:
        """Stop forwarding; sockets stay open, bytes read meanwhile are held back."""
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            await self._open.wait()
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            self._writers.discard(writer)
            writer.close()
            return
        self._writers.add(up_writer)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst, (writer, up_writer)))
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(
        self,
        src: asyncio.StreamReader,
        dst: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while True:
                await self._open.wait()
                data = await src.read(65536)
                if not data:
                    break
                await self._open.wait()
                dst.write(data)
                await dst.drain()
        except OSError:
            pass
        finally:
            for w in pair:  # one side ended: end the other (as the kernel would)
                self._writers.discard(w)
                w.close()

    async def close(self) -> None:
        self._open.set()
        if self._server is not None:
            self._server.close()
        for task in list(self._pumps):
            task.cancel()
        for w in list(self._writers):
            w.close()
        if self._pumps:
            await asyncio.gather(*self._pumps, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
