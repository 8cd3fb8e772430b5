"""Safe changes in Debian's chromium (Playwright) against the served app with an embedded
worker and a simulated fleet: a rollout whose canary fails halts, and is resumed from
the job page; a job awaiting approval is refused to its submitter and approved by a
second admin from the queue; viewers and operators see no decision buttons."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from netfleet.api.runtime import EmbeddedRuntime
from netfleet.core.settings import Settings
from netfleet.jobs.gates import ChangePolicy
from netfleet.jobs.model import parse_job_spec
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ENABLE,
    PASSWORD,
    need_browser,
    store_fleet,
)

pytestmark = pytest.mark.slow


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        devices=4, platforms=["cisco_ios"], password=PASSWORD, enable_secret=ENABLE
    ) as s:
        yield s


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


@pytest.fixture
async def runtime(
    served: tuple[FastAPI, str], store: SqlStore, settings: Settings
) -> AsyncIterator[EmbeddedRuntime]:
    app, _ = served
    rt = EmbeddedRuntime(store, settings, workers=1, scheduler=False)
    app.state.netfleet.runtime = rt
    running = asyncio.create_task(rt.run())
    try:
        yield rt
    finally:
        rt.stop(immediate=True)
        await asyncio.wait_for(running, timeout=20)


async def _page(browser: Any, problems: list[str]) -> Any:
    ctx = await browser.new_context(viewport={"width": 1360, "height": 900})
    page = await ctx.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())  # the forms' confirm()
    return page


async def _sign_in(page: Any, base: str, token: str, path: str) -> None:
    await page.goto(f"{base}{path}")
    await page.fill("#token", token)
    await page.click("button.primary")
    await page.wait_for_url(f"{base}{path}")


async def test_follow_a_rollout_that_halts_and_resume_it(
    served: tuple[FastAPI, str],
    store: SqlStore,
    tokens: dict[str, str],
    sim: Simulator,
    runtime: EmbeddedRuntime,
    chromium: Any,
) -> None:
    _, base = served
    names = sorted(await store_fleet(store, sim.devices))
    canary = sim.device(names[0])
    canary.set_faults(deny=r"^ntp server")
    spec = parse_job_spec(
        {
            "name": "ntp rollout",
            "targets": {"groups": ["lab"]},
            "config": ["ntp server 192.0.2.10"],
            "options": {"rollout": {"canary": 1, "batches": ["50%"], "max_failures": 0}},
        }
    )
    job = await store.jobs.submit(spec, submitted_by="t-admin")
    problems: list[str] = []
    page = await _page(chromium, problems)
    await _sign_in(page, base, tokens["admin"], f"/ui/jobs/{job.id}")
    await page.wait_for_selector("#job-state .badge.st-halted", timeout=30_000)
    await page.reload()
    assert "budget of 0" in await page.locator("#gate-reason").inner_text()
    assert await page.locator("#budget").inner_text() == "1 of 0 failures allowed — exceeded"
    states = await page.locator("#batches li").evaluate_all("els => els.map(e => e.dataset.state)")
    assert states == ["halted", "waiting", "waiting"]
    assert [sim.device(n).stats.logins for n in names[1:]] == [0, 0, 0]

    operator = await _page(chromium, problems)
    await _sign_in(operator, base, tokens["operator"], f"/ui/jobs/{job.id}")
    assert await operator.locator("#resume-form").count() == 0
    assert await operator.locator("#cancel-form").count() == 1

    canary.clear_faults()
    await page.click("#resume-form button")
    await page.wait_for_url(re.compile(rf".*/ui/jobs/{job.id}\?notice=resumed"))
    assert "Resumed" in await page.locator(".notice").first.inner_text()
    await page.wait_for_selector("#job-state .badge.st-partial", timeout=60_000)
    await page.reload()
    states = await page.locator("#batches li").evaluate_all("els => els.map(e => e.dataset.state)")
    assert states == ["done", "done", "done"]
    assert await page.locator("#resume-form").count() == 0
    done = await store.jobs.get(job.id, tasks=False)
    assert (done.state, done.counts.succeeded, done.counts.failed) == ("partial", 3, 1)
    assert problems == [], f"browser console errors (CSP or script): {problems}"


async def test_approve_with_a_second_admin(
    served: tuple[FastAPI, str],
    store: SqlStore,
    tokens: dict[str, str],
    sim: Simulator,
    runtime: EmbeddedRuntime,
    chromium: Any,
) -> None:
    _, base = served
    store.changes.policy = ChangePolicy(require_approval=True)
    names = sorted(await store_fleet(store, sim.devices))
    spec = parse_job_spec(
        {"name": "ntp", "targets": {"devices": names[:2]}, "config": ["ntp server 192.0.2.9"]}
    )
    job = await store.jobs.submit(spec, submitted_by="t-admin")
    assert job.state == "awaiting_approval"
    problems: list[str] = []

    viewer = await _page(chromium, problems)
    await _sign_in(viewer, base, tokens["viewer"], "/ui/approvals")
    assert await viewer.locator(f"#approval-{job.id}").count() == 1
    assert await viewer.locator(f"#approve-{job.id}").count() == 0

    first = await _page(chromium, problems)
    await _sign_in(first, base, tokens["admin"], "/ui/approvals")
    await first.click(f"#approve-{job.id}")
    error = first.locator("#decision-error")
    await error.wait_for()
    assert "t-admin submitted job" in await error.inner_text()
    problems.remove(
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    )
    assert (await store.jobs.get(job.id, tasks=False)).state == "awaiting_approval"

    _, token = await store.tokens.create("second-admin", "admin")
    second = await _page(chromium, problems)
    await _sign_in(second, base, token, "/ui/approvals")
    await second.click(f"#approve-{job.id}")
    await second.wait_for_url(f"{base}/ui/approvals?notice=approved")
    assert "No job is waiting for approval." in await second.locator("main").inner_text()
    await second.goto(f"{base}/ui/jobs/{job.id}")
    await second.wait_for_selector("#job-state .badge.st-succeeded", timeout=60_000)
    gate = await store.changes.gate(job.id)
    assert (gate.decision, gate.decided_by) == ("approved", "second-admin")
    assert problems == [], f"browser console errors (CSP or script): {problems}"
