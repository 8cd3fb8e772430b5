"""The dashboard as a working surface, in Debian's chromium (Playwright) against the
served app with an embedded worker and a simulated fleet: a command job submitted
from the form and followed live, the same form without JavaScript, role limits,
keyboard use, contrast and the time zone switch."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
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

pytestmark = pytest.mark.slow

CONTRAST = """(selector) => {
  function rgb(s) { const m = s.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; }
  function lum(c) {
    const v = c.slice(0, 3).map(x => {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  }
  function background(el) {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  }
  const worst = [];
  document.querySelectorAll(selector).forEach(el => {
    if (!el.offsetParent || !el.textContent.trim()) return;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const what = [el.className || el.tagName, el.textContent.trim().slice(0, 30)];
    if (ratio < 4.5) worst.push([...what, ratio.toFixed(2)]);
  });
  return worst;
}"""


@pytest.fixture
async def fleet(store: SqlStore) -> AsyncIterator[list[str]]:
    async with Simulator(
        devices=3, platforms=["cisco_ios", "arista_eos"], password=PASSWORD, enable_secret=ENABLE
    ) as sim:
        yield await store_fleet(store, sim.devices)


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def _page(browser: Any, problems: list[str], **context: Any) -> Any:
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900}, **context)
    page = await ctx.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return page


async def _sign_in(page: Any, base: str, token: str, path: str) -> None:
    await page.goto(f"{base}{path}")
    assert "/ui/login" in page.url  # the deep link survives the sign-in
    await page.fill("#token", token)
    await page.click("button.primary")
    await page.wait_for_url(f"{base}{path}")


async def test_command_job_from_the_form_with_live_progress(
    served: tuple[FastAPI, str],
    store: SqlStore,
    settings: Settings,
    tokens: dict[str, str],
    fleet: list[str],
    chromium: Any,
) -> None:
    app, base = served
    runtime = EmbeddedRuntime(store, settings, workers=1, scheduler=False)
    app.state.netfleet.runtime = runtime
    running = asyncio.create_task(runtime.run())
    problems: list[str] = []
    try:
        page = await _page(chromium, problems)
        await _sign_in(page, base, tokens["operator"], "/ui/jobs/new")
        await page.select_option("#f-groups", ["lab"])
        count = page.locator("#target-count")
        await count.filter(has_text="3 devices match").wait_for(timeout=10_000)
        assert sorted(await page.locator("#target-names li").all_inner_texts()) == sorted(fleet)
        await page.fill("#f-filter", "platform=cisco_ios")
        ios = await page.locator("#target-count b").inner_text()
        await page.wait_for_function(
            "(n) => document.querySelector('#target-count b')?.textContent !== n", arg=ios
        )
        assert int(await page.locator("#target-count b").inner_text()) < 3
        await page.fill("#f-filter", "")
        await count.filter(has_text="3 devices match").wait_for(timeout=10_000)
        # operators: no config, no schedule
        assert await page.locator("input[name=kind][value=config]").is_disabled()
        assert await page.locator("input[name=when][value=cron]").is_disabled()
        assert await page.locator("#f-run-at").is_hidden()  # "now" hides the time field
        await page.fill("#f-commands", "show version\nshow clock")
        await page.fill("#f-name", "form check")
        await page.screenshot(
            path=str(SCREENSHOTS / "netfleet-dashboard-new-job.png"), full_page=True
        )
        await page.click("#submit-button")
        await page.wait_for_url(re.compile(r".*/ui/jobs/\d+\?notice=submitted"))
        assert "Job submitted." in await page.locator(".notice").inner_text()
        await page.wait_for_selector("#job-state .badge.st-succeeded", timeout=30_000)
        await page.wait_for_function(
            "() => document.querySelectorAll("
            "'#tasks [data-field=state] .st-succeeded').length === 3",
            timeout=10_000,
        )
        job = (await store.jobs.list()).items[0]
        assert (job.spec.name, job.state, job.counts.succeeded) == ("form check", "succeeded", 3)
    finally:
        runtime.stop(immediate=True)
        await asyncio.wait_for(running, timeout=20)
    assert problems == [], f"browser console errors (CSP or script): {problems}"


async def test_the_form_works_without_javascript(
    served: tuple[FastAPI, str], tokens: dict[str, str], fleet: list[str], chromium: Any
) -> None:
    _, base = served
    problems: list[str] = []
    page = await _page(chromium, problems, java_script_enabled=False)
    await _sign_in(page, base, tokens["admin"], "/ui/jobs/new")
    await page.fill("#f-devices", ", ".join(fleet[:2]))
    await page.fill("#f-commands", "show clock")
    await page.check("input[name=when][value=cron]")
    await page.fill("#f-sname", "every-morning")
    await page.fill("#f-cron", "15 7 * * 1-5")
    await page.fill("#f-tz", "Europe/Berlin")
    await page.click("#preview-button")
    assert await page.locator("#target-count").inner_text() == "2 devices match"
    firings = await page.locator("#cron-preview li").all_inner_texts()
    assert len(firings) == 5
    assert all(" 07:15 CE" in f and f[:3] in ("Mon", "Tue", "Wed", "Thu", "Fri") for f in firings)
    await page.click("#submit-button")
    await page.wait_for_url(f"{base}/ui/schedules?notice=created")
    assert "every-morning" in await page.locator("table.grid").inner_text()


async def test_roles_keyboard_contrast_and_time_zone(
    served: tuple[FastAPI, str], tokens: dict[str, str], fleet: list[str], chromium: Any
) -> None:
    _, base = served
    problems: list[str] = []
    viewer = await _page(chromium, problems)
    await _sign_in(viewer, base, tokens["viewer"], "/ui/devices")
    assert await viewer.locator("a[href='/ui/jobs/new']").count() == 0
    await viewer.goto(f"{base}/ui/jobs/new")
    assert await viewer.locator("#job-form").count() == 0
    assert "operator role" in await viewer.locator(".alert").inner_text()
    assert problems == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    problems.clear()

    # keyboard: the first Tab reaches a visible skip link; Enter moves focus to the content
    await viewer.goto(f"{base}/ui/devices")
    await viewer.keyboard.press("Tab")
    focused = await viewer.evaluate(
        "() => [document.activeElement.className, getComputedStyle(document.activeElement)"
        ".outlineStyle, document.activeElement.getBoundingClientRect().left]"
    )
    assert focused[0] == "skip"
    assert focused[1] != "none"
    assert focused[2] >= 0
    await viewer.keyboard.press("Enter")
    assert await viewer.evaluate("() => location.hash") == "#main"
    for _ in range(12):  # every stop of the Tab order shows where it is
        await viewer.keyboard.press("Tab")
        style = await viewer.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; }"
        )
        assert style[1] != "none", style
    await viewer.goto(f"{base}/ui/devices/{fleet[0]}")
    low = await viewer.evaluate(CONTRAST, "body *:not(:has(*)), .badge")
    assert low == [], f"text below 4.5:1 contrast: {low}"

    await viewer.click("footer a:text('change')")
    await viewer.fill("#tz-input", "Asia/Tokyo")
    await viewer.click("#tz-form button.primary")
    await viewer.wait_for_url(f"{base}/ui/devices/{fleet[0]}")
    assert await viewer.locator("#tz-name").inner_text() == "Asia/Tokyo"
    await viewer.set_viewport_size({"width": 390, "height": 844})
    await viewer.screenshot(
        path=str(SCREENSHOTS / "netfleet-dashboard-device-narrow.png"), full_page=True
    )
    assert problems == [], f"browser console errors (CSP or script): {problems}"
