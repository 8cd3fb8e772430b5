"""Every dashboard page rendered from a real store: content, filters, pages, escaping."""

from __future__ import annotations

import html
import re

from netfleet.jobs.schedule import build_schedule
from netfleet.store import SqlStore
from tests.support.store import add_devices
from tests.support.web import EVIL, MakeClient, finish_all, submit


def task_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="task-(\d+)"', page)]


async def test_overview_counts_jobs_queue_workers_and_reuse(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 4)
    failed = await submit(store, ["edge-000", "edge-001"], name="nightly audit")
    await finish_all(store, fail=["edge-001"])
    await submit(store, ["edge-002", "edge-003"], name="waiting job")
    await store.workers.register("w-alpha", hostname="host-a", pid=101, concurrency=50)
    stats = {
        "running": 5,
        "pool": {"sessions_open": 7, "checkouts": 40, "reuses": 30, "logins": 10},
    }
    await store.workers.heartbeat("w-alpha", stats=stats)
    client = await browser("viewer")
    page = (await client.get("/ui/")).text
    assert 'id="queue-depth">2<' in page  # two tasks ready
    assert "75.0 %" in page  # reuse: 30 of 40 checkouts
    assert "30 of 40 checkouts" in page
    assert "of 50 slots" in page
    assert "nightly audit" in page  # a partial job among recent failures
    assert f"/ui/jobs/{failed.id}" in page
    assert "timeout" in page  # failures by kind
    assert "waiting job" in page  # active jobs


async def test_jobs_list_filters_by_state_and_device_and_pages(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 3)
    ok = await submit(store, ["edge-000"], name="only-000")
    await finish_all(store)
    for i in range(55):
        await submit(store, ["edge-001"], name=f"bulk-{i}")
    client = await browser("viewer")
    first = (await client.get("/ui/jobs")).text
    assert first.count('class="num"><a href="/ui/jobs/') == 50
    assert "bulk-54" in first
    assert "only-000" not in first
    older = re.search(r'href="(/ui/jobs\?cursor=\d+)">older', first)
    assert older, "no link to older jobs"
    second = (await client.get(html.unescape(older.group(1)))).text
    assert "only-000" in second
    assert "bulk-54" not in second
    assert "newest" in second
    done = (await client.get("/ui/jobs?state=succeeded")).text
    assert f"/ui/jobs/{ok.id}" in done
    assert "bulk-" not in done
    by_device = (await client.get("/ui/jobs?device=edge-000")).text
    assert "only-000" in by_device
    assert "bulk-" not in by_device
    # bad filter values fall back to defaults instead of failing
    assert (await client.get("/ui/jobs?state=bogus&cursor=x")).status_code == 200


async def test_job_detail_shows_tasks_errors_and_pages_through_tasks(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 120)
    names = [f"edge-{i:03d}" for i in range(120)]
    job = await submit(store, names, commands=["show version", "show clock"])
    await finish_all(store, fail=["edge-007"])
    client = await browser("viewer")
    page = (await client.get(f"/ui/jobs/{job.id}")).text
    assert "badge st-partial" in page
    assert len(task_ids(page)) == 100
    assert "showing 1\u2013100" in page
    assert "timeout: timed out waiting for the prompt" in page
    assert "data-stream" not in page  # finished: no live stream
    assert "show clock" in page
    rest = (await client.get(f"/ui/jobs/{job.id}?offset=100")).text
    assert len(task_ids(rest)) == 20
    assert not set(task_ids(rest)) & set(task_ids(page))
    failed = (await client.get(f"/ui/jobs/{job.id}?state=failed")).text
    assert len(task_ids(failed)) == 1
    assert "edge-007" in failed
    glob = (await client.get(f"/ui/jobs/{job.id}?device=edge-11*")).text
    assert len(task_ids(glob)) == 10
    unknown = await client.get("/ui/no/such/page")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    missing = await client.get("/ui/jobs/424242")
    assert missing.status_code == 404
    assert "job 424242 not found" in missing.text


async def test_running_job_page_subscribes_to_its_stream(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 2)
    job = await submit(store, ["edge-000", "edge-001"])
    client = await browser("operator")
    page = (await client.get(f"/ui/jobs/{job.id}")).text
    found = re.search(r'data-stream="([^"]+)"', page)
    assert found
    url = html.unescape(found.group(1))
    assert url.startswith(f"/ui/jobs/{job.id}/stream?tasks=")
    ids = task_ids(page)
    assert all(str(i) in url for i in ids)
    assert len(ids) == 2


async def test_task_outputs_are_escaped_everywhere(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 1)
    job = await submit(store, ["edge-000"], name="<b>bold</b> job")
    await finish_all(store, output=EVIL)
    detail = await store.jobs.get(job.id)
    assert detail.tasks is not None
    task = detail.tasks[0]
    client = await browser("viewer")
    page = (await client.get(f"/ui/tasks/{task.id}")).text
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    for path in ("/ui/jobs", f"/ui/jobs/{job.id}", "/ui/"):
        text = (await client.get(path)).text
        assert "<b>bold</b>" not in text
    assert "&lt;b&gt;bold&lt;/b&gt; job" in (await client.get("/ui/jobs")).text
    raw = await client.get(f"/ui/tasks/{task.id}/output/1/0")
    assert raw.status_code == 200
    assert raw.text == EVIL
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert (await client.get(f"/ui/tasks/{task.id}/output/1/9")).status_code == 404


async def test_devices_list_filters_and_device_detail(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 3, prefix="core", groups=("core", "dc1"), tags=("prod",))
    await add_devices(store, 2, prefix="leaf", platform="arista_eos", groups=("leaf",))
    job = await submit(store, ["core-001"], name="probe core-001")
    await finish_all(store)
    client = await browser("viewer")
    page = (await client.get("/ui/devices")).text
    assert all(f">{n}<" in page for n in ("core-000", "core-002", "leaf-001"))
    assert "dc1 (3)" in page  # group select with member counts

    def shown(text: str) -> set[str]:
        return set(re.findall(r'href="/ui/devices/([a-z]+-\d+)"', text))

    assert shown((await client.get("/ui/devices?group=leaf")).text) == {"leaf-000", "leaf-001"}
    assert shown((await client.get("/ui/devices?platform=arista_eos")).text) == {
        "leaf-000",
        "leaf-001",
    }
    assert shown((await client.get("/ui/devices?tag=prod")).text) == {
        "core-000",
        "core-001",
        "core-002",
    }
    assert shown((await client.get("/ui/devices?name=001")).text) == {"core-001", "leaf-001"}
    assert shown((await client.get("/ui/devices?name=core-00[12]")).text) == {
        "core-001",
        "core-002",
    }
    detail = await client.get("/ui/devices/core-001")
    assert detail.status_code == 200
    assert f"/ui/jobs/{job.id}" in detail.text
    assert "badge st-succeeded" in detail.text
    assert "127.0.0.1:10001" in detail.text
    assert (await client.get("/ui/devices/nope")).status_code == 404


async def test_devices_pages_through_a_large_inventory(
    browser: MakeClient, store: SqlStore
) -> None:
    await add_devices(store, 130)
    client = await browser("viewer")
    first = (await client.get("/ui/devices")).text
    names = re.findall(r'<td><a href="/ui/devices/(edge-\d+)">', first)
    assert len(names) == 100
    nxt = re.search(r'href="(/ui/devices\?cursor=\d+)">next', first)
    assert nxt
    second = (await client.get(html.unescape(nxt.group(1)))).text
    more = re.findall(r'<td><a href="/ui/devices/(edge-\d+)">', second)
    assert len(more) == 30
    assert not set(more) & set(names)


async def test_device_secrets_never_reach_the_page(browser: MakeClient, store: SqlStore) -> None:
    from netfleet.core.models import Credential, DeviceSpec

    secret = "Sup3r-Secret-Pw-991"
    await store.devices.upsert(
        DeviceSpec(
            name="vault-1",
            host="127.0.0.1",
            platform="cisco_ios",
            credentials=(
                Credential(username="ops", password=secret, enable_secret=secret, name="ops-cred"),
            ),
        )
    )
    client = await browser("admin")
    for path in ("/ui/devices", "/ui/devices/vault-1"):
        text = (await client.get(path)).text
        assert "ops-cred" in text
        assert secret not in text


async def test_schedules_show_next_fire_time(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 1)
    spec = build_schedule(
        name="every-5-min",
        job_template={"targets": {"devices": ["edge-000"]}, "commands": ["show clock"]},
        cron="*/5 * * * *",
    )
    schedule = await store.schedules.create(spec)
    assert schedule.next_fire_at is not None
    client = await browser("viewer")
    page = (await client.get("/ui/schedules")).text
    assert "every-5-min" in page
    assert "*/5 * * * *" in page
    assert schedule.next_fire_at.strftime("%Y-%m-%d %H:%M:%S") in page
    assert 'badge st-succeeded">active' in page
    assert f"/ui/jobs?schedule={schedule.id}" in page


async def test_workers_page_shows_heartbeats_and_sessions(
    browser: MakeClient, store: SqlStore
) -> None:
    await store.workers.register("w-live", hostname="host-a", pid=11, concurrency=100)
    await store.workers.heartbeat(
        "w-live",
        stats={
            "running": 25,
            "claimed": 900,
            "pool": {"sessions_open": 12, "checkouts": 10, "reuses": 9, "logins": 3},
        },
    )
    await store.workers.register("w-gone", hostname="host-b", pid=12, concurrency=10)
    await store.workers.heartbeat("w-gone", state="stopped")
    client = await browser("viewer")
    page = (await client.get("/ui/workers")).text
    assert "w-live" in page
    assert "25/100" in page
    assert "90.0 %" in page
    assert "900" in page
    assert "w-gone" not in page  # stopped workers hidden by default
    everything = (await client.get("/ui/workers?all=1")).text
    assert "w-gone" in everything
    assert ">stopped<" in everything
