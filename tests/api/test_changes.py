"""Safe changes through the API: templates rendered at submit, per-task diffs and rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml

from netfleet.configs.predict import NOTE
from netfleet.core.inventory import load_inventory
from netfleet.store import SqlStore
from netfleet_sim import Simulator
from tests.support.api import wait_finished

NTP_TEMPLATE = """\
{% for server in vars.ntp.servers %}
ntp server {{ server }}
{% endfor %}
{% if device.platform == 'cisco_ios' %}
ntp source {{ vars.ntp.source }}
{% endif %}
"""


async def _tasks_of(
    client: httpx.AsyncClient, job: dict[str, Any], state: str, *, timeout: float = 20
) -> list[dict[str, Any]]:
    """Submit ``job``, wait for it to end in ``state``; its tasks."""
    r = await client.post("/api/v1/jobs", json=job)
    assert r.status_code == 201, r.text
    body = await wait_finished(client, r.json()["id"], timeout=timeout)
    assert body["state"] == state, body
    tasks: list[dict[str, Any]] = body["tasks"]
    return tasks


def _nornir_hosts(count: int) -> str:
    lines = []
    for i in range(count):
        group = "east" if i % 2 else "west"
        lines += [
            f"r{i:02d}:",
            f"  hostname: 10.0.{i // 250}.{i % 250 + 1}",
            "  platform: ios",
            f"  groups: [{group}]",
        ]
        if i == 7:
            # Nornir semantics: a host's data key replaces the group's whole value.
            lines += ["  data:", "    ntp: {servers: [192.0.2.77], source: Loopback7}"]
    return "\n".join(lines) + "\n"


GROUPS = """\
east:
  data:
    ntp: {servers: [192.0.2.1, 192.0.2.2], source: Loopback0}
west:
  data:
    ntp: {servers: [198.51.100.1], source: Loopback1}
"""


async def _jobs(client: httpx.AsyncClient) -> int:
    r = await client.get("/api/v1/jobs")
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


async def test_template_for_50_devices_with_group_variables(
    client: httpx.AsyncClient, store: SqlStore
) -> None:
    r = await client.post(
        "/api/v1/devices/import",
        json={"format": "nornir", "hosts": _nornir_hosts(50), "groups": GROUPS},
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 50
    job = {
        "targets": {"groups": ["east", "west"]},
        "template": NTP_TEMPLATE,
        "template_name": "ntp.j2",
        "options": {"dry_run": True},
    }
    r = await client.post("/api/v1/jobs", json=job)
    assert r.status_code == 201, r.text
    assert r.json()["counts"]["total"] == 50
    # The worker renders the same lines (group data merged by the Nornir loader).
    from netfleet.jobs.render import render_device

    spec = (await store.jobs.get(r.json()["id"], tasks=False)).spec
    r07 = (await store.devices.get("r07")).spec
    r01 = (await store.devices.get("r01")).spec
    assert render_device(spec, r07) == ["ntp server 192.0.2.77", "ntp source Loopback7"]
    assert render_device(spec, r01) == [
        "ntp server 192.0.2.1",
        "ntp server 192.0.2.2",
        "ntp source Loopback0",
    ]


async def test_render_error_rejects_the_job_and_names_device_and_line(
    client: httpx.AsyncClient,
) -> None:
    hosts = "a1:\n  hostname: 10.1.0.1\n  platform: ios\n  groups: [east]\n"
    hosts += "b1:\n  hostname: 10.1.0.2\n  platform: ios\n  groups: [bare]\n"
    groups = GROUPS + "bare:\n  data: {}\n"
    r = await client.post(
        "/api/v1/devices/import", json={"format": "nornir", "hosts": hosts, "groups": groups}
    )
    assert r.status_code == 200, r.text
    before = await _jobs(client)
    r = await client.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": ["a1", "b1"]},
            "template": NTP_TEMPLATE,
            "template_name": "ntp.j2",
        },
    )
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "b1" in detail
    assert "template line 1" in detail
    assert "'ntp.j2'" in detail
    assert "a1:" not in detail
    assert "nothing was sent" in detail
    assert await _jobs(client) == before


async def test_rollback_refused_up_front_on_a_platform_without_one(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/api/v1/devices",
        json={"name": "fw1", "host": "10.2.0.1", "platform": "cisco_asa"},
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": ["fw1"]},
            "config": ["logging buffered 7"],
            "rollback": {"confirm_timeout_s": 120},
        },
    )
    assert r.status_code == 422, r.text
    assert "fw1: platform cisco_asa has no safe rollback" in r.json()["detail"]


async def test_dry_run_then_push_with_checks_and_rollback(
    client: httpx.AsyncClient, fleet: list[str], running: object, sim: Simulator
) -> None:
    first: dict[str, Any] = {
        "targets": {"groups": ["lab"]},
        "template": "ntp server {{ vars.server }}\n",
        "vars": {"server": "192.0.2.55"},
        "options": {"dry_run": True},
    }
    for task in await _tasks_of(client, first, "succeeded"):
        assert NOTE in task["diff"]
        assert "+ ntp server 192.0.2.55" in task["diff"]
        assert task["change"]["predicted"] is True
        assert task["change"]["lines"] == ["ntp server 192.0.2.55"]
        assert all(r["command"] != "#netfleet change" for r in task["results"])
    assert not any("192.0.2.55" in repr(d.state.running) for d in sim.devices)  # type: ignore[attr-defined]
    # Now for real, with a post-check that fails: every device goes back.
    job: dict[str, Any] = {
        "targets": {"groups": ["lab"]},
        "template": "ntp server {{ vars.server }}\n",
        "vars": {"server": "192.0.2.55"},
        "checks": [{"command": "show running-config", "rule": "not_contains", "pattern": "55"}],
        "rollback": {},
    }
    for task in await _tasks_of(client, job, "failed"):
        change = task["change"]
        assert change["rolled_back"] is True, change
        assert change["checks"][0]["ok"] is False
        assert "post-check failed" in task["error"]
        # The running configuration's real diff across the push, kept after the revert.
        assert change["diff_source"] == "running"
        assert "+ ntp server 192.0.2.55" in task["diff"]
        assert NOTE not in task["diff"]
    assert not any("192.0.2.55" in repr(d.state.running) for d in sim.devices)  # type: ignore[attr-defined]


async def test_a_plain_push_stores_the_predicted_diff_on_each_task(
    client: httpx.AsyncClient, fleet: list[str], running: object, sim: Simulator
) -> None:
    job = {"targets": {"groups": ["lab"]}, "config": ["ntp server 192.0.2.66"]}
    for task in await _tasks_of(client, job, "succeeded"):
        assert task["change"]["diff_source"] == "predicted", task
        assert NOTE in task["diff"]
        assert "+ ntp server 192.0.2.66" in task["diff"]
        assert task["change"]["rolled_back"] is False
    assert all("192.0.2.66" in repr(d.state.running) for d in sim.devices)  # type: ignore[attr-defined]


async def test_a_push_stopped_by_a_rejected_line_says_what_was_applied(
    client: httpx.AsyncClient, fleet: list[str], running: object, sim: Simulator
) -> None:
    job = {"targets": {"groups": ["lab"]}, "config": ["ntp server 192.0.2.67", "interface Foo0/99"]}
    for task in await _tasks_of(client, job, "failed"):
        change = task["change"]
        assert change["applied_lines"] == ["ntp server 192.0.2.67"], task
        assert change["failed_line"] == "interface Foo0/99"
        assert change["partially_applied"] is True
        assert change["diff_source"] == "running"  # read again: what the device took
        assert "+ ntp server 192.0.2.67" in task["diff"]
        assert "Foo0/99" not in task["diff"]


async def test_csv_data_columns_are_template_variables(
    client: httpx.AsyncClient, store: SqlStore
) -> None:
    text = (
        "name,host,platform,groups,data.ntp.server,data.site\n"
        "c1,10.3.0.1,cisco_ios,edge,192.0.2.31,north\n"
        "c2,10.3.0.2,cisco_ios,edge,,south\n"
    )
    r = await client.post("/api/v1/devices/import", json={"format": "csv", "text": text})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    c1 = (await store.devices.get("c1")).spec
    c2 = (await store.devices.get("c2")).spec
    assert c1.data == {"ntp": {"server": "192.0.2.31"}, "site": "north"}
    assert c2.data == {"site": "south"}  # empty cells are left out
    r = await client.post(
        "/api/v1/jobs",
        json={"targets": {"groups": ["edge"]}, "template": "ntp server {{ vars.ntp.server }}"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"].endswith(
        "template 'template': vars.ntp is undefined (the device's vars: site) "
        "(template line 1), for c2"
    )
    r = await client.post(
        "/api/v1/devices/import",
        json={"format": "csv", "text": "name,host,platform,data.\nx,h,cisco_ios,1\n"},
    )
    assert r.status_code == 422, r.text
    assert "unknown column(s) data." in r.json()["detail"]


async def test_template_dry_run_on_50_simulated_devices_with_group_variables(
    client: httpx.AsyncClient, store: SqlStore, running: object, tmp_path: Path
) -> None:
    async with Simulator(devices=50, platforms=["cisco_ios", "arista_eos"]) as sim50:
        raw = tmp_path / "sim.yaml"
        sim50.write_inventory(raw)
        doc = yaml.safe_load(raw.read_text())
        for i, entry in enumerate(doc["devices"]):
            entry["groups"] = ["east" if i % 2 else "west"]
        doc["defaults"] = {"data": {"ntp": {"source": "Loopback0"}}}
        doc["groups"] = {
            "east": {"data": {"ntp": {"servers": ["192.0.2.1", "192.0.2.2"]}}},
            "west": {"data": {"ntp": {"servers": ["198.51.100.1"]}}},
        }
        inventory = tmp_path / "inventory.yaml"
        inventory.write_text(yaml.safe_dump(doc))
        for spec in load_inventory(inventory).devices:
            await store.devices.upsert(spec)
        r = await client.post(
            "/api/v1/jobs",
            json={
                "targets": {"groups": ["east", "west"]},
                "template": NTP_TEMPLATE,
                "template_name": "ntp.j2",
                "options": {"dry_run": True},
            },
        )
        assert r.status_code == 201, r.text
        body = await wait_finished(client, r.json()["id"], timeout=120)
        assert body["state"] == "succeeded", body
        assert len(body["tasks"]) == 50
        for task in body["tasks"]:
            index = int(task["device"].rsplit("-", 1)[1]) - 1
            servers = ["192.0.2.1", "192.0.2.2"] if index % 2 else ["198.51.100.1"]
            for server in servers:
                assert f"+ ntp server {server}" in task["diff"], task["diff"]
            assert task["change"]["diff_source"] == "predicted"
            ios = task["device"].startswith("sim-ios")
            assert ("ntp source Loopback0" in task["diff"]) is ios
        assert sum(d.stats.logins for d in sim50.devices) == 50


async def test_schedule_with_a_template_that_fails_is_refused(
    client: httpx.AsyncClient, fleet: list[str]
) -> None:
    bad = {
        "name": "ntp-nightly",
        "cron": "0 2 * * *",
        "job": {"targets": {"devices": fleet}, "template": "ntp server {{ vars.nope }}"},
    }
    r = await client.post("/api/v1/schedules", json=bad)
    assert r.status_code == 422, r.text
    assert "job template: template: failed to render" in r.json()["detail"]
    good = {**bad, "job": {**bad["job"], "template": "ntp server {{ device.host }}"}}
    r = await client.post("/api/v1/schedules", json=good)
    assert r.status_code == 201, r.text
