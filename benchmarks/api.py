"""REST API throughput and latency: job submit and job read against ``/healthz``.

The server is ``netfleet serve --workers 0`` (API only: submitted jobs stay
queued) on a temporary SQLite file with a few imported devices, in its own
process. The load comes from a second process on loopback: keep-alive HTTP/1.1
connections driven by a small asyncio client (raw sockets, so the load
generator costs little CPU next to the server). Each scenario runs for a fixed
time with a fixed number of connections, each sending its next request as soon
as the previous answer arrived. The baseline, measured in the same run against
the same server, is ``GET /healthz`` (no token, no database). Server CPU per
request comes from psutil.

    .venv/bin/python benchmarks/api.py            # 3 rounds of 3 s per scenario
    .venv/bin/python benchmarks/api.py --smoke    # about 3 s of load (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.serve import start_server

DEVICES = 10
SCENARIOS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    # name: (method, path, JSON body); {job} is replaced by a job id
    "healthz (baseline)": ("GET", "/healthz", None),
    "job read (GET /jobs/{id})": ("GET", "/api/v1/jobs/{job}", None),
    "job list (GET /jobs?limit=20)": ("GET", "/api/v1/jobs?limit=20", None),
    "job submit, 1 device": (
        "POST",
        "/api/v1/jobs",
        {"targets": {"devices": ["bench-001"]}, "commands": ["show version"]},
    ),
    f"job submit, {DEVICES} devices": (
        "POST",
        "/api/v1/jobs",
        {"targets": {"groups": ["bench"]}, "commands": ["show version"]},
    ),
}


# --- the load process ------------------------------------------------------------------


async def _connection(
    host: str, port: int, request: bytes, window: tuple[float, float], latencies: list[float]
) -> tuple[int, int]:
    """Send ``request`` again and again on one connection until the window's end; count
    non-2xx answers and all requests. Only requests started inside the window (after
    warm-up) are timed."""
    measure_from, stop_at = window
    reader, writer = await asyncio.open_connection(host, port)
    errors = sent = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if m is None:
                raise RuntimeError(f"no content-length in answer: {head[:200]!r}")
            await reader.readexactly(int(m.group(1)))
            sent += 1
            if started >= measure_from:
                latencies.append(time.perf_counter() - started)
            if not 200 <= status < 300:
                errors += 1
    finally:
        writer.close()
    return errors, sent


def _request(method: str, path: str, host: str, token: str, body: dict[str, Any] | None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        f"Authorization: Bearer {token}",
        "Accept: application/json",
    ]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def _measure(
    config: dict[str, Any], scenario: dict[str, Any], seconds: float
) -> dict[str, Any]:
    """Run one scenario for ``seconds`` (after a short warm-up); rates, latencies, server CPU."""
    import psutil

    host, port = config["host"], config["port"]
    request = _request(
        scenario["method"], scenario["path"], f"{host}:{port}", config["token"], scenario["body"]
    )
    server = psutil.Process(config["server_pid"])
    cpu0 = sum(server.cpu_times()[:2])
    latencies: list[float] = []
    measure_from = time.perf_counter() + min(0.5, seconds / 4)
    window = (measure_from, measure_from + seconds)
    counts = await asyncio.gather(
        *(_connection(host, port, request, window, latencies) for _ in range(config["connections"]))
    )
    cpu = sum(server.cpu_times()[:2]) - cpu0
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "rps": len(latencies) / seconds,
        "errors": sum(errors for errors, _ in counts),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "cpu_ms": cpu / max(1, sum(sent for _, sent in counts)) * 1000,
    }


async def _load(config: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Warm every scenario up, then measure them in rounds (A B C ..., A B C ...)."""
    for scenario in config["scenarios"]:
        await _measure(config, scenario, 0.2)
    rounds = []
    for _ in range(config["rounds"]):
        rounds.append([await _measure(config, sc, config["seconds"]) for sc in config["scenarios"]])
    return rounds


# --- the parent: server, scenarios, table ---------------------------------------------


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    errors: int


def _setup(url: str, token: str) -> int:
    """Import the devices and submit one job to read; its id."""
    import httpx

    devices = [
        {"name": f"bench-{i:03d}", "host": "127.0.0.1", "port": 20000 + i,
         "platform": "cisco_ios", "groups": ["bench"], "username": "admin", "password": "pw"}
        for i in range(1, DEVICES + 1)
    ]  # fmt: skip
    import yaml

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        text = yaml.safe_dump({"devices": devices})
        r = c.post("/api/v1/devices/import", json={"format": "netfleet", "text": text})
        r.raise_for_status()
        r = c.post("/api/v1/jobs", json=SCENARIOS["job submit, 1 device"][2])
        r.raise_for_status()
        return int(r.json()["id"])


def _run(
    url: str, token: str, server_pid: int, job_id: int, args: argparse.Namespace
) -> list[Result]:
    """All scenarios in one load process; per scenario, the round with the median rate."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    config = {
        "host": host,
        "port": int(port),
        "token": token,
        "server_pid": server_pid,
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "scenarios": [
            {"method": m, "path": p.replace("{job}", str(job_id)), "body": b}
            for m, p, b in SCENARIOS.values()
        ],
    }
    done = subprocess.run(
        [sys.executable, __file__, "--load", json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=len(SCENARIOS) * (args.seconds + 2) * args.rounds + 120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the load process failed:\n{done.stderr[-3000:]}")
    rounds = json.loads(done.stdout)
    results = []
    for i, name in enumerate(SCENARIOS):
        runs = sorted((r[i] for r in rounds), key=lambda x: x["rps"])
        mid = runs[len(runs) // 2]
        results.append(
            Result(name, mid["rps"], mid["p50_ms"], mid["p99_ms"], mid["cpu_ms"], mid["errors"])
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="about 3 s of load (CI)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of all scenarios")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load:
        print(json.dumps(asyncio.run(_load(json.loads(args.load)))))
        return 0
    if args.smoke:
        args.seconds, args.rounds = 0.4, 1
    token = "nf_" + secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="netfleet-bench-api-") as tmp:
        proc, url = start_server(Path(tmp), token, db_name="api.db")
        try:
            results = _run(url, token, proc.pid, _setup(url, token), args)
        finally:
            proc.terminate()
            proc.wait(30)
    base = results[0]
    print(
        f"\nnetfleet serve --workers 0, SQLite, {args.connections} keep-alive connections, "
        f"{args.rounds} round(s) of {args.seconds:g} s per scenario, median round shown "
        "(load from a second process)\n"
    )
    header = (
        f"{'scenario':<32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} "
        f"{'errors':>6} {'req/s ratio':>11} {'p99 ratio':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:<32} {r.rps:>8.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.cpu_ms:>11.3f} "
            f"{r.errors:>6} {r.rps / base.rps:>11.2f} {r.p99_ms / base.p99_ms:>9.1f}"
        )
    print("ratios are against the /healthz baseline of the same run")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
