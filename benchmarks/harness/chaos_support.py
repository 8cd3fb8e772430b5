"""Pieces of the chaos suite: the simulator's control API, what the store counts, the
waits on conditions (workers beating, tasks terminal, counts exact; each bounded), the
workers' fence counters and the printed report."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa

from netfleet.core.errors import NetfleetError
from netfleet.store import SqlStore

TERMINAL = ("succeeded", "failed", "cancelled")


class Sim(Protocol):
    control: int

    def get(self, path: str) -> Any: ...


def post_json(sim: Sim, path: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(
        f"http://127.0.0.1:{sim.control}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30):
        pass


def delete(sim: Sim, path: str) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{sim.control}{path}", method="DELETE")
    with urllib.request.urlopen(req, timeout=30):
        pass


def device_stats(sim: Sim) -> dict[str, dict[str, Any]]:
    data = sim.get("/devices")
    devices = data["devices"] if isinstance(data, dict) else data
    return {d["name"]: d for d in devices}


async def counted(store: SqlStore) -> dict[str, int]:
    """Sessions the store counts per device (``device_slots.running``)."""

    def op(conn: sa.Connection) -> dict[str, int]:
        rows = conn.execute(
            sa.text(
                "SELECT d.name, s.running FROM device_slots s JOIN devices d ON d.id = s.device_id"
            )
        ).all()
        return {str(n): int(r) for n, r in rows}

    return await store.db.run(op, write=False)


async def task_states(store: SqlStore, job_ids: list[int]) -> list[tuple[int, str, str | None]]:
    """(job id, state, error kind) of every task of ``job_ids``."""
    if not job_ids:
        return []

    def op(conn: sa.Connection) -> list[tuple[int, str, str | None]]:
        rows = conn.execute(
            sa.text("SELECT job_id, state, error_kind FROM tasks WHERE job_id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": job_ids},
        ).all()
        return [(int(j), str(s), k) for j, s, k in rows]

    return await store.db.run(op, write=False)


async def workers_beating(
    store: SqlStore, live: Callable[[], set[str]], *, fresh_s: float, timeout: float
) -> float:
    """Wait until every worker that ``live()`` names (asked again at each poll: workers
    still stopping drop out) runs and has heartbeated within ``fresh_s`` (by the
    store's clock); returns the seconds waited. Worker start-up (imports, the first
    connection) takes tens of seconds on a loaded machine: this waits for it instead
    of guessing. ``SystemExit`` after ``timeout``."""
    start = time.monotonic()
    while True:
        ids = live()
        try:
            now = await store.now()
            beating = {
                w.id
                for w in await store.workers.list()
                if w.state == "running" and now - w.heartbeat_at <= fresh_s
            }
            if ids <= beating:
                return time.monotonic() - start
        except NetfleetError:
            pass  # the database restarting: keep waiting
        if time.monotonic() - start > timeout:
            raise SystemExit(f"workers {sorted(ids)} not all beating within {timeout:.0f} s")
        await asyncio.sleep(0.2)


async def until_terminal(
    store: SqlStore, job_ids: list[int], expected: int, *, timeout: float
) -> tuple[list[tuple[int, str, str | None]], float]:
    """Wait until all ``expected`` tasks of ``job_ids`` are terminal, or ``timeout``;
    returns the last states read and the seconds waited."""
    start = time.monotonic()
    states: list[tuple[int, str, str | None]] = []
    while True:
        try:
            states = await task_states(store, job_ids)
        except NetfleetError:
            states = states or []
        else:
            if len(states) >= expected and all(s in TERMINAL for _, s, _ in states):
                break
        if time.monotonic() - start > timeout:
            break
        await asyncio.sleep(0.5)
    return states, time.monotonic() - start


async def exact_counts(
    store: SqlStore, sim: Sim, names: list[str], *, timeout: float
) -> tuple[int, int]:
    """Wait until the store counts per device what the devices have open; returns
    (phantom: counted but not open, uncounted: open but not counted) at the end."""
    end = time.monotonic() + timeout
    while True:
        store_count = await counted(store)
        at_device = await asyncio.to_thread(device_stats, sim)
        opened = {n: int(at_device[n]["sessions_open"]) for n in names}
        phantom = sum(max(0, store_count.get(n, 0) - opened[n]) for n in names)
        missing = sum(max(0, opened[n] - store_count.get(n, 0)) for n in names)
        if (not phantom and not missing) or time.monotonic() > end:
            return phantom, missing
        await asyncio.sleep(0.5)


def verdicts(r: dict[str, Any]) -> int:
    """Violations of a promise in one backend's result (the exit status counts them)."""
    keys = ("lost", "stuck", "duplicates", "limit_violations", "phantom_holds")
    return sum(int(r[k]) for k in keys)


async def fence_counts(store: Any) -> str:
    """The workers' lease fences as of their last heartbeat: attempts stopped, and fences
    that ran past their margin (the store could already have freed the slot or hold:
    the process was paused or starved of CPU; see docs/guarantees.md)."""
    fenced = late = 0
    late_max = lag = 0.0
    for w in await store.workers.list():
        fenced += int(w.stats.get("fenced", 0))
        late += int(w.stats.get("fenced_late", 0))
        late_max = max(late_max, float(w.stats.get("fence_late_max_s", 0.0)))
        lag = max(lag, float(w.stats.get("loop_lag_max_s", 0.0)))
    return (
        f"{fenced} attempts fenced, {late} fences past the margin (latest {late_max:.1f} s), "
        f"longest event-loop lag {lag:.1f} s"
    )


def report(results: list[dict[str, Any]]) -> int:
    """Print the results table and the details per backend; the exit status (1: any
    promise violated)."""
    print("\n| backend | tasks | succeeded | lost | stuck | config run twice | over limit | "
          "phantom holds | uncounted | rate (tasks/s) | success ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    bad = 0
    for r in results:
        rate = r["tasks"] / r["elapsed_s"] if r["elapsed_s"] else 0.0
        print(
            f"| {r['backend']} | {r['tasks']} | {r['succeeded']} | {r['lost']} | {r['stuck']} | "
            f"{r['duplicates']} | {r['limit_violations']} | {r['phantom_holds']} | "
            f"{r['uncounted_sessions']} | {rate:.1f} | {r['succeeded'] / max(1, r['tasks']):.2f} |"
        )
        bad += verdicts(r)
    for r in results:
        print(f"\n{r['backend']}: actions {r['actions']}, workers started {r['workers_started']} "
              f"(registered {r['workers_registered']}, at most {r['most_alive']} alive), "
              f"failed by kind {r['failed_by_kind']}, chaos {r['chaos_s']:.0f} s, "
              f"total {r['elapsed_s']:.0f} s; waits: {r['waits']}")  # fmt: skip
        print(f"{r['backend']} fences: {r['fences']}")
    if bad:
        print(f"\nFAILED: {bad} promise violations (lost, stuck, run twice, over limit, phantom)")
    return 1 if bad else 0
