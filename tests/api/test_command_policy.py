"""Command policy over the API: a command job never changes configuration.

Operators cannot send privileged commands (configure, save, reload, erase, copy,
commit, abbreviations included) or several commands in one; admins only through
config jobs or ``options.allow_privileged_commands``; a session that enters
configuration mode anyway (an IOS alias) fails the task with ``policy_violation``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from netfleet_sim import Simulator
from tests.support.api import (
    SIM_ENABLE,
    SIM_PASSWORD,
    MakeClient,
    register_sim_fleet,
    wait_finished,
)

PRIVILEGED_LISTS = [
    ["configure terminal", "ntp server 192.0.2.1", "end", "wr mem"],
    ["show clock", "conf t"],
    ["config t"],
    ["wr"],
    ["wr mem"],
    ["copy run start"],
    ["copy running-config startup-config"],
    ["reload"],
    ["write erase"],
    ["erase startup-config"],
    ["delete flash:vlan.dat"],
    ["show running-config | redirect flash:out.txt"],
    ["configure", "set system ntp server 192.0.2.1", "commit and-quit"],
    ["configure private"],
    ["edit"],
    ["request system reboot"],
    ["req sys reb"],
    ["start shell"],
    ["sudo -s"],
    ["uptime; reboot"],
]
CONTROL = [
    "show clock\nconf t\nntp server 192.0.2.1\nend",
    "show clock\rconf t",
    "show clock\x1b[A",
    "conf\tt",
    "show clock\x00",
    "show clock\u2028conf t",
]


@pytest.fixture
async def mixed_sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        devices=2,
        platforms=["cisco_nxos", "juniper_junos"],
        password=SIM_PASSWORD,
        enable_secret=SIM_ENABLE,
    ) as s:
        yield s


@pytest.fixture
async def mixed_fleet(client: httpx.AsyncClient, mixed_sim: Simulator) -> list[str]:
    return await register_sim_fleet(client, mixed_sim, by_platform=False)


def _job(commands: list[str], **options: Any) -> dict[str, Any]:
    return {"targets": {"groups": ["lab"]}, "commands": commands, "options": options}


async def _audit(admin: httpx.AsyncClient) -> list[dict[str, Any]]:
    r = await admin.get("/api/v1/audit", params={"limit": 500})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return [a for a in items if a["path"] == "/api/v1/jobs" and a["method"] == "POST"]


async def test_operator_cannot_send_privileged_commands(
    as_role: MakeClient, mixed_fleet: list[str], mixed_sim: Simulator
) -> None:
    operator = await as_role("operator")
    for commands in PRIVILEGED_LISTS:
        r = await operator.post("/api/v1/jobs", json=_job(commands))
        assert r.status_code == 403, (commands, r.text)
        problem = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert problem["kind"] == "forbidden"
        assert "privileged command" in problem["detail"]
        assert "rule '" in problem["detail"], problem["detail"]
    admin = await as_role("admin")
    assert (await admin.get("/api/v1/jobs")).json()["items"] == []
    refused = await _audit(admin)
    assert len(refused) == len(PRIVILEGED_LISTS)
    assert {a["status"] for a in refused} == {403}
    # Nothing reached a device.
    assert all(s.command_count == 0 for s in mixed_sim.stats().values())


async def test_the_refusal_names_the_command_and_the_rule(
    as_role: MakeClient, mixed_fleet: list[str]
) -> None:
    operator = await as_role("operator")
    r = await operator.post("/api/v1/jobs", json=_job(["show clock", "copy r s"]))
    assert r.status_code == 403
    detail = r.json()["detail"]
    assert "commands[1] 'copy r s'" in detail
    assert "'cop[y]'" in detail


async def test_no_control_characters_in_commands(
    as_role: MakeClient, mixed_fleet: list[str]
) -> None:
    for role in ("operator", "admin"):
        c = await as_role(role)
        for command in CONTROL:
            r = await c.post(
                "/api/v1/jobs",
                json=_job([command], allow_privileged_commands=role == "admin"),
            )
            assert r.status_code == 422, (role, command, r.text)
            problem = r.json()
            text = problem["detail"] + " ".join(e["message"] for e in problem.get("errors") or [])
            assert "control character" in text, text
            assert "commands[0]" in text, text


async def test_admin_needs_the_explicit_option(
    as_role: MakeClient, mixed_fleet: list[str], running: object, mixed_sim: Simulator
) -> None:
    admin = await as_role("admin")
    ios = next(d.name for d in mixed_sim.devices if d.platform == "cisco_nxos")
    body = {"targets": {"devices": [ios]}, "commands": ["show clock", "copy r s"]}
    r = await admin.post("/api/v1/jobs", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["kind"] == "command_not_allowed"
    assert "allow_privileged_commands" in r.json()["detail"]

    body["options"] = {"allow_privileged_commands": True}
    r = await admin.post("/api/v1/jobs", json=body)
    assert r.status_code == 201, r.text
    job = await wait_finished(admin, r.json()["id"])
    assert job["state"] == "succeeded", json.dumps(job["tasks"][0]["results"])
    assert job["spec"]["options"]["allow_privileged_commands"] is True

    # An operator may neither set the option nor rerun such a job.
    operator = await as_role("operator")
    r = await operator.post("/api/v1/jobs", json=body)
    assert r.status_code == 403
    assert "allow_privileged_commands may only be set by an admin" in r.json()["detail"]
    r = await operator.post(f"/api/v1/jobs/{job['id']}/rerun")
    assert r.status_code == 403, r.text

    # The audit log says what each job was allowed to do.
    r = await admin.post("/api/v1/jobs", json={**body, "options": {}, "commands": ["show clock"]})
    assert r.status_code == 201
    r = await admin.post(
        "/api/v1/jobs", json={"targets": {"devices": [ios]}, "config": ["ntp server 192.0.2.9"]}
    )
    assert r.status_code == 201
    kinds = [(a["status"], (a["detail"] or {}).get("kind")) for a in reversed(await _audit(admin))]
    assert kinds == [
        (422, "commands"),
        (201, "commands+privileged"),
        (403, "commands+privileged"),
        (201, "commands"),
        (201, "config"),
    ]


async def test_schedules_cannot_smuggle_privileged_commands(
    as_role: MakeClient, mixed_fleet: list[str]
) -> None:
    admin = await as_role("admin")
    body: dict[str, Any] = {
        "name": "nightly",
        "cron": "0 3 * * *",
        "job": {"targets": {"groups": ["lab"]}, "commands": ["show clock", "reload"]},
    }
    r = await admin.post("/api/v1/schedules", json=body)
    assert r.status_code == 422, r.text
    assert "'reload'" in r.json()["detail"]
    operator = await as_role("operator")
    body["job"]["options"] = {"allow_privileged_commands": True}
    assert (await operator.post("/api/v1/schedules", json=body)).status_code == 403
    r = await admin.post("/api/v1/schedules", json=body)
    assert r.status_code == 201, r.text
    # Replacing it keeps the rule.
    body["job"]["options"] = {}
    r = await admin.put("/api/v1/schedules/nightly", json=body)
    assert r.status_code == 422, r.text


async def test_runtime_guard_leaves_config_mode_without_committing(
    as_role: MakeClient, mixed_fleet: list[str], running: object, mixed_sim: Simulator
) -> None:
    """An NX-OS alias enters configuration mode under a name no rule knows."""
    admin = await as_role("admin")
    operator = await as_role("operator")
    ios = next(d for d in mixed_sim.devices if d.platform == "cisco_nxos")
    r = await admin.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": [ios.name]},
            "config": ["cli alias name ct configure terminal"],
        },
    )
    job = await wait_finished(admin, r.json()["id"])
    assert job["state"] == "succeeded", job
    mixed_sim.reset_stats()

    r = await operator.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": [ios.name]},
            "commands": ["show clock", "ct", "ntp server 192.0.2.7", "end"],
        },
    )
    assert r.status_code == 201, r.text
    job = await wait_finished(admin, r.json()["id"])
    assert job["state"] == "failed"
    task = job["tasks"][0]
    assert task["error_kind"] == "policy_violation", task
    assert task["attempts"] == 1
    results = task["results"]
    assert [c["error_kind"] for c in results] == [None, "policy_violation", "not_run", "not_run"]
    assert "'ct' entered the config level" in results[1]["error"]
    sent = mixed_sim.stats()[ios.name].commands
    assert "ntp server 192.0.2.7" not in sent
    assert sent[sent.index("ct") + 1] == "end"  # left configuration mode at once
    assert "192.0.2.7" not in json.dumps(ios.state.to_json())

    # The session was not reused: the next job logs in afresh and runs normally.
    logins = mixed_sim.stats()[ios.name].logins
    r = await operator.post(
        "/api/v1/jobs", json={"targets": {"devices": [ios.name]}, "commands": ["show clock"]}
    )
    job = await wait_finished(admin, r.json()["id"])
    assert job["state"] == "succeeded", job
    assert mixed_sim.stats()[ios.name].logins == logins + 1
