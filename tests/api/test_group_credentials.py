"""``/api/v1/group-credentials`` with embedded workers against the simulator over SSH:
devices that name no credential log in with their group's default (the first of
their groups that has one), their own credentials win, secrets are never shown, and
only admins change defaults."""

from __future__ import annotations

from typing import Any

import httpx

from netfleet.api.runtime import EmbeddedRuntime
from netfleet_sim import Simulator
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, MakeClient, wait_finished


async def _credential(client: httpx.AsyncClient, name: str, username: str, password: str) -> None:
    body = {"name": name, "username": username, "password": password, "enable_secret": SIM_ENABLE}
    r = await client.post("/api/v1/credentials", json=body)
    assert r.status_code == 201, r.text


async def _device(client: httpx.AsyncClient, dev: Any, groups: list[str], **extra: Any) -> None:
    body = {"name": dev.name, "host": dev.host, "port": dev.port, "platform": dev.platform,
            "groups": groups, **extra}  # fmt: skip
    r = await client.post("/api/v1/devices", json=body)
    assert r.status_code == 201, r.text


async def _show_version(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/jobs", json={"targets": {"devices": [name]}, "commands": ["show version"]}
    )
    assert r.status_code == 201, r.text
    job: dict[str, Any] = await wait_finished(client, r.json()["id"], timeout=60)
    return job


async def test_devices_without_credentials_log_in_with_the_group_default(
    client: httpx.AsyncClient, sim: Simulator, running: EmbeddedRuntime
) -> None:
    a, b, c = sim.devices
    user = a.username
    await _credential(client, "lab", user, SIM_PASSWORD)
    await _credential(client, "wrong", user, "Not-The-Password-1")
    await _device(client, a, ["lab", "other"])  # lab's default comes first
    await _device(client, b, ["other", "lab"])  # other's default comes first
    await _device(client, c, ["other"], credentials=["lab"])  # its own wins

    before = await _show_version(client, a.name)
    assert before["state"] == "failed", before

    r = await client.put("/api/v1/group-credentials/lab", json={"credential": "lab"})
    assert r.status_code == 200, r.text
    assert r.json()["devices"] == 2
    r = await client.post(
        "/api/v1/group-credentials", json={"group": "other", "credential": "wrong"}
    )
    assert r.status_code == 200, r.text

    first = await _show_version(client, a.name)
    assert first["state"] == "succeeded", first
    assert "Version" in first["tasks"][0]["results"][0]["output"]
    second = await _show_version(client, b.name)
    assert second["state"] == "failed", second
    assert second["tasks"][0]["error_kind"] == "authentication_failed", second["tasks"][0]
    own = await _show_version(client, c.name)
    assert own["state"] == "succeeded", own

    listing = await client.get("/api/v1/group-credentials")
    assert [(i["group"], i["credential"], i["username"]) for i in listing.json()["items"]] == [
        ("lab", "lab", user),
        ("other", "wrong", user),
    ]
    assert SIM_PASSWORD not in listing.text
    # "wrong" is in use as a default: not deletable until the default goes
    assert (await client.delete("/api/v1/credentials/wrong")).status_code == 409
    assert (await client.delete("/api/v1/group-credentials/other")).status_code == 204
    assert (await client.delete("/api/v1/group-credentials/other")).status_code == 404
    assert (await client.delete("/api/v1/credentials/wrong")).status_code == 204
    # b now falls back to its second group's default
    again = await _show_version(client, b.name)
    assert again["state"] == "succeeded", again


async def test_only_admins_change_group_defaults(
    client: httpx.AsyncClient, as_role: MakeClient
) -> None:
    await _credential(client, "lab", "ops", SIM_PASSWORD)
    missing = await client.put("/api/v1/group-credentials/core", json={"credential": "nope"})
    assert missing.status_code == 404, missing.text
    for role in ("viewer", "operator"):
        other = await as_role(role)
        r = await other.put("/api/v1/group-credentials/core", json={"credential": "lab"})
        assert r.status_code == 403, (role, r.text)
        assert (await other.delete("/api/v1/group-credentials/core")).status_code == 403
        assert (await other.get("/api/v1/group-credentials")).status_code == 200
