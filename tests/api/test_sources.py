"""``/api/v1/inventory/sources`` against a small loopback service that serves NetBox's and
Nautobot's published REST API shapes (tests/support/netbox_service.py; the real systems
cannot run here): syncs add, update, disable (not delete) and skip with reasons;
disabled devices are not targeted; the token is write-only."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.netbox_service import fixture_service, nautobot_device, netbox_device

TOKEN = "0123456789abcdef"


async def _source(client: httpx.AsyncClient, base: str, **fields: Any) -> httpx.Response:
    body = {"name": "nb", "url": base, "token": TOKEN, **fields}
    return await client.post("/api/v1/inventory/sources", json=body)


async def _sync(client: httpx.AsyncClient, name: str = "nb") -> dict[str, Any]:
    r = await client.post(f"/api/v1/inventory/sources/{name}/sync")
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["name"] for r in rows)


async def test_sync_reports_adds_updates_disables_and_skips(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/v1/credentials", json={"name": "ro", "username": "ro", "password": "Pw-ro-1"}
    )
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, i, site="dc1") for i in range(1, 5)]
        r = await _source(client, svc.base, credentials=["ro"], filters={"status": ["active"]})
        assert r.status_code == 201, r.text
        assert TOKEN not in r.text
        assert r.json()["has_token"] is True
        first = await _sync(client)
        assert first["ok"] is True
        assert _names(first["added"]) == ["r1", "r2", "r3", "r4"]
        assert first["requests"] == 2  # status + one page
        r1 = (await client.get("/api/v1/devices/r1")).json()
        assert r1["groups"] == ["site:dc1", "role:router", "tag:edge"]
        assert r1["credentials"] == ["ro"]

        svc.devices = [
            netbox_device(svc.base, 1, site="dc2"),  # moved
            netbox_device(svc.base, 2, site="dc1"),  # unchanged
            netbox_device(svc.base, 3, site="dc1", status="offline"),  # filtered out
            netbox_device(svc.base, 5, ip=None),  # no primary IP
            netbox_device(svc.base, 6, platform="vendor-os"),  # unknown platform
        ]
        second = await _sync(client)
    assert _names(second["updated"]) == ["r1"]
    assert (
        "site" not in second["updated"][0]["reason"] or "groups" in second["updated"][0]["reason"]
    )
    assert _names(second["removed"]) == ["r3", "r4"]
    assert all("disabled, not deleted" in row["reason"] for row in second["removed"])
    reasons = {row["name"]: row["reason"] for row in second["skipped"]}
    assert reasons["r5"] == "no primary IP"
    assert "unknown platform 'vendor-os'" in reasons["r6"]
    assert second["unchanged"] == 1
    # Disabled, not deleted: the device stays, jobs do not target it.
    assert (await client.get("/api/v1/devices/r3")).status_code == 200
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"devices": ["r3"]}, "commands": ["show version"]}
    )
    assert r.status_code == 422
    assert "disabled" in r.text
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"groups": ["role:router"]}, "commands": ["show clock"]}
    )
    assert r.status_code == 201, r.text
    listing = (await client.get("/api/v1/inventory/sources/nb/reports")).json()["items"]
    assert [rep["summary"] for rep in listing] == [second["summary"], first["summary"]]


async def test_adopted_devices_keep_their_credentials(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/v1/credentials", json={"name": "own", "username": "me", "password": "Pw-own-1"}
    )
    r = await client.post(
        "/api/v1/devices",
        json={"name": "r1", "host": "192.0.2.1", "platform": "cisco_ios", "credentials": ["own"]},
    )
    assert r.status_code in (200, 201), r.text
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, 1)]
        await _source(client, svc.base)
        report = await _sync(client)
        assert _names(report["updated"]) == ["r1"]
        device = (await client.get("/api/v1/devices/r1")).json()
        assert device["host"] == "10.0.0.1"
        assert device["credentials"] == ["own"]
        # Another source does not take it over.
        await _source(client, svc.base, name="nb2")
        other = await _sync(client, "nb2")
    assert other["skipped"][0]["reason"] == "belongs to inventory source 'nb'"


async def test_failed_sync_is_reported_and_changes_nothing(client: httpx.AsyncClient) -> None:
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, 1)]
        await _source(client, svc.base)
        await _sync(client)
        svc.token = "rotated-upstream"
        report = await _sync(client)
        assert report["ok"] is False
        assert "token was refused" in (report["error"] or "")
        assert TOKEN not in (report["error"] or "")
        svc.token, svc.fail_with = TOKEN, 503
        report = await _sync(client)
    assert "HTTP 503" in (report["error"] or "")
    assert (await client.get("/api/v1/devices/r1")).status_code == 200  # not disabled


async def test_nautobot_and_bad_sources(client: httpx.AsyncClient) -> None:
    with fixture_service("nautobot") as svc:
        svc.devices = [nautobot_device(svc.base, i) for i in range(1, 4)]
        r = await _source(client, svc.base, kind="nautobot", interval_seconds=3600)
        assert r.status_code == 201, r.text
        assert r.json()["next_sync_at"] is not None
        report = await _sync(client)
    assert len(report["added"]) == 3
    bad: list[tuple[dict[str, Any], str]] = [
        ({"url": "ftp://x"}, "not http(s)"),
        ({"platform_map": {"x": "no_such_os"}}, "unknown platform 'no_such_os'"),
        ({"credentials": ["absent"]}, "unknown credential(s) absent"),
        ({"interval_seconds": 5}, "at least 60"),
    ]
    for fields, words in bad:
        r = await _source(client, "http://127.0.0.1:9", name="bad", **fields)
        assert r.status_code == 422, r.text
        assert words in r.text
    assert (await client.get("/api/v1/inventory/sources/none")).status_code == 404
