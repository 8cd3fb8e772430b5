"""Contract: the jobs that touched one device (``JobFilter(device=...)``, the dashboard's
"jobs on a device") read through ``ix_tasks_device_name_job_id`` (migration 0011) on
both backends, newest first, with paging and the other filters."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from netfleet.store import SqlStore
from netfleet.store.database import _MIGRATIONS
from netfleet.store.records import JobFilter
from netfleet.store.schema import jobs, tasks
from netfleet.store.sql import reads as reads_sql
from tests.support.store import add_devices, commands

INDEX = "ix_tasks_device_name_job_id"
SPEC = json.dumps({"targets": {"devices": ["x"]}, "commands": ["show clock"]})


async def test_jobs_on_a_device_page_newest_first_with_filters(store: SqlStore) -> None:
    await add_devices(store, "r1", "r2", "r3")
    ids = []
    for i in range(7):
        targets = ("r1", "r2") if i % 3 == 0 else ("r2",)
        ids.append((await store.jobs.submit(commands(*targets))).id)
    on_r1 = [ids[0], ids[3], ids[6]]
    first = await store.jobs.list(JobFilter(device="r1"), limit=2)
    assert [j.id for j in first.items] == [ids[6], ids[3]]
    rest = await store.jobs.list(JobFilter(device="r1"), limit=2, cursor=first.next_cursor)
    assert [j.id for j in rest.items] == [ids[0]]
    assert rest.next_cursor is None
    assert [j.id for j in (await store.jobs.list(JobFilter(device="r2"))).items] == ids[::-1]
    assert (await store.jobs.list(JobFilter(device="r3"))).items == ()
    await store.jobs.cancel(ids[3])
    cancelled = await store.jobs.list(JobFilter(device="r1", states=("cancelled",)))
    assert [j.id for j in cancelled.items] == [ids[3]]
    queued = await store.jobs.list(JobFilter(device="r1", states=("queued",)))
    assert sorted(j.id for j in queued.items) == sorted(set(on_r1) - {ids[3]})


class _Explain:
    """A connection that records the plan of each SELECT before running it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.plans: list[str] = []

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(statement, sa.Select):
            sql = statement.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if self.dialect.name == "sqlite" else "EXPLAIN "
            rows = self.conn.exec_driver_sql(prefix + str(sql))
            self.plans.append("\n".join(str(r[-1]) for r in rows))
        return self.conn.execute(statement, *args, **kwargs)


async def test_the_query_walks_the_device_index(store: SqlStore) -> None:
    """500 jobs of 40 tasks, the device in 3 of them: the plan starts from the index
    (no pass over every job, no scan of the tasks)."""

    def seed(conn: Connection) -> None:
        conn.execute(
            jobs.insert(),
            [
                {"id": j, "kind": "commands", "spec": SPEC, "state": "succeeded", "created_at": 0}
                for j in range(1, 501)
            ],
        )
        rows = [
            {"job_id": j, "device_name": f"d{(j * 40 + k) % 2000:04d}"}
            for j in range(1, 501)
            for k in range(40)
        ]
        rows += [{"job_id": j, "device_name": "rare"} for j in (7, 250, 499)]
        common = {"state": "succeeded", "max_attempts": 1, "run_at": 0, "created_at": 0}
        conn.execute(tasks.insert(), [{**common, **r} for r in rows])
        conn.execute(sa.text("ANALYZE"))

    await store.db.run(seed)

    def read(conn: Connection) -> tuple[list[int], list[str]]:
        spy = _Explain(conn)
        page = reads_sql.list_jobs(spy, store.db.specs, JobFilter(device="rare"), 50, None)  # type: ignore[arg-type]
        return [j.id for j in page.items], spy.plans

    found, (plan,) = await store.db.run(read, write=False)
    assert found == [499, 250, 7]
    assert INDEX in plan, plan
    if store.dialect == "sqlite":
        assert "SCAN jobs" not in plan, plan  # an EXISTS probe per job would scan them
    else:
        assert "Seq Scan on tasks" not in plan, plan


async def test_migration_0011_adds_and_removes_the_index(store: SqlStore) -> None:
    def indexes(conn: Connection) -> dict[str, list[str]]:
        found = sa.inspect(conn).get_indexes("tasks")
        return {str(i["name"]): [str(c) for c in i["column_names"]] for i in found}

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    before = ScriptDirectory.from_config(cfg).get_revision("0011").down_revision
    assert isinstance(before, str)

    def migrate(revision: str, *, down: bool) -> Any:
        def step(conn: Connection) -> None:
            if store.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7218463)"))
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)

        return step

    assert (await store.db.run(indexes, write=False))[INDEX] == ["device_name", "job_id"]
    declared = {str(i.name): [c.name for c in i.columns] for i in tasks.indexes}
    assert declared[INDEX] == ["device_name", "job_id"]  # fresh databases and migrations agree
    await store.db.run(migrate(before, down=True))
    try:
        assert INDEX not in await store.db.run(indexes, write=False)
    finally:
        await store.db.run(migrate("head", down=False))
    assert INDEX in await store.db.run(indexes, write=False)
