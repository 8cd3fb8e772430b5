"""Backups notify: a backup that finds a changed configuration (on the simulator, over
SSH, with the embedded workers) is delivered as ``config.changed`` to a real webhook
receiver on loopback, signed, once; an unchanged backup sends nothing."""

from __future__ import annotations

from typing import Any

import httpx

from netfleet.api.runtime import EmbeddedRuntime
from netfleet.store import SqlStore
from tests.support.api import wait_finished
from tests.support.receivers import Receiver, webhook_receiver
from tests.support.worker import eventually

SECRET = "whsec-backup-3f9a7c"


async def _backup(client: httpx.AsyncClient, device: str) -> dict[str, Any]:
    r = await client.post("/api/v1/backups", json={"targets": {"devices": [device]}})
    assert r.status_code == 201, r.text
    job: dict[str, Any] = await wait_finished(client, r.json()["id"], timeout=60)
    assert job["state"] == "succeeded", job
    return job


def _bodies(rx: Receiver) -> list[dict[str, Any]]:
    with rx.lock:
        return list(rx.effects.values())


async def test_a_changed_backup_is_delivered_to_a_webhook(
    client: httpx.AsyncClient, fleet: list[str], running: EmbeddedRuntime, store: SqlStore
) -> None:
    device = fleet[0]
    with webhook_receiver(SECRET) as rx:
        r = await client.post(
            "/api/v1/notifications",
            json={"name": "changes", "kind": "webhook", "url": rx.url, "secret": SECRET,
                  "events": ["config.changed"], "groups": ["lab"]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        await _backup(client, device)  # the first version
        await _backup(client, device)  # unchanged
        r = await client.post(
            "/api/v1/jobs",
            json={"targets": {"devices": [device]},
                  "config": ["interface Loopback91", " description notified-change"]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert (await wait_finished(client, r.json()["id"], timeout=60))["state"] == "succeeded"
        changed = await _backup(client, device)

        async def arrived() -> bool:
            return any(b["type"] == "config.changed" for b in _bodies(rx))

        await eventually(arrived, timeout=60, what="the config.changed delivery")

        async def drained() -> bool:
            backlog = await store.notifications.backlog()
            return backlog["events_pending"] == 0 and backlog["pending"] == 0

        await eventually(drained, timeout=60, what="the outbox drained")
        (event,) = [b for b in _bodies(rx) if b["type"] == "config.changed"]
        assert event["device"] == device
        assert event["job_id"] == changed["id"]
        assert event["version"] == 2
        assert "+interface Loopback91" in event["diff"]
        assert event["rule"] == "changes"
        assert all(rx.verified)
        assert {b["type"] for b in _bodies(rx)} == {"config.changed"}
