"""The dashboard in a real browser (Debian's chromium, driven by Playwright).

Signs in through the login form, opens a queued job, starts a worker against the
simulator and watches the page turn the job to ``succeeded`` over the live stream;
then expands a task's outputs. Screenshots land in /tmp for a human look.

Skipped when /usr/bin/chromium or the playwright package is missing, unless
``NETFLEET_REQUIRE_BROWSER`` is set (CI sets it: there the browser must run).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from netfleet.api.runtime import EmbeddedRuntime
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.web import build_app, submit

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

pytestmark = pytest.mark.slow


class QuietServer(uvicorn.Server):
    """uvicorn without signal handlers (pytest keeps its own)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _need_browser() -> None:
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


@pytest.fixture
async def served(store: SqlStore, settings: Settings) -> AsyncIterator[tuple[FastAPI, str]]:
    """The app served by uvicorn on 127.0.0.1 (OS-chosen port), on this event loop."""
    app = build_app(store, settings)
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
        yield app, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        app.state.netfleet.stopping.set()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
        sock.close()


async def test_live_job_page_in_chromium(
    served: tuple[FastAPI, str], store: SqlStore, settings: Settings, tokens: dict[str, str]
) -> None:
    _need_browser()
    from playwright.async_api import async_playwright

    app, base = served
    async with Simulator(
        devices=3, platforms=["cisco_ios", "arista_eos"], password=PASSWORD, enable_secret=ENABLE
    ) as sim:
        for dev in sim.devices:
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
        names = [d.name for d in sim.devices]
        job = await submit(
            store, names, name="inventory check", commands=["show version", "show clock"]
        )
        runtime = EmbeddedRuntime(store, settings, workers=1, scheduler=False)
        runtime_task: asyncio.Task[None] | None = None
        problems: list[str] = []
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page(viewport={"width": 1360, "height": 900})

                def on_console(msg: Any) -> None:
                    if msg.type == "error":
                        problems.append(msg.text)

                page.on("console", on_console)
                page.on("pageerror", lambda exc: problems.append(str(exc)))

                await page.goto(f"{base}/ui/jobs/{job.id}")
                assert "/ui/login" in page.url
                await page.fill("#token", tokens["operator"])
                await page.click("button.primary")
                await page.wait_for_url(f"{base}/ui/jobs/{job.id}")
                badge = page.locator("#job-state .badge")
                assert await badge.inner_text() == "queued"
                assert await page.locator("#live").is_visible()

                app.state.netfleet.runtime = runtime
                runtime_task = asyncio.create_task(runtime.run())
                await page.wait_for_selector("#job-state .badge.st-succeeded", timeout=30_000)
                rows = page.locator("#tasks tbody tr[data-task] [data-field=state] .badge")
                await page.wait_for_function(
                    "() => document.querySelectorAll("
                    "'#tasks [data-field=state] .st-succeeded').length === 3",
                    timeout=10_000,
                )
                assert await rows.all_inner_texts() == ["succeeded"] * 3
                assert await page.locator('[data-count="succeeded"]').inner_text() == "3"
                await page.wait_for_selector("#live", state="hidden", timeout=10_000)
                # The end of the stream re-renders the page (asynchronously): no cancel form.
                await page.wait_for_selector("#cancel-form", state="detached", timeout=10_000)
                assert await page.locator("#cancel-form").count() == 0

                ios = next(d.name for d in sim.devices if d.platform == "cisco_ios")
                ios_row = page.locator("#tasks tbody tr[data-task]", has_text=ios)
                await ios_row.locator("a[data-task-outputs]").click()
                output = page.locator("tr.expand pre.output").first
                await output.wait_for(timeout=10_000)
                assert "Cisco IOS" in await output.inner_text()
                await page.screenshot(
                    path=str(SCREENSHOTS / "netfleet-dashboard-job.png"), full_page=True
                )

                await page.goto(f"{base}/ui/")
                assert await page.locator("h1").inner_text() == "Overview"
                await page.screenshot(
                    path=str(SCREENSHOTS / "netfleet-dashboard-overview.png"), full_page=True
                )
                await page.goto(f"{base}/ui/devices")
                assert await page.locator("table.grid tbody tr").count() == 3
                await page.screenshot(
                    path=str(SCREENSHOTS / "netfleet-dashboard-devices.png"), full_page=True
                )
            finally:
                await browser.close()
                runtime.stop(immediate=True)
                if runtime_task is not None:
                    await asyncio.wait_for(runtime_task, timeout=20)
    assert problems == [], f"browser console errors (CSP or script): {problems}"
