"""Store contracts of hardening (SQLite and PostgreSQL): raw outputs kept encrypted and
deleted with their job, dashboard sessions, durable token revocation, audit pruning."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from netfleet.core.errors import Conflict
from netfleet.core.models import CommandResult
from netfleet.store import SqlStore
from netfleet.store.records import TaskOutcome
from netfleet.store.schema_hardening import dashboard_sessions, task_raw_outputs
from tests.support.store import add_devices, commands

SECRET = "Kiwi-Key-9911-w"


async def test_raw_outputs_are_encrypted_and_go_with_their_job(store: SqlStore) -> None:
    await add_devices(store, "r1")
    job = await store.jobs.submit(commands("r1"))
    (task,) = await store.claims.claim("w1", 1, lease_s=30)
    outcome = TaskOutcome(
        status="succeeded",
        outputs=[
            CommandResult(
                "show run", output="key-string ******", raw_output=f"key-string {SECRET}"
            ),
            CommandResult("show clock", output="12:00"),  # nothing masked: nothing kept
        ],
    )
    await store.completions.complete(task.task_id, "w1", task.attempt, outcome)
    rows = await store.db.run(
        lambda c: c.execute(sa.select(task_raw_outputs.c.output_enc)).scalars().all(),
        what="read raw rows",
    )
    assert len(rows) == 1
    assert SECRET not in rows[0]  # encrypted at rest
    items = await store.raw_outputs.read(task.task_id)
    assert [(i.command, i.output, i.raw) for i in items] == [
        ("show run", f"key-string {SECRET}", True),
        ("show clock", "12:00", False),
    ]
    stored = await store.jobs.get(job.id)
    assert stored.tasks is not None
    assert SECRET not in repr(stored)  # the job's own outputs are the masked ones
    await store.jobs.delete(job.id)
    left = await store.db.run(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(task_raw_outputs)).scalar(),
        what="count raw rows",
    )
    assert left == 0


async def test_sessions_end_with_revocation_and_logout(store: SqlStore) -> None:
    admin, _ = await store.tokens.create("boss", "admin")
    viewer, _ = await store.tokens.create("v", "viewer")
    one = await store.sessions.create(viewer.id, lifetime_s=3600)
    two = await store.sessions.create(viewer.id, lifetime_s=3600)
    mine = await store.sessions.create(admin.id, lifetime_s=3600)
    found = await store.sessions.find(one, idle_s=600)
    assert found is not None
    assert (found.name, found.role) == ("v", "viewer")
    assert await store.sessions.find("x" * 500, idle_s=600) is None
    assert await store.sessions.find(one[:-1], idle_s=600) is None
    assert await store.sessions.end(two)
    assert await store.sessions.find(two, idle_s=600) is None
    await store.tokens.revoke("v")
    assert await store.sessions.find(one, idle_s=600) is None
    assert await store.sessions.count_for(viewer.id) == 0
    assert await store.sessions.find(mine, idle_s=600) is not None
    # Ended by time: expired and idle ones are pruned, live ones stay.
    expired = await store.sessions.create(admin.id, lifetime_s=0.000001)
    now = await store.now()
    await store.db.run(
        lambda c: c.execute(
            dashboard_sessions.update()
            .where(dashboard_sessions.c.expires_at > now + 1)
            .values(last_seen_at=now - 10)
        ),
        what="idle",
    )
    assert await store.sessions.prune(idle_s=5) == 2  # the idle one and the expired one
    assert await store.sessions.find(expired, idle_s=600) is None


async def test_revocation_holds_for_the_same_token(store: SqlStore) -> None:
    token = "nf_a-preset-token-of-enough-length-000"
    await store.tokens.create("other-admin", "admin")
    assert await store.tokens.ensure("admin", "admin", token) is not None
    await store.tokens.revoke("admin")
    assert await store.tokens.ensure("admin", "admin", token) is None
    assert await store.tokens.verify(token) is None
    with pytest.raises(Conflict, match="revoked before"):
        await store.tokens.create("again", "viewer", token=token)
    with pytest.raises(Conflict, match="last admin token"):
        await store.tokens.revoke("other-admin")
    again = await store.tokens.revoke("admin")  # revoking twice is harmless
    assert again.revoked_at is not None
