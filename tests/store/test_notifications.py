"""Contract: the notification outbox is written by the store's own transactions
(job.finished, task.failed, worker.down, dotted task events), rules keep their secrets
write-only, and the delivery queue is fenced, leased and unique per (rule, event)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from netfleet.core.models import CommandResult
from netfleet.store import SqlStore
from netfleet.store.records import NewEvent, TaskOutcome
from netfleet.store.records_integrations import (
    ClaimedDelivery,
    NewRule,
    OutboxEvent,
    RuleRecord,
)
from netfleet.store.schema_integrations import (
    notification_deliveries,
    notification_rules,
    notify_events,
)
from netfleet.store.sql import completions, outbox
from netfleet.store.sql.outbox import BATCH_KEY
from tests.support.store import add_devices, commands
from tests.support.worker import eventually

OK = TaskOutcome("succeeded", [CommandResult("show version", "ok")])
BAD = TaskOutcome("failed", [], error="auth refused", error_kind="auth_failed", retryable=False)
SECRET = "hook-secret-never-shown-5b1c"


def _all(rules: Sequence[RuleRecord], event: OutboxEvent) -> list[int]:
    return [r.id for r in rules]


async def _events(store: SqlStore) -> list[dict[str, object]]:
    def op(conn: sa.Connection) -> list[dict[str, object]]:
        rows = conn.execute(sa.select(notify_events.c.payload).order_by(notify_events.c.id))
        return [dict(r.payload) for r in rows]

    return await store.db.run(op, write=False)


def _rule(name: str, *events: str, enabled: bool = True) -> NewRule:
    return NewRule(name, "webhook", {"events": list(events)}, {"url": "http://x/"}, SECRET,
                   enabled=enabled)  # fmt: skip


async def test_job_and_task_outcomes_reach_the_outbox(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2", groups=("core",))
    await store.notifications.create(_rule("ops", "task.failed", "job.partial"))
    job = await store.jobs.submit(commands("r1", "r2", max_attempts=1))
    tasks = await store.claims.claim("w1", 10, lease_s=30)
    by_device = {t.device.name: t for t in tasks}
    await store.completions.complete(by_device["r1"].task_id, "w1", 1, OK)
    assert await _events(store) == []  # nothing finished yet
    await store.completions.complete(by_device["r2"].task_id, "w1", 1, BAD)
    # the completion writes one row of ids for all its failures and one of the job's
    # ids and counts; fan-out makes one event per task and adds the names
    raw = {e["type"]: e for e in await _events(store)}
    assert raw["task.failed"][BATCH_KEY] == [
        [job.id, by_device["r2"].task_id, "auth_failed", "auth refused"]
    ]
    assert "job_name" not in raw["job.finished"]
    assert "devices" not in raw["job.finished"]
    assert await store.notifications.fan_out(_all) == (2, 2)
    events = [e for e in await _events(store) if BATCH_KEY not in e]
    by_type = {e["type"]: e for e in events}
    assert len(events) == 2
    failed, finished = by_type["task.failed"], by_type["job.finished"]
    assert failed["device"] == "r2"
    assert failed["error_kind"] == "auth_failed"
    assert failed["groups"] == ["core"]
    assert finished["status"] == "partial"
    assert finished["job_id"] == job.id
    assert finished["devices"] == ["r2"]
    assert finished["counts"] == {"total": 2, "succeeded": 1, "failed": 1, "cancelled": 0}
    assert finished["message"] == "1 of 2 task(s) failed"
    assert finished["job_kind"] == "commands"
    assert finished["groups"] == []
    assert finished["schedule"] is None
    assert "job_name" in finished
    assert all(not k.startswith("_") for k in finished)


async def test_completions_write_no_event_that_no_rule_names(
    store: SqlStore, other_store: SqlStore
) -> None:
    names = [f"r{i}" for i in range(6)]
    await add_devices(store, *names)
    await store.notifications.create(_rule("off", "task.failed", "job.failed", enabled=False))
    await store.notifications.create(_rule("ok", "job.succeeded"))
    await store.jobs.submit(commands(*names, max_attempts=1))
    tasks = await store.claims.claim("w1", 6, lease_s=30)
    await store.completions.complete_many("w1", [(t.task_id, 1, BAD) for t in tasks[:2]])
    assert await _events(store) == []  # no enabled rule names task.failed
    # a rule made by another process counts from the next completion on
    await other_store.notifications.create(_rule("ops", "task.failed"))
    await store.completions.complete_many("w1", [(t.task_id, 1, BAD) for t in tasks[2:4]])
    (row,) = await _events(store)
    assert [f[1] for f in row[BATCH_KEY]] == [t.task_id for t in tasks[2:4]]
    await other_store.notifications.delete("ops")
    await store.completions.complete_many("w1", [(t.task_id, 1, BAD) for t in tasks[4:]])
    assert len(await _events(store)) == 1  # neither the failures nor job.failed
    assert (await store.jobs.get(tasks[0].job_id)).state == "failed"


def test_the_rule_column_and_the_fenced_query_are_built_once() -> None:
    # building the column's expression cost milliseconds per completion; the database
    # still evaluates it in each completion (the test above: rules made meanwhile count)
    assert outbox.rule_checks() is outbox.rule_checks()
    for postgres in (False, True):
        first = completions._fenced(postgres, tuple(outbox.rule_checks()))
        assert completions._fenced(postgres, tuple(outbox.rule_checks())) is first


async def test_reaped_tasks_notify_only_rules_that_name_them(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2")
    await store.notifications.create(_rule("ok", "job.succeeded"))
    await store.jobs.submit(commands("r1", max_attempts=1))
    await store.claims.claim("w1", 1, lease_s=-1)  # lease already expired
    assert len((await store.claims.reap()).failed) == 1
    assert await _events(store) == []  # neither task.failed nor job.failed is named
    await store.notifications.create(_rule("ops", "task.failed", "job.failed"))
    job = await store.jobs.submit(commands("r2", max_attempts=1))
    await store.claims.claim("w1", 1, lease_s=-1)
    assert len((await store.claims.reap()).failed) == 1
    raw = {e["type"]: e for e in await _events(store)}
    (failure,) = raw["task.failed"][BATCH_KEY]
    assert failure[0] == job.id
    assert failure[2] == "lease_lost"
    assert raw["job.finished"]["status"] == "failed"
    assert await store.notifications.fan_out(_all) == (2, 4)


async def test_a_completion_of_many_failures_writes_one_outbox_row(store: SqlStore) -> None:
    names = [f"r{i}" for i in range(30)]
    await add_devices(store, *names, groups=("core",))
    rule = await store.notifications.create(_rule("ops", "task.failed"))
    await store.jobs.submit(commands(*names, max_attempts=1))
    tasks = await store.claims.claim("w1", 30, lease_s=30)
    await store.completions.complete_many("w1", [(t.task_id, 1, BAD) for t in tasks[:20]])
    (row,) = await _events(store)  # one row for the 20 failures
    assert len(row[BATCH_KEY]) == 20
    assert await store.notifications.fan_out(_all) == (20, 20)
    assert await store.notifications.fan_out(_all) == (0, 0)  # fanned out once
    d = notification_deliveries

    def read(conn: sa.Connection) -> list[tuple[str, dict[str, object]]]:
        rows = conn.execute(sa.select(d.c.delivery_key, d.c.payload).where(d.c.rule_id == rule.id))
        return [(r.delivery_key, dict(r.payload)) for r in rows]

    deliveries = await store.db.run(read, write=False)
    assert sorted(str(p["device"]) for _, p in deliveries) == sorted(
        t.device.name for t in tasks[:20]
    )
    assert {p["error_kind"] for _, p in deliveries} == {"auth_failed"}
    assert {p["message"] for _, p in deliveries} == {"auth refused"}
    assert {p["groups"] == ["core"] for _, p in deliveries} == {True}
    assert len({key for key, _ in deliveries}) == 20
    assert all(BATCH_KEY not in p for _, p in deliveries)


async def test_dotted_worker_events_flow_generically(store: SqlStore) -> None:
    await add_devices(store, "r1")
    await store.jobs.submit(commands("r1"))
    (task,) = await store.claims.claim("w1", 1, lease_s=30)
    await store.completions.record_events(
        "w1",
        [
            NewEvent(task.task_id, "command", "show run"),
            NewEvent(task.task_id, "config.changed", "changed", {"device": "r1", "diff": "+x"}),
        ],
    )
    (event,) = await _events(store)
    assert event["type"] == "config.changed"
    assert event["device"] == "r1"
    assert event["diff"] == "+x"


async def test_rule_secrets_are_write_only_and_encrypted(store: SqlStore) -> None:
    rule = NewRule("ops", "webhook", {"events": ["job.failed"]}, {"url": "http://x/"}, SECRET)
    record = await store.notifications.create(rule)
    assert record.has_secret
    assert SECRET not in repr(record)

    def raw(conn: sa.Connection) -> str:
        return str(conn.execute(sa.select(notification_rules.c.secret_enc)).scalar_one())

    assert SECRET not in await store.db.run(raw, write=False)
    await store.notifications.emit("job.finished", {"status": "failed"})
    assert await store.notifications.fan_out(_all) == (1, 1)
    (claimed,) = await store.notifications.claim("n1", lease_s=30, limit=5)
    assert claimed.secret == SECRET
    assert SECRET not in repr(claimed)


async def test_queue_is_unique_leased_and_fenced(store: SqlStore, other_store: SqlStore) -> None:
    await store.notifications.create(
        NewRule("a", "webhook", {"events": ["job.failed"]}, {"url": "http://x/"}, SECRET)
    )
    await store.notifications.emit("job.finished", {"status": "failed"})
    assert await store.notifications.fan_out(_all) == (1, 1)
    assert await other_store.notifications.fan_out(_all) == (0, 0)  # fanned out once
    (first,) = await store.notifications.claim("n1", lease_s=0.2, limit=5)
    assert await other_store.notifications.claim("n2", lease_s=30, limit=5) == []
    # The lease runs out (the sender died): another takes over with the same key.
    taken: list[ClaimedDelivery] = []

    async def expired() -> bool:
        taken.extend(await other_store.notifications.claim("n2", lease_s=30, limit=5))
        return bool(taken)

    await eventually(expired, timeout=30, what="the lease to run out")
    (second,) = taken
    assert second.delivery_key == first.delivery_key
    assert second.attempt == 2
    late = await store.notifications.finish(
        first, owner="n1", outcome="delivered", status=200, reason="", duration_ms=1,
        retry_in_s=None,
    )  # fmt: skip
    assert late is False  # fenced out
    assert await other_store.notifications.finish(
        second, owner="n2", outcome="retryable", status=500, reason="HTTP 500", duration_ms=1,
        retry_in_s=3600,
    )  # fmt: skip
    (delivery,) = await store.notifications.deliveries()
    assert delivery.state == "pending"
    assert delivery.last_error == "HTTP 500"
    assert await store.notifications.claim("n1", lease_s=30, limit=5) == []  # backing off
    (line,) = await store.notifications.log(delivery.rule_id)
    assert (line.attempt, line.outcome, line.status) == (2, "retryable", 500)


async def test_worker_down_once_per_silence(store: SqlStore) -> None:
    await store.workers.register("w-dead", hostname="host", pid=1, concurrency=10)
    await store.workers.register("w-stopped", hostname="host", pid=2, concurrency=10)
    await store.workers.heartbeat("w-stopped", state="stopped")
    assert await store.notifications.detect_workers_down(3600) == 0  # not silent for long
    assert await store.notifications.detect_workers_down(0.0) == 1  # a clean stop is not down
    assert await store.notifications.detect_workers_down(0.0) == 0  # once per silence
    await store.workers.heartbeat("w-dead")  # back, then silent again: a new event
    assert await store.notifications.detect_workers_down(0.0) == 1
    events = await _events(store)
    assert [(e["type"], e["worker"]) for e in events] == [("worker.down", "w-dead")] * 2


async def test_a_changed_backup_reaches_the_outbox_as_config_changed(store: SqlStore) -> None:
    from netfleet.configs.sanity import prepare_config

    await add_devices(store, "r1", groups=("core",))
    await store.jobs.submit(commands("r1"))
    (task,) = await store.claims.claim("w1", 1, lease_s=30)

    async def backup(location: str) -> None:
        text = f"hostname r1\n!\nsnmp-server location {location}\nend\n"
        await store.configs.record(
            "r1",
            prepare_config(text, "cisco_ios", device="r1"),
            platform="cisco_ios",
            task_id=task.task_id,
            worker_id="w1",
            groups=["core"],
        )

    await backup("rack-1")  # a first version: nothing changed
    await backup("rack-1")  # unchanged
    assert await _events(store) == []
    await backup("rack-2")
    (event,) = await _events(store)
    assert event["type"] == "config.changed"
    assert event["device"] == "r1"
    assert event["groups"] == ["core"]
    assert "+snmp-server location rack-2" in str(event["diff"])


async def test_gate_events_reach_the_outbox_exactly_once(store: SqlStore) -> None:
    from netfleet.jobs.gates import ChangePolicy
    from netfleet.jobs.model import JobSpec

    def change(*devices: str, **options: object) -> JobSpec:
        return JobSpec.model_validate(
            {"targets": {"devices": list(devices)}, "config": ["ntp server 192.0.2.1"],
             "options": options}
        )  # fmt: skip

    await add_devices(store, "c1", "c2", "c3", "c4", groups=("core",))
    store.changes.policy = ChangePolicy(require_approval=True)
    asked = await store.jobs.submit(change("c1"), submitted_by="admin-a")
    assert asked.state == "awaiting_approval"
    store.changes.policy = ChangePolicy()
    rollout = {"canary": 1, "batches": ["100%"], "max_failures": 0}
    job = await store.jobs.submit(change("c2", "c3", "c4", rollout=rollout))
    (canary,) = await store.claims.claim("w1", 10, lease_s=30)
    failed = TaskOutcome("failed", error="line rejected", error_kind="config_rejected")
    await store.completions.complete(canary.task_id, "w1", canary.attempt, failed)
    assert (await store.jobs.get(job.id, tasks=False)).state == "halted"
    assert await store.claims.claim("w1", 10, lease_s=30) == []  # nothing released
    types = [e["type"] for e in await _events(store)]
    assert types.count("approval.requested") == 1
    assert types.count("rollout.halted") == 1
    (halted,) = [e for e in await _events(store) if e["type"] == "rollout.halted"]
    assert halted["job_id"] == job.id


async def test_backup_stale_once_per_device_and_episode(store: SqlStore) -> None:
    from netfleet.configs.sanity import prepare_config

    await add_devices(store, "r1", "r2", "r3", groups=("core",))

    async def good(device: str, n: int) -> None:
        text = f"hostname {device}\n!\nsnmp-server location rack-{n}\nend\n"
        prepared = prepare_config(text, "cisco_ios", device=device)
        await store.configs.record(device, prepared, platform="cisco_ios")

    async def stale_events() -> list[dict[str, object]]:
        return [e for e in await _events(store) if e["type"] == "backup.stale"]

    await good("r1", 1)
    await good("r2", 1)  # r3 was never backed up: not stale, "never"
    assert await store.notifications.detect_backups_stale(3600.0) == 0
    assert await store.notifications.detect_backups_stale(0.0) == 2
    assert await store.notifications.detect_backups_stale(0.0) == 0  # same episode
    await store.configs.record_failure("r1", "timed out")
    assert await store.notifications.detect_backups_stale(0.0) == 0  # still the same one
    first = await stale_events()
    assert sorted(str(e["device"]) for e in first) == ["r1", "r2"]
    assert all(e["groups"] == ["core"] for e in first)
    assert "last good backup" in str(first[0]["message"])

    await good("r1", 2)  # a good backup ends r1's episode; r2's goes on
    assert await store.notifications.detect_backups_stale(3600.0) == 0
    assert await store.notifications.detect_backups_stale(0.0) == 1
    assert [e["device"] for e in await stale_events()] == ["r1", "r2", "r1"]
