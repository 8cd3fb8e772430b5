"""Configuration backups through the API with embedded workers against the simulator
over SSH: versions only on real change, diffs, volatile lines, truncated output,
masking, search, status, events and the metric."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from netfleet.api.runtime import EmbeddedRuntime
from netfleet.configs.compress import unpack
from netfleet.configs.sanity import prepare_config
from netfleet.core.settings import Settings
from netfleet.store import SqlStore
from netfleet.store.schema_configs import config_versions
from netfleet_sim import Simulator
from tests.support.api import SIM_ENABLE, SIM_PASSWORD, wait_finished


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(
        devices=2,
        platforms=["cisco_ios", "arista_eos"],
        password=SIM_PASSWORD,
        enable_secret=SIM_ENABLE,
        faults={"sim-ios-*": {"volatile_config": True}},
    ) as s:
        yield s


async def _backup(client: httpx.AsyncClient, **targets: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/backups", json={"targets": targets or {"groups": ["lab"]}})
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "backup"
    job: dict[str, Any] = await wait_finished(client, r.json()["id"], timeout=60)
    return job


async def _versions(client: httpx.AsyncClient, device: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/devices/{device}/configs")
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_backup_history_diff_volatile_truncated_search_and_status(
    client: httpx.AsyncClient,
    sim: Simulator,
    fleet: list[str],
    running: EmbeddedRuntime,
    settings: Settings,
    tmp_path: Path,
) -> None:
    ios, eos = fleet
    first = await _backup(client)
    assert first["state"] == "succeeded", first
    again = await _backup(client)
    assert again["state"] == "succeeded", again
    for name in fleet:
        [v1] = await _versions(client, name)
        assert v1["version"] == 1
        assert v1["job_id"] == first["id"]
        assert len(v1["sha256"]) == 64
        assert v1["size"] > 100
    outputs = [t["results"][0]["output"] for t in again["tasks"]]
    assert all("unchanged (version 1)" in o for o in outputs), outputs

    latest = (await client.get(f"/api/v1/devices/{ios}/configs/latest")).json()
    assert latest["version"] == 1
    assert latest["text"].rstrip().endswith("end")
    assert SIM_PASSWORD not in latest["text"]
    assert SIM_ENABLE not in latest["text"]

    r = await client.post(
        "/api/v1/jobs",
        json={
            "targets": {"devices": [ios]},
            "config": ["interface Loopback77", " description backup-under-test"],
        },
    )
    assert r.status_code == 201, r.text
    assert (await wait_finished(client, r.json()["id"], timeout=60))["state"] == "succeeded"
    changed = await _backup(client)
    assert changed["state"] == "succeeded"
    versions = await _versions(client, ios)
    assert [v["version"] for v in versions] == [2, 1]
    assert (versions[0]["added"], versions[0]["removed"]) == (3, 0)
    assert len(await _versions(client, eos)) == 1

    diff = (await client.get(f"/api/v1/devices/{ios}/configs/diff")).json()
    assert (diff["from"], diff["to"]) == (1, 2)
    changes = [
        line
        for line in diff["diff"].splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changes == ["+interface Loopback77", "+ description backup-under-test", "+!"]
    explicit = (await client.get(f"/api/v1/devices/{ios}/configs/diff?from=1&to=latest")).json()
    assert explicit["diff"] == diff["diff"]
    tree = await client.get(f"/api/v1/devices/{ios}/configs/diff?format=hierarchical")
    assert "+ interface Loopback77" in tree.json()["diff"], tree.text
    old = (await client.get(f"/api/v1/devices/{ios}/configs/1")).json()
    assert "Loopback77" not in old["text"]

    events = (await client.get(f"/api/v1/jobs/{changed['id']}/events")).json()["items"]
    [event] = [e for e in events if e["kind"] == "config_changed"]
    assert event["data"]["device"] == ios
    assert event["data"]["type"] == "config.changed"
    assert "+interface Loopback77" in event["data"]["diff"]
    metrics = (await client.get("/metrics")).text
    assert "netfleet_config_changes_total 1.0" in metrics

    # The IOS device's volatile lines changed between all these backups: no version.
    r = await client.post(
        "/api/v1/jobs",
        json={"targets": {"devices": [ios]}, "commands": ["show running-config"] * 2},
    )
    shown = await wait_finished(client, r.json()["id"], timeout=60)
    a, b = (res["output"] for res in shown["tasks"][0]["results"])
    assert "! NVRAM config last updated at" in a
    assert "ntp clock-period" in a
    assert a != b
    assert len(await _versions(client, ios)) == 2

    # A truncated output is a failed backup, never a version.
    sim.device(ios).set_faults(truncate_config=12)
    running.retire([ios])
    cut = await _backup(client, devices=[ios])
    assert cut["state"] == "failed"
    [task] = cut["tasks"]
    assert "not a configuration" in task["error"]
    assert "truncated" in task["error"]
    assert len(await _versions(client, ios)) == 2
    status = (await client.get("/api/v1/backups/status")).json()
    assert [(i["device"], i["status"]) for i in status["items"]] == [(ios, "failed")]
    assert status["counts"]["ok"] == 1

    found = (await client.get("/api/v1/configs/search", params={"q": "Loopback77"})).json()
    assert [(h["device"], h["version"], h["text"]) for h in found["items"]] == [
        (ios, 2, "interface Loopback77")
    ]
    text = (await client.get(f"/api/v1/devices/{ios}/configs/2")).json()["text"]
    assert text.split("\n")[found["items"][0]["line"] - 1] == "interface Loopback77"
    pattern = {"q": r"^interface Loopback\d+$", "regex": "true"}
    assert len((await client.get("/api/v1/configs/search", params=pattern)).json()["items"]) >= 1
    bad = await client.get("/api/v1/configs/search", params={"q": "(", "regex": "true"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == "not a valid RE2 regular expression '(': missing ): ("


async def test_unknown_device_or_version_is_a_404(
    client: httpx.AsyncClient, sim: Simulator, fleet: list[str]
) -> None:
    for path in (
        "/api/v1/devices/nope/configs",
        "/api/v1/devices/nope/configs/latest",
        f"/api/v1/devices/{fleet[0]}/configs/latest",
        f"/api/v1/devices/{fleet[0]}/configs/7",
        f"/api/v1/devices/{fleet[0]}/configs/seven",
        f"/api/v1/devices/{fleet[0]}/configs/diff",
    ):
        r = await client.get(path)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(f"/api/v1/devices/{fleet[0]}/configs")).json()["items"] == []
    r = await client.post("/api/v1/backups", json={"targets": {"devices": ["nope"]}})
    assert r.status_code in (404, 422), r.text
    r = await client.post("/api/v1/backups", json={"targets": {}})
    assert r.status_code == 422, r.text


async def test_a_viewer_cannot_start_backups(as_role: Any, fleet: list[str]) -> None:
    viewer = await as_role("viewer")
    r = await viewer.post("/api/v1/backups", json={"targets": {"groups": ["lab"]}})
    assert r.status_code == 403
    operator = await as_role("operator")
    r = await operator.post("/api/v1/backups", json={"targets": {"groups": ["lab"]}})
    assert r.status_code == 201, r.text


@pytest.fixture
def keep_raw_on(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """``[masking] keep_raw`` on for the workers started after this fixture."""
    monkeypatch.setattr(settings.masking, "keep_raw", True)


async def test_secrets_are_masked_and_raw_text_is_admin_only(
    keep_raw_on: None,
    client: httpx.AsyncClient,
    as_role: Any,
    fleet: list[str],
    running: EmbeddedRuntime,
    store: SqlStore,
) -> None:
    ios = fleet[0]
    community = "Wombat-Community-4410"
    r = await client.post(
        "/api/v1/jobs",
        json={"targets": {"devices": [ios]}, "config": [f"snmp-server community {community} RO"]},
    )
    assert (await wait_finished(client, r.json()["id"], timeout=60))["state"] == "succeeded"
    job = await _backup(client, devices=[ios])
    assert job["state"] == "succeeded", job
    masked = (await client.get(f"/api/v1/devices/{ios}/configs/latest")).json()["text"]
    assert "snmp-server community" in masked
    assert community not in masked
    raw = await client.get(f"/api/v1/devices/{ios}/configs/latest", params={"raw": "true"})
    assert raw.status_code == 200
    assert f"snmp-server community {community} RO" in raw.json()["text"]
    viewer = await as_role("viewer")
    refused = await viewer.get(f"/api/v1/devices/{ios}/configs/latest", params={"raw": "true"})
    assert refused.status_code == 403
    found = (await client.get("/api/v1/configs/search", params={"q": community})).json()
    assert found["items"] == []
    rows = await store.db.run(
        lambda c: c.execute(sa.select(config_versions.c.blob, config_versions.c.raw_enc)).all(),
        write=False,
    )
    [(blob, raw_enc)] = rows
    assert community not in unpack(blob)
    assert raw_enc
    assert community not in raw_enc


def _ios(hostname: str, extra: str = "") -> str:
    return f"!\nhostname {hostname}\n{extra}!\nend\n"


def _git_log(directory: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(directory), "log", *args],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "HOME": str(directory), "GIT_CONFIG_NOSYSTEM": "1"},
    )
    return done.stdout


async def test_export_git_writes_the_history_and_then_only_what_is_new(
    client: httpx.AsyncClient,
    as_role: Any,
    store: SqlStore,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    r = await client.post("/api/v1/backups/export-git")
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "[backup] git_dir" in r.json()["detail"]

    repo = tmp_path / "configs.git"
    monkeypatch.setattr(settings.backup, "git_dir", repo)
    operator = await as_role("operator")
    assert (await operator.post("/api/v1/backups/export-git")).status_code == 403

    for text in (_ios("r1"), _ios("r1", "ntp server 192.0.2.1\n")):
        await store.configs.record("r1", prepare_config(text, "cisco_ios"), platform="cisco_ios")
    await store.configs.record("r2", prepare_config(_ios("r2"), "cisco_ios"), platform="cisco_ios")

    r = await client.post("/api/v1/backups/export-git")
    assert r.status_code == 200, r.text
    assert r.json() == {"git_dir": str(repo), "devices": 2, "commits": 3}
    log = _git_log(repo, "--format=%an|%s", "--", "r1")
    assert log.splitlines() == [
        "netfleet backup|r1: configuration version 2",
        "netfleet backup|r1: configuration version 1",
    ]
    assert "+ntp server 192.0.2.1" in _git_log(repo, "-p", "-1", "--", "r1")
    assert (repo / "r2").read_text() == _ios("r2")

    again = await client.post("/api/v1/backups/export-git")
    assert again.json()["commits"] == 0
    await store.configs.record(
        "r2",
        prepare_config(_ios("r2", "ntp server 192.0.2.2\n"), "cisco_ios"),
        platform="cisco_ios",
    )
    third = await client.post("/api/v1/backups/export-git")
    assert third.json()["commits"] == 1
    assert len(_git_log(repo, "--format=%H").splitlines()) == 4
