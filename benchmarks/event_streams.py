"""Server CPU of idle live event streams (``GET /api/v1/jobs/{id}/events/stream``).

The server is ``netfleet serve --workers 0`` on a temporary SQLite file: the
submitted jobs stay queued, so their streams stay open and idle (only keepalives,
no events). The load process opens N streams on raw sockets (a few jobs, several
tokens) and holds them for a fixed time; the server's CPU over that window comes
from psutil. The baseline, measured in the same run on the same server, is the
same window with no stream open.

    .venv/bin/python benchmarks/event_streams.py            # 400 streams, 3 rounds of 5 s
    .venv/bin/python benchmarks/event_streams.py --smoke    # 50 streams, 2 s
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
from pathlib import Path

from harness.serve import start_server

STREAMS_PER_TOKEN = 10
JOBS = 8


def _setup(url: str, token: str, streams: int) -> tuple[list[int], list[str]]:
    """A device, ``JOBS`` queued jobs and enough viewer tokens; (job ids, tokens)."""
    import httpx

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        r = c.post(
            "/api/v1/devices",
            json={"name": "bench-001", "host": "127.0.0.1", "port": 20001, "platform": "linux"},
        )
        r.raise_for_status()
        jobs = []
        for _ in range(JOBS):
            r = c.post(
                "/api/v1/jobs",
                json={"targets": {"devices": ["bench-001"]}, "commands": ["uptime"]},
            )
            r.raise_for_status()
            jobs.append(int(r.json()["id"]))
        tokens = []
        for i in range(-(-streams // STREAMS_PER_TOKEN)):
            r = c.post("/api/v1/tokens", json={"name": f"bench-{i}", "role": "viewer"})
            r.raise_for_status()
            tokens.append(str(r.json()["token"]))
    return jobs, tokens


async def _open(host: str, port: int, path: str, token: str) -> asyncio.StreamWriter:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"stream refused: {head[:120]!r}")

    async def drain() -> None:
        while await reader.read(65536):
            pass

    asyncio.get_running_loop().create_task(drain())
    return writer


async def _window(pid: int, seconds: float) -> float:
    """Server CPU seconds over ``seconds`` of wall time."""
    import psutil

    server = psutil.Process(pid)
    cpu0 = sum(server.cpu_times()[:2])
    await asyncio.sleep(seconds)
    return sum(server.cpu_times()[:2]) - cpu0


async def _run(
    url: str, pid: int, jobs: list[int], tokens: list[str], args: argparse.Namespace
) -> None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    idle, busy = [], []
    for _ in range(args.rounds):
        idle.append(await _window(pid, args.seconds))
        writers = [
            await _open(
                host,
                int(port),
                f"/api/v1/jobs/{jobs[i % len(jobs)]}/events/stream",
                tokens[i // STREAMS_PER_TOKEN],
            )
            for i in range(args.streams)
        ]
        await asyncio.sleep(0.5)  # streams settled
        busy.append(await _window(pid, args.seconds))
        for w in writers:
            w.close()
        await asyncio.sleep(0.5)
    base = min(idle) / args.seconds * 100
    load = min(busy) / args.seconds * 100
    print(f"{'scenario':<34} {'server CPU':>11} {'ratio':>7}")
    print(f"{'no stream (baseline)':<34} {base:>10.1f}% {1.0:>7.2f}")
    ratio = load / base if base > 0 else float("inf")
    print(f"{f'{args.streams} idle streams':<34} {load:>10.1f}% {ratio:>7.2f}")
    per = (min(busy) - min(idle)) / args.seconds / args.streams * 1000
    print(f"server CPU per open stream: {per:.3f} ms/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="50 streams, 1 round of 2 s")
    args = parser.parse_args()
    if args.smoke:
        args.streams, args.seconds, args.rounds = 50, 2.0, 1
    token = "nf_" + secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(Path(tmp), token, db_name="sse.db")
        try:
            jobs, tokens = _setup(url, token, args.streams)
            asyncio.run(_run(url, proc.pid, jobs, tokens, args))
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
