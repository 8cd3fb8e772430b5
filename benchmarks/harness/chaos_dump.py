"""What the chaos suite writes when settling or exactness fails: per device, the
simulator's open connections (the client's port, mapped to the worker process that owns
the socket), the store's slot count, holds and running tasks (by worker), each worker's
sockets and heartbeat stats, and the task state counts. Full JSON to a file; a summary
of the devices that disagree on stdout."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import psutil
import sqlalchemy as sa

from netfleet.store import SqlStore

STORE_QUERIES = {
    "slots": "SELECT d.name AS device, s.running, s.max_sessions, s.exclusive_held "
    "FROM device_slots s JOIN devices d ON d.id = s.device_id",
    "holds": "SELECT h.worker_id, d.name AS device, h.held, h.epoch, h.term, h.expires_at "
    "FROM session_holds h JOIN devices d ON d.id = h.device_id",
    "epochs": "SELECT worker_id, epoch, term, expires_at FROM hold_epochs",
    "running": "SELECT id, job_id, device_name AS device, state, attempt, lease_owner, "
    "lease_expires_at, exclusive FROM tasks WHERE state = 'running'",
    "states": "SELECT state, COUNT(*) AS n FROM tasks GROUP BY state",
    "unfinished": "SELECT state, lease_owner, attempt, COUNT(*) AS n, MIN(run_at) AS first_run_at, "
    "MAX(run_at) AS last_run_at FROM tasks WHERE state NOT IN ('succeeded', 'failed', "
    "'cancelled') GROUP BY state, lease_owner, attempt",
    "workers": "SELECT id, pid, state, heartbeat_at, stats FROM workers",
    "now": "SELECT CURRENT_TIMESTAMP AS now",
}


class Sim(Protocol):
    def get(self, path: str) -> Any: ...


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


async def store_state(store: SqlStore) -> dict[str, list[dict[str, Any]]]:
    """Every query of ``STORE_QUERIES``, rows as dicts (JSON-ready)."""

    def op(conn: sa.Connection) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for name, sql in STORE_QUERIES.items():
            rows = conn.execute(sa.text(sql)).mappings().all()
            out[name] = [{k: _plain(v) for k, v in r.items()} for r in rows]
        for w in out["workers"]:
            if isinstance(w.get("stats"), str):
                w["stats"] = json.loads(w["stats"])
        return out

    return await store.db.run(op, write=False)


def worker_sockets(pids: dict[int, str], device_ports: set[int]) -> dict[int, dict[str, Any]]:
    """TCP sockets of the worker processes to device ports, by the worker's local port."""
    out: dict[int, dict[str, Any]] = {}
    for pid, worker in pids.items():
        try:
            conns = psutil.Process(pid).net_connections(kind="tcp")
        except psutil.Error:
            continue
        for c in conns:
            if c.raddr and c.raddr.port in device_ports:
                out[c.laddr.port] = {
                    "worker": worker,
                    "pid": pid,
                    "device_port": c.raddr.port,
                    "status": c.status,
                }
    return out


def _by(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r[key]), []).append(r)
    return out


def per_device(
    devices: dict[str, dict[str, Any]],
    connections: list[dict[str, Any]],
    sockets: dict[int, dict[str, Any]],
    state: dict[str, list[dict[str, Any]]],
) -> dict[str, dict[str, Any]]:
    """Side by side, per device: what the simulator has open (each connection with the
    worker owning its client socket, or None), what the store counts, and which worker's
    holds and running tasks make up the count."""
    conns = _by(connections, "device")
    slots = {r["device"]: r for r in state["slots"]}
    holds = _by(state["holds"], "device")
    running = _by(state["running"], "device")
    by_port = {int(d["port"]): name for name, d in devices.items()}
    sock_by_device: dict[str, list[dict[str, Any]]] = {}
    for port, s in sockets.items():
        sock_by_device.setdefault(by_port[s["device_port"]], []).append({"port": port, **s})
    out: dict[str, dict[str, Any]] = {}
    for name, d in devices.items():
        open_here = [
            {**c, "owner": sockets.get(int(c["peer_port"]), {}).get("worker")}
            for c in conns.get(name, [])
        ]
        out[name] = {
            "sim_open": int(d["sessions_open"]),
            "sim_connections": open_here,
            "store_running": int(slots.get(name, {}).get("running", 0)),
            "holds": holds.get(name, []),
            "tasks": running.get(name, []),
            "worker_sockets": sock_by_device.get(name, []),
        }
    return out


def by_worker(v: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    """Per worker at one device: (sockets it has open, sessions its holds count, its
    running tasks): the store counts the worker right when the first equals the sum of
    the other two (a session opening or closing aside)."""
    out: dict[str, list[int]] = {}
    for s in v["worker_sockets"]:
        out.setdefault(str(s["worker"]), [0, 0, 0])[0] += 1
    for h in v["holds"]:
        out.setdefault(str(h["worker_id"]), [0, 0, 0])[1] += int(h["held"])
    for t in v["tasks"]:
        out.setdefault(str(t["lease_owner"]), [0, 0, 0])[2] += 1
    return {w: (a, b, c) for w, (a, b, c) in sorted(out.items())}


def disagreeing(view: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The devices where the simulator's open sessions and the store's count differ, a
    worker holds a socket the simulator does not list (or the reverse), or a worker's
    sockets there are not what the store counts for it."""
    out = {}
    for name, v in view.items():
        sim_ports = {int(c["peer_port"]) for c in v["sim_connections"]}
        sock_ports = {int(s["port"]) for s in v["worker_sockets"]}
        workers = by_worker(v)
        v["by_worker"] = {w: list(t) for w, t in workers.items()}
        uneven = any(a != b + c for a, b, c in workers.values())
        if v["sim_open"] != v["store_running"] or sim_ports != sock_ports or uneven:
            out[name] = v
    return out


def _summary_line(name: str, v: dict[str, Any]) -> str:
    conns = ", ".join(
        f"port {c['peer_port']} owner {c['owner']} age {c['age_s']:.0f}s idle {c['idle_s']:.0f}s "
        f"auth {c['authenticated']} ch {c['channels']} cmds {c['commands']}"
        for c in v["sim_connections"]
    )
    holds = ", ".join(
        f"{h['worker_id']}:{h['held']}(e{h['epoch']}t{h['term']})" for h in v["holds"]
    )
    tasks = ", ".join(f"{t['id']}:{t['state']}@{t['lease_owner']}" for t in v["tasks"])
    socks = ", ".join(f"{s['worker']}:{s['port']}:{s['status']}" for s in v["worker_sockets"])
    workers = ", ".join(f"{w} {a}/{b}+{c}" for w, (a, b, c) in by_worker(v).items())
    return (
        f"  {name}: sim open {v['sim_open']} [{conns}]; store counts {v['store_running']} "
        f"(holds [{holds}], tasks [{tasks}]); worker sockets [{socks}]; "
        f"per worker sockets/holds+tasks [{workers}]"
    )


async def dump(
    store: SqlStore, sim: Sim, pids: dict[int, str], path: Path, *, why: str
) -> dict[str, Any]:
    """Collect everything, write it to ``path`` (JSON), print a summary; returns it."""
    devices = {d["name"]: d for d in (await asyncio.to_thread(sim.get, "/devices"))["devices"]}
    connections = (await asyncio.to_thread(sim.get, "/connections"))["connections"]
    sockets = worker_sockets(pids, {int(d["port"]) for d in devices.values()})
    try:
        state = await store_state(store)
    except Exception as exc:  # the dump must not hide the finding it is for
        state = {k: [] for k in STORE_QUERIES} | {"error": [{"error": repr(exc)}]}
    view = per_device(devices, connections, sockets, state)
    bad = disagreeing(view)
    data = {
        "why": why,
        "store": {k: v for k, v in state.items() if k not in ("slots",)},
        "devices_disagreeing": bad,
        "worker_sockets": {str(k): v for k, v in sockets.items()},
        "sim_connections": connections,
    }
    await asyncio.to_thread(path.write_text, json.dumps(data, indent=1, default=str))
    print(f"\nDIAGNOSTIC DUMP ({why}) -> {path}")
    print(f"task states: { {r['state']: r['n'] for r in state['states']} }")
    for r in state["unfinished"][:20]:
        print(f"  unfinished: {r}")
    for w in state["workers"]:
        stats = w.get("stats") or {}
        pool = stats.get("pool", {})
        print(
            f"  worker {w['id']} pid {w['pid']} {w['state']} heartbeat {w['heartbeat_at']}: "
            f"running {stats.get('running')} pool open {pool.get('sessions_open')} "
            f"idle {pool.get('idle')} in use {pool.get('in_use')}, fenced {stats.get('fenced')} "
            f"late {stats.get('fenced_late')} lag {stats.get('loop_lag_max_s')}"
        )
    print(f"devices disagreeing: {len(bad)}")
    for name, v in list(bad.items())[:30]:
        print(_summary_line(name, v))
    return data
