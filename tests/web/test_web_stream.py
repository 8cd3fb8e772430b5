"""The job page's live stream: state changes, task rows and activity as server-sent events."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from netfleet.store import SqlStore
from tests.support.store import add_devices
from tests.support.web import EVIL, MakeClient, finish_all, login, submit


def frames(body: str) -> list[tuple[str, dict[str, object]]]:
    """(event, data) of every SSE frame with data."""
    out = []
    for block in body.split("\n\n"):
        event = data = None
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if event and data is not None:
            out.append((event, data))
    return out


async def test_stream_follows_a_job_until_it_finishes(
    served: tuple[FastAPI, str], store: SqlStore, tokens: dict[str, str]
) -> None:
    await add_devices(store, 2)
    job = await submit(store, ["edge-000", "edge-001"], name="live one")
    full = await store.jobs.get(job.id)
    assert full.tasks is not None
    ids = ",".join(str(t.id) for t in full.tasks)
    _, base = served
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await login(client, tokens["viewer"])
        url = f"/ui/jobs/{job.id}/stream?tasks={ids}"
        body = ""
        async with client.stream("GET", url) as response:
            chunks = response.aiter_text()
            while "event: job" not in body:  # the queued state reached the client first
                body += await anext(chunks)
            await finish_all(store, output=EVIL, fail=["edge-001"])
            async for chunk in chunks:
                body += chunk
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    got = frames(body)
    states = [d["state"] for e, d in got if e == "job"]
    assert states[0] == "queued"
    assert states[-1] == "partial"
    tasks = {d["id"]: d for e, d in got if e == "task"}
    assert {t["state"] for t in tasks.values()} == {"succeeded", "failed"}
    failed = next(t for t in tasks.values() if t["state"] == "failed")
    assert failed["error"] == "timeout: timed out waiting for the prompt"
    assert failed["attempt"] == "1/3"
    kinds = [d["kind"] for e, d in got if e == "activity"]
    assert "submitted" in kinds
    assert got[-1] == ("end", {"state": "partial"})


async def test_stream_resumes_after_the_last_event_id(browser: MakeClient, store: SqlStore) -> None:
    await add_devices(store, 1)
    job = await submit(store, ["edge-000"])
    await finish_all(store)
    client = await browser("viewer")
    first = frames((await client.get(f"/ui/jobs/{job.id}/stream")).text)
    activity = [d["id"] for e, d in first if e == "activity"]
    assert activity
    again = await client.get(
        f"/ui/jobs/{job.id}/stream", headers={"Last-Event-ID": str(activity[-1])}
    )
    assert not [d for e, d in frames(again.text) if e == "activity"]
    assert frames(again.text)[-1][0] == "end"


async def test_stream_needs_a_session_and_an_existing_job(browser: MakeClient) -> None:
    anonymous = await browser(None)
    r = await anonymous.get("/ui/jobs/1/stream")
    assert r.status_code == 303
    viewer = await browser("viewer")
    assert (await viewer.get("/ui/jobs/999/stream")).status_code == 404
