"""The Python API's safe-change methods (approve, reject, resume, gate, windows), on
SQLite and PostgreSQL, mirroring ``/api/v1/jobs/{id}/approve|reject|resume|gate``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from netfleet.client import Netfleet
from netfleet.core.errors import Conflict, Forbidden, NotFound, ValidationError
from netfleet.core.settings import Settings
from netfleet.store.records import TaskOutcome
from tests.support.store import KEY

FLEET = "devices:\n" + "".join(
    f"  - {{name: e{i}, host: 127.0.0.1, port: {2300 + i}, platform: cisco_ios, "
    f"username: admin, password: pw, groups: [edge]}}\n"
    for i in range(4)
)
BAD = TaskOutcome("failed", error="line rejected", error_kind="config_rejected")


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    return path


def approvals() -> Settings:
    return Settings.model_validate({"changes": {"require_approval": True}})


async def test_approve_reject_and_the_audit_log(store_url: str, fleet_file: Path) -> None:
    async with Netfleet(store_url, secret_key=KEY, settings=approvals()) as nf:
        await nf.import_inventory(fleet_file)
        job = await nf.submit(devices=["e0"], config=["ntp server 192.0.2.1"], submitted_by="ann")
        assert job.state == "awaiting_approval"
        assert (await nf.gate(job.id)).state == "awaiting_approval"
        assert [g.job_id for g in await nf.gates(state="awaiting_approval")] == [job.id]
        with pytest.raises(Forbidden, match="another admin must approve"):
            await nf.approve(job.id, by="ann")
        with pytest.raises(ValidationError, match="by: name the admin"):
            await nf.approve(job.id, by=" ")
        gate = await nf.approve(job.id, by="bob")
        assert (gate.state, gate.decision, gate.decided_by) == ("released", "approved", "bob")
        assert (await nf.get(job.id)).state == "queued"

        other = await nf.submit(devices=["e1"], config=["ntp server 192.0.2.1"], submitted_by="ann")
        gate = await nf.reject(other.id, by="bob", reason="change freeze")
        assert gate.state == "rejected"
        assert gate.reason == "rejected by bob: change freeze"
        assert (await nf.get(other.id)).state == "cancelled"
        with pytest.raises(Conflict, match="not awaiting approval"):
            await nf.approve(other.id, by="carl")

        entries = await nf.store.audit.list()
        decisions = [(e.actor, e.path, (e.detail or {}).get("decision")) for e in entries]
        assert ("bob", f"python:/jobs/{other.id}/reject", "reject") in decisions
        assert ("bob", f"python:/jobs/{job.id}/approve", "approve") in decisions
        assert not any(a == "ann" for a, _, _ in decisions)  # refused: nothing recorded

        commands = await nf.submit(devices=["e0"], commands=["show clock"])
        with pytest.raises(NotFound, match="has no approval, change window or rollout"):
            await nf.gate(commands.id)


async def test_resume_a_halted_rollout(store_url: str, fleet_file: Path) -> None:
    async with Netfleet(store_url, secret_key=KEY) as nf:
        await nf.import_inventory(fleet_file)
        rollout = {"canary": 1, "batches": ["100%"], "max_failures": 0}
        job = await nf.submit(groups=["edge"], config=["ntp server 192.0.2.1"], rollout=rollout)
        (canary,) = await nf.store.claims.claim("w1", 10, lease_s=30)
        await nf.store.completions.complete(canary.task_id, "w1", canary.attempt, BAD)
        halted = await nf.gate(job.id)
        assert halted.state == "halted"
        assert (await nf.get(job.id)).state == "halted"
        assert await nf.store.claims.claim("w1", 10, lease_s=30) == []
        gate = await nf.resume(job.id, by="bob")
        assert gate.state == "rolling"
        assert len(await nf.store.claims.claim("w1", 10, lease_s=30)) == 3
        with pytest.raises(Conflict):
            await nf.resume(job.id, by="bob")


async def test_windows_through_the_python_api(store_url: str) -> None:
    async with Netfleet(store_url, secret_key=KEY) as nf:
        record = await nf.put_window(
            {"name": "freeze", "kind": "blackout", "start": "2026-12-20T00:00:00Z",
             "end": "2027-01-04T00:00:00Z"}
        )  # fmt: skip
        assert record.spec.kind == "blackout"
        assert [w.spec.name for w in await nf.windows()] == ["freeze"]
        inside = await nf.verdict(datetime(2026, 12, 25, tzinfo=UTC))
        assert not inside.allowed
        assert "inside blackout window 'freeze'" in inside.reason
        assert (await nf.verdict(datetime(2027, 1, 5, tzinfo=UTC))).allowed
        with pytest.raises(
            ValidationError, match=r"change window: .someday.: expected .DAY HH:MM-DAY HH:MM."
        ):
            await nf.put_window({"name": "bad", "weekly": "someday"})
        await nf.delete_window("freeze")
        assert await nf.windows() == []
        with pytest.raises(ValidationError, match=r"change window: timezone: .*Mars/Olympus"):
            await nf.put_window(
                {"name": "bad", "weekly": "01:00-02:00", "timezone": "Mars/Olympus"}
            )
