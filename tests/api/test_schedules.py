"""Schedules over the API: CRUD, pause/resume, preview, and firing through the runtime."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.api import wait_finished


def _schedule(fleet: list[str], **extra: object) -> dict[str, object]:
    return {
        "name": "nightly",
        "cron": "0 2 * * *",
        "timezone": "Europe/Berlin",
        "job": {"targets": {"devices": fleet[:1]}, "commands": ["show clock"]},
        **extra,
    }


async def test_schedule_crud_pause_resume(client: httpx.AsyncClient, fleet: list[str]) -> None:
    r = await client.post("/api/v1/schedules", json=_schedule(fleet))
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["kind"] == "cron"
    assert s["next_fire_at"] is not None
    assert s["job"]["commands"] == ["show clock"]

    assert (await client.get(f"/api/v1/schedules/{s['id']}")).json()["name"] == "nightly"
    assert (await client.get("/api/v1/schedules/nightly")).json()["id"] == s["id"]
    assert [x["name"] for x in (await client.get("/api/v1/schedules")).json()["items"]] == [
        "nightly"
    ]

    r = await client.post("/api/v1/schedules/nightly/pause")
    assert r.json()["enabled"] is False
    paused = (await client.get("/api/v1/schedules", params={"enabled": "false"})).json()
    assert len(paused["items"]) == 1
    r = await client.post(f"/api/v1/schedules/{s['id']}/resume")
    assert r.json()["enabled"] is True

    r = await client.put("/api/v1/schedules/nightly", json=_schedule(fleet, cron="30 3 * * 1"))
    assert r.status_code == 200
    assert r.json()["cron"] == "30 3 * * 1"
    assert r.json()["id"] == s["id"]

    assert (await client.delete("/api/v1/schedules/nightly")).status_code == 204
    assert (await client.get("/api/v1/schedules/nightly")).status_code == 404


async def test_schedule_errors(client: httpx.AsyncClient, fleet: list[str]) -> None:
    assert (await client.post("/api/v1/schedules", json=_schedule(fleet))).status_code == 201
    assert (await client.post("/api/v1/schedules", json=_schedule(fleet))).status_code == 409
    r = await client.post("/api/v1/schedules", json=_schedule(fleet, name="b", cron="61 * * * *"))
    assert r.status_code == 422
    assert "cron" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "cron"
    r = await client.post(
        "/api/v1/schedules", json=_schedule(fleet, name="c", timezone="Mars/Base")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "timezone"
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = await client.post("/api/v1/schedules", json=_schedule(fleet, name="d", cron=None, at=past))
    assert r.status_code == 422
    assert "past" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "at"
    r = await client.post(
        "/api/v1/schedules", json=_schedule(fleet, name="e", job={"commands": []})
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"].startswith("job")
    for path in ("/api/v1/schedules/zz/pause", "/api/v1/schedules/zz/resume"):
        assert (await client.post(path)).status_code == 404
    assert (await client.delete("/api/v1/schedules/zz")).status_code == 404
    r = await client.put("/api/v1/schedules/zz", json=_schedule(fleet, name="zz"))
    assert r.status_code == 404
    r = await client.post("/api/v1/schedules", json=_schedule(fleet, name="other"))
    assert r.status_code == 201, r.text
    r = await client.put("/api/v1/schedules/other", json=_schedule(fleet))
    assert r.status_code == 409
    r = await client.post("/api/v1/schedules", json=_schedule(fleet, name="f", start_at=
        "2030-01-02T00:00:00Z", end_at="2030-01-01T00:00:00Z"))  # fmt: skip
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "end_at"
    unknown_device = {"targets": {"devices": ["no-such-device"]}, "commands": ["show clock"]}
    r = await client.post("/api/v1/schedules", json=_schedule(fleet, name="g", job=unknown_device))
    assert r.status_code == 422
    assert "no-such-device" in r.json()["detail"]
    assert r.json()["errors"][0]["field"] == "job.targets.devices"
    refused = _schedule(fleet, name="other", job=unknown_device)
    r = await client.put("/api/v1/schedules/other", json=refused)
    assert r.status_code == 422
    assert "no-such-device" in r.json()["detail"]
    r = await client.post("/api/v1/schedules", json=_schedule(fleet, name="0042"))
    assert r.status_code == 422
    assert "digits" in r.json()["detail"]
    assert (await client.get("/api/v1/schedules/\u00b2")).status_code == 404  # a digit, not ASCII
    items = (await client.get("/api/v1/schedules")).json()["items"]
    assert [(x["name"], x["job"]["targets"]["devices"]) for x in items] == [
        ("nightly", fleet[:1]),
        ("other", fleet[:1]),
    ]  # nothing stored or changed by a refused request


async def test_preview(client: httpx.AsyncClient) -> None:
    r = await client.get(
        "/api/v1/schedules/preview",
        params={"expression": "0 9 * * 1-5", "timezone": "America/New_York", "n": 3,
                "after": "2026-03-06T12:00:00+00:00"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    times = [datetime.fromisoformat(t) for t in r.json()["fire_times"]]
    assert [t.day for t in times] == [6, 9, 10]  # Friday, then Monday after the DST change
    assert all(t.hour == 9 for t in times)
    assert [t.utcoffset().total_seconds() / 3600 for t in times] == [-5, -4, -4]  # type: ignore[union-attr]
    r = await client.get("/api/v1/schedules/preview", params={"expression": "bad cron"})
    assert r.status_code == 422
    r = await client.get("/api/v1/schedules/preview", params={"expression": "* * * * *", "n": 0})
    assert r.status_code == 422


async def test_per_second_cron_fires_jobs(
    client: httpx.AsyncClient, fleet: list[str], running: object
) -> None:
    r = await client.post(
        "/api/v1/schedules", json=_schedule(fleet, name="tick", cron="* * * * * *", timezone="UTC")
    )
    sid = r.json()["id"]
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"devices": fleet[:1]}, "commands": ["show clock"]}
    )
    unscheduled = r.json()["id"]
    jobs: list[dict[str, object]] = []
    for _ in range(200):
        jobs = (await client.get("/api/v1/jobs", params={"schedule": sid})).json()["items"]
        if len(jobs) >= 2:
            break
        await asyncio.sleep(0.05)
    assert len(jobs) >= 2
    await client.post(f"/api/v1/schedules/{sid}/pause")
    done = await wait_finished(client, int(str(jobs[-1]["id"])))
    assert done["state"] == "succeeded"
    assert done["schedule_id"] == sid
    fire_times = [j["fire_time"] for j in jobs]
    assert len(set(fire_times)) == len(fire_times)
    assert unscheduled not in [j["id"] for j in jobs]  # the filter keeps only this schedule's
    assert {j["schedule_id"] for j in jobs} == {sid}
