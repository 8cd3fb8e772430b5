"""Dashboard tests in a real browser: the app served by uvicorn on loopback, Debian's
chromium through Playwright, and a simulated fleet stored as inventory."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from netfleet.core.models import Credential, DeviceSpec
from netfleet.store import SqlStore

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("NETFLEET_SCREENSHOT_DIR", "/tmp"))
PASSWORD = "Heron-Pw-4410-k"
ENABLE = "Ibis-En-8812-z"


class QuietServer(uvicorn.Server):
    """uvicorn without signal handlers (pytest keeps its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def need_browser() -> None:
    """Skip unless Playwright and chromium are installed (fail with NETFLEET_REQUIRE_BROWSER)."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install playwright)")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if not missing:
        return
    reason = "browser test needs " + " and ".join(missing)
    if os.environ.get("NETFLEET_REQUIRE_BROWSER"):
        pytest.fail(reason + " (NETFLEET_REQUIRE_BROWSER is set)")
    pytest.skip(reason)


@contextlib.asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (OS-chosen port) on this event loop; yields its URL."""
    server = QuietServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    sock.setblocking(False)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        app.state.netfleet.stopping.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        sock.close()


async def store_fleet(store: SqlStore, devices: object) -> list[str]:
    """Store the simulator's devices (credential ``lab``, groups ``lab`` + platform)."""
    names = []
    for dev in devices:  # type: ignore[attr-defined]
        cred = Credential(
            username=dev.username, password=PASSWORD, enable_secret=ENABLE, name="lab"
        )
        await store.devices.upsert(
            DeviceSpec(
                name=dev.name,
                host=dev.host,
                port=dev.port,
                platform=dev.platform,
                credentials=(cred,),
                groups=("lab", dev.platform),
                tags=("sim",),
            )
        )
        names.append(dev.name)
    return names
