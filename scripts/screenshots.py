"""Regenerate ``docs/screenshots/``: every dashboard page at desktop and narrow widths.

A throw-away service (SQLite in a temporary directory, the dashboard, one embedded
worker) runs real jobs against a simulated fleet on loopback; Debian's chromium
(Playwright) then opens each page signed in as admin and saves
``<page>-desktop.png`` (1360 px) and ``<page>-narrow.png`` (390 px).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.fernet import Fernet  # noqa: E402

from netfleet.api.runtime import EmbeddedRuntime  # noqa: E402
from netfleet.configs.sanity import prepare_config  # noqa: E402
from netfleet.jobs.model import parse_job_spec  # noqa: E402
from netfleet.jobs.schedule import build_schedule  # noqa: E402
from netfleet.store import open_store  # noqa: E402
from netfleet_sim import Simulator  # noqa: E402
from tests.support.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    ENABLE,
    PASSWORD,
    serve,
    store_fleet,
)
from tests.support.service import service_settings  # noqa: E402
from tests.support.web import build_app  # noqa: E402

WIDTHS = {"desktop": (1360, 900), "narrow": (390, 844)}
socket.gethostname = lambda: "fleet-host"  # worker ids and pages name no real machine


def running_config(device: str, n: int, description: str) -> str:
    """A small IOS running configuration; ``n`` and ``description`` vary between versions."""
    ports = "\n".join(
        f"interface GigabitEthernet0/{i}\n description {description} {i}\n"
        " switchport mode access\n!"
        for i in range(1, 5)
    )
    return (
        "Building configuration...\n\nCurrent configuration : 1024 bytes\n!\n"
        f"version 15.2\nhostname {device}\n!\nntp server 192.0.2.{n}\n!\n{ports}\n"
        f"snmp-server location rack-{n}\nline vty 0 4\n transport input ssh\nend\n"
    )


async def wait_finished(store: object, job_id: int) -> None:
    for _ in range(600):
        job = await store.jobs.get(job_id, tasks=False, outputs=False)  # type: ignore[attr-defined]
        if job.finished:
            return
        await asyncio.sleep(0.1)
    raise SystemExit(f"job {job_id} did not finish")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.async_api import async_playwright

    with tempfile.TemporaryDirectory() as tmp:
        settings = service_settings(Path(tmp))
        store = await open_store(
            settings.database.url, settings=settings, secret_key=Fernet.generate_key()
        )
        try:
            _, token = await store.tokens.create("screenshots", "admin")
            async with Simulator(
                devices=6,
                platforms=["cisco_ios", "arista_eos", "juniper_junos"],
                password=PASSWORD,
                enable_secret=ENABLE,
            ) as sim:
                names = await store_fleet(store, sim.devices)
                runtime = EmbeddedRuntime(store, settings, workers=1, scheduler=False)
                running = asyncio.create_task(runtime.run())
                job = await store.jobs.submit(
                    parse_job_spec(
                        {
                            "name": "inventory audit",
                            "targets": {"groups": ["lab"]},
                            "commands": ["show version", "show ip interface brief"],
                            "options": {"parse": "textfsm"},
                        }
                    )
                )
                await wait_finished(store, job.id)
                await store.schedules.create(
                    build_schedule(
                        name="nightly-audit",
                        job_template={"targets": {"groups": ["lab"]}, "commands": ["show clock"]},
                        cron="30 2 * * *",
                        timezone="Europe/Berlin",
                    )
                )
                ios = next(d.name for d in sim.devices if d.platform == "cisco_ios")
                for n, desc in ((1, "access"), (2, "uplink")):
                    text = running_config(ios, n, desc)
                    prepared = prepare_config(text, "cisco_ios", device=ios)
                    await store.configs.record(ios, prepared, platform="cisco_ios", job_id=job.id)
                detail = await store.jobs.get(job.id, tasks=True, outputs=False)
                task_id = (detail.tasks or ())[0].id
                app = build_app(store, settings)
                app.state.netfleet.runtime = runtime
                pages = {
                    "overview": "/ui/",
                    "jobs": "/ui/jobs",
                    "job": f"/ui/jobs/{job.id}",
                    "task": f"/ui/tasks/{task_id}",
                    "devices": "/ui/devices",
                    "device": f"/ui/devices/{names[0]}",
                    "new-job": "/ui/jobs/new?groups=lab&commands=show+version",
                    "schedules": "/ui/schedules",
                    "workers": "/ui/workers",
                    "configs": "/ui/configs?q=description",
                    "config-history": f"/ui/configs/history?device={ios}",
                    "config-version": f"/ui/configs/version?device={ios}&v=2",
                    "config-diff-side": f"/ui/configs/diff?device={ios}&view=side",
                    "config-diff-unified": f"/ui/configs/diff?device={ios}&view=unified",
                    "preferences": "/ui/prefs",
                }
                async with serve(app) as base, async_playwright() as pw:
                    browser = await pw.chromium.launch(
                        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
                    )
                    page = await browser.new_page()
                    await page.goto(f"{base}/ui/login")
                    await page.fill("#token", token)
                    await page.click("button.primary")
                    await page.wait_for_url(re.compile(r".*/ui/$"))
                    for name, path in pages.items():
                        for label, (w, h) in WIDTHS.items():
                            await page.set_viewport_size({"width": w, "height": h})
                            await page.goto(f"{base}{path}")
                            await page.wait_for_load_state("networkidle")
                            target = args.out / f"{name}-{label}.png"
                            await page.screenshot(path=str(target), full_page=True)
                            print(
                                target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
                            )
                    await browser.close()
                runtime.stop(immediate=True)
                await asyncio.wait_for(running, timeout=20)
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
