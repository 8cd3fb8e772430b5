"""Dashboard sessions in a real browser (chromium): the cookie is HttpOnly and not the
token, a deep link with a query survives sign-in, logout ends the session on the server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from tests.support.loopback import serve_loopback
from tests.support.web import build_app
from tests.web.test_web_browser import CHROMIUM, CHROMIUM_ARGS, _need_browser

pytestmark = pytest.mark.slow


@pytest.fixture
async def base(store: SqlStore, settings: Settings) -> AsyncIterator[str]:
    app: FastAPI = build_app(store, settings)
    async with serve_loopback(app) as url:
        yield url


async def test_sign_in_logout_and_deep_link_in_chromium(
    base: str, store: SqlStore, tokens: dict[str, str]
) -> None:
    _need_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(f"{base}/ui/jobs?state=failed")
            assert "/ui/login" in page.url
            await page.fill("#token", tokens["viewer"])
            await page.click("button.primary")
            await page.wait_for_url(f"{base}/ui/jobs?state=failed")
            cookies = {c["name"]: c for c in await context.cookies()}
            session = cookies["netfleet_session"]
            assert session["httpOnly"] is True
            assert session["sameSite"] == "Strict"
            assert session["value"] != tokens["viewer"]
            assert tokens["viewer"] not in await page.content()
            assert "netfleet_session" not in await page.evaluate("document.cookie")

            await page.click("form[action='/ui/logout'] button")
            await page.wait_for_url(f"{base}/ui/login")
            assert await store.sessions.find(session["value"], idle_s=3600) is None
            # The old cookie, put back by hand, no longer opens a page.
            await context.add_cookies([{**session, "sameSite": "Strict"}])  # type: ignore[list-item,typeddict-item]
            await page.goto(f"{base}/ui/devices")
            assert "/ui/login" in page.url
        finally:
            await browser.close()
