"""Jobs over the API, run for real by the embedded worker against the simulator."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.api import MakeClient, wait_finished


async def test_submit_run_and_read_outputs(
    client: httpx.AsyncClient, fleet: list[str], running: object
) -> None:
    r = await client.post(
        "/api/v1/jobs",
        json={
            "name": "versions",
            "targets": {"groups": ["lab"], "filter": "platform=cisco_ios"},
            "commands": ["show version", "show ip interface brief"],
            "options": {"parse": "textfsm"},
        },
    )
    assert r.status_code == 201, r.text
    summary = r.json()
    assert summary["state"] == "queued"
    assert summary["kind"] == "commands"
    assert summary["counts"]["total"] == 2

    job = await wait_finished(client, summary["id"])
    assert job["state"] == "succeeded"
    assert {t["device"] for t in job["tasks"]} == {n for n in fleet if "ios" in n}
    for task in job["tasks"]:
        assert task["state"] == "succeeded"
        assert task["attempts"] == 1
        assert [c["command"] for c in task["results"]] == [
            "show version",
            "show ip interface brief",
        ]
        version = task["results"][0]
        assert version["ok"] is True
        assert "Cisco IOS" in version["output"]
        assert version["parsed"]
        assert "version" in version["parsed"][0]
        assert version["duration_ms"] >= 0
        assert version["error"] is None

    r = await client.get(f"/api/v1/jobs/{summary['id']}", params={"outputs": "false"})
    assert r.json()["tasks"][0]["results"] == []


async def test_failed_commands_report_errors(
    client: httpx.AsyncClient, fleet: list[str], running: object
) -> None:
    r = await client.post(
        "/api/v1/jobs",
        json={"targets": {"devices": [fleet[0]]}, "commands": ["show version", "show bogus thing"]},
    )
    job = await wait_finished(client, r.json()["id"])
    assert job["state"] == "failed"
    task = job["tasks"][0]
    assert task["results"][1]["ok"] is False
    assert task["results"][1]["error"]


async def test_submit_validation_errors(client: httpx.AsyncClient, fleet: list[str]) -> None:
    async def problem(body: object) -> dict[str, object]:
        r = await client.post("/api/v1/jobs", json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        result: dict[str, object] = r.json()
        return result

    p = await problem(
        {"targets": {"devices": [fleet[0]]}, "commands": ["show clock"], "config": ["x"]}
    )
    assert p["kind"] == "validation_error"
    p = await problem({"targets": {"devices": [fleet[0]]}, "commands": ["show clock"], "bogus": 1})
    assert p["errors"] == [{"field": "bogus", "message": "Extra inputs are not permitted"}]
    p = await problem({"targets": {"devices": [fleet[0]]}, "commands": [""]})
    assert p["errors"][0]["field"] == "commands"  # type: ignore[index]
    p = await problem({"targets": {"devices": ["no-such-device"]}, "commands": ["show clock"]})
    assert "no-such-device" in str(p["detail"])
    p = await problem(
        {"targets": {"devices": [fleet[0]]}, "commands": ["x"], "options": {"priority": 5000}}
    )
    assert p["errors"][0]["field"] == "options.priority"  # type: ignore[index]
    r = await client.post(
        "/api/v1/jobs", content=b"[", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400


async def test_config_jobs_need_admin(as_role: MakeClient, fleet: list[str]) -> None:
    operator = await as_role("operator")
    body = {"targets": {"devices": [fleet[0]]}, "config": ["hostname x"]}
    r = await operator.post("/api/v1/jobs", json=body)
    assert r.status_code == 403
    assert "admin" in r.json()["detail"]
    r = await operator.post(
        "/api/v1/jobs", json={"targets": {"devices": [fleet[0]]}, "commands": ["show clock"]}
    )
    assert r.status_code == 201
    viewer = await as_role("viewer")
    r = await viewer.post(
        "/api/v1/jobs", json={"targets": {"devices": [fleet[0]]}, "commands": ["x"]}
    )
    assert r.status_code == 403
    admin = await as_role("admin")
    r = await admin.post("/api/v1/jobs", json=body)
    assert r.status_code == 201


async def test_list_filters_cancel_rerun_delete(
    client: httpx.AsyncClient, fleet: list[str]
) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    ids = []
    for name in fleet:
        r = await client.post(
            "/api/v1/jobs",
            json={"targets": {"devices": [name]}, "commands": ["show clock"], "run_at": later},
        )
        assert r.status_code == 201
        assert r.json()["run_at"] is not None
        ids.append(r.json()["id"])

    r = await client.get("/api/v1/jobs", params={"device": fleet[1]})
    assert [j["id"] for j in r.json()["items"]] == [ids[1]]
    r = await client.get("/api/v1/jobs", params={"state": "queued", "limit": 2})
    page = r.json()
    assert [j["id"] for j in page["items"]] == [ids[2], ids[1]]
    r = await client.get("/api/v1/jobs", params={"cursor": page["next_cursor"]})
    assert [j["id"] for j in r.json()["items"]] == [ids[0]]
    r = await client.get("/api/v1/jobs", params={"created_before": "2000-01-01T00:00:00Z"})
    assert r.json()["items"] == []
    r = await client.get("/api/v1/jobs", params={"created_after": "2000-01-01T00:00:00Z"})
    assert len(r.json()["items"]) == 3
    assert (await client.get("/api/v1/jobs", params={"state": "weird"})).status_code == 422

    assert (await client.delete(f"/api/v1/jobs/{ids[0]}")).status_code == 409
    r = await client.post(f"/api/v1/jobs/{ids[0]}/cancel")
    assert r.status_code == 200
    assert r.json()["state"] == "cancelled"
    assert (await client.post(f"/api/v1/jobs/{ids[0]}/cancel")).status_code == 409

    r = await client.post(f"/api/v1/jobs/{ids[0]}/rerun")
    assert r.status_code == 201
    rerun = r.json()
    assert rerun["id"] not in ids
    assert rerun["targets"] == {"devices": [fleet[0]], "groups": [], "filter": None}
    assert rerun["run_at"] is None

    assert (await client.delete(f"/api/v1/jobs/{ids[0]}")).status_code == 204
    assert (await client.get(f"/api/v1/jobs/{ids[0]}")).status_code == 404
    for path in (f"/api/v1/jobs/{ids[0]}/cancel", f"/api/v1/jobs/{ids[0]}/rerun"):
        assert (await client.post(path)).status_code == 404
    assert (await client.delete(f"/api/v1/jobs/{ids[0]}")).status_code == 404
    assert (await client.get("/api/v1/jobs/abc")).status_code == 422


async def test_idempotency_key_header(client: httpx.AsyncClient, fleet: list[str]) -> None:
    body = {"targets": {"devices": [fleet[0]]}, "commands": ["show clock"]}
    first = await client.post("/api/v1/jobs", json=body, headers={"Idempotency-Key": "k-1"})
    again = await client.post("/api/v1/jobs", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.json()["id"] == again.json()["id"]


async def test_events_json_and_stream(
    client: httpx.AsyncClient, fleet: list[str], running: object
) -> None:
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"devices": fleet[:2]}, "commands": ["show version"]}
    )
    job_id = r.json()["id"]

    frames: list[tuple[str, dict[str, object]]] = []
    async with client.stream("GET", f"/api/v1/jobs/{job_id}/events/stream") as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        event = ""
        async for line in resp.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                frames.append((event, json.loads(line[6:])))
    kinds = [k for k, _ in frames]
    assert kinds[-1] == "end"
    assert frames[-1][1]["state"] == "succeeded"
    assert "submitted" in kinds
    assert kinds.count("command") == 2
    assert "state" in kinds

    r = await client.get(f"/api/v1/jobs/{job_id}/events")
    page = r.json()
    assert page["finished"] is True
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids)
    r = await client.get(f"/api/v1/jobs/{job_id}/events", params={"after": ids[2], "limit": 2})
    assert [e["id"] for e in r.json()["items"]] == ids[3:5]

    # Resuming after the last event replays nothing but the state and the end.
    async with client.stream(
        "GET", f"/api/v1/jobs/{job_id}/events/stream", headers={"Last-Event-ID": str(ids[-1])}
    ) as resp:
        text = (await resp.aread()).decode()
    assert "event: command" not in text
    assert text.rstrip().endswith('data: {"state":"succeeded"}')

    assert (await client.get("/api/v1/jobs/999/events")).status_code == 404
    assert (await client.get("/api/v1/jobs/999/events/stream")).status_code == 404


async def test_one_time_job_waits_for_run_at(
    client: httpx.AsyncClient, fleet: list[str], running: object
) -> None:
    at = datetime.now(UTC) + timedelta(seconds=2.0)
    r = await client.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": [fleet[0]]},
            "commands": ["show clock"],
            "run_at": at.isoformat(),
        },
    )
    job_id = r.json()["id"]
    await asyncio.sleep(0.3)  # give a start before run_at the chance to show up
    state = (await client.get(f"/api/v1/jobs/{job_id}")).json()["state"]
    if datetime.now(UTC) < at:  # read before run_at (a loaded machine may be slower)
        assert state == "queued"
    job = await wait_finished(client, job_id)
    assert job["state"] == "succeeded"
    assert job["tasks"][0]["started_at"] >= at.timestamp()
