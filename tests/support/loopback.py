"""A real HTTP server on 127.0.0.1 for an app built in the test (uvicorn, same loop)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn
from fastapi import FastAPI


class QuietServer(uvicorn.Server):
    """uvicorn without signal handlers (pytest keeps its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve_loopback(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL."""
    server = QuietServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        assert server.started, "the loopback server did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stopping = getattr(getattr(app.state, "netfleet", None), "stopping", None)
        if stopping is not None:
            stopping.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        sock.close()
