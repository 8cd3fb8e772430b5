"""The dashboard in a real browser (Debian's chromium, driven by Playwright).

Signs in through the login form, opens a queued job, starts a worker against the
simulator and watches the page turn the job to ``succeeded`` over the live stream;
then expands a task's outputs. Screenshots land in /tmp for a human look.

Skipped when /usr/bin/chromium or the playwright package is missing, unless
``NETFLEET_REQUIRE_BROWSER`` is set (CI sets it: there the browser must run).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI

from netfleet.api.runtime import EmbeddedRuntime
from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ENABLE,
    PASSWORD,
    SCREENSHOTS,
    need_browser,
    store_fleet,
)
from tests.support.web import submit

pytestmark = pytest.mark.slow


async def test_live_job_page_in_chromium(
    served: tuple[FastAPI, str], store: SqlStore, settings: Settings, tokens: dict[str, str]
) -> None:
    need_browser()
    from playwright.async_api import async_playwright

    app, base = served
    async with Simulator(
        devices=3, platforms=["cisco_ios", "arista_eos"], password=PASSWORD, enable_secret=ENABLE
    ) as sim:
        await store_fleet(store, sim.devices)
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
