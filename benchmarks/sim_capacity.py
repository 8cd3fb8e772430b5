"""Simulator capacity: devices per process, memory per idle device and per session, logins/s.

The simulator runs in a child process (``--child sim``); the baseline, measured
in the same run, is a bare asyncssh server per port with a trivial shell
(``--child baseline``). The parent opens sessions and logs in with asyncssh and
reads the child's RSS with psutil.

    python benchmarks/sim_capacity.py            # 5,000 devices, 500 sessions, 2,000 logins
    python benchmarks/sim_capacity.py --smoke    # a few seconds
"""

# ruff: noqa: E402  (sys.path is fixed before the other imports)
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this directory comes first on sys.path, where sibling benchmarks
# (e.g. queue.py) would shadow the standard library: drop it.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import os
import time
import warnings
from dataclasses import dataclass

with warnings.catch_warnings():  # cryptography 51 deprecates DSA; asyncssh names it
    warnings.filterwarnings("ignore", "DSA is deprecated")
    import asyncssh
import psutil

HERE = Path(__file__).resolve()
SRC = HERE.parent.parent / "src"
sys.path.insert(0, str(SRC))

from netfleet_sim.server import MODERN_ALGS  # same algorithms for the baseline

USER, PASSWORD = "admin", "admin"


# -- child processes ---------------------------------------------------------------
class _BaselineServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == PASSWORD


async def _baseline_shell(process: asyncssh.SSHServerProcess[str]) -> None:
    process.stdout.write("router#")
    while await process.stdin.read(1024):
        process.stdout.write("router#")
    process.exit(0)


async def _child(kind: str, devices: int) -> None:
    rss0 = psutil.Process().memory_info().rss
    started = time.perf_counter()
    ports: list[int] = []
    keep: list[object] = []
    if kind == "sim":
        from netfleet_sim import Simulator
        from netfleet_sim.fleet import builtin_platforms

        platforms = list(builtin_platforms()) or None
        sim = Simulator(devices=devices, platforms=platforms, max_sessions=100)
        await sim.start()
        ports = [d.port for d in sim.devices]
        keep.append(sim)
    else:
        key = asyncssh.generate_private_key("ssh-ed25519")
        for _ in range(devices):
            server = await asyncssh.listen(
                "127.0.0.1",
                0,
                server_factory=_BaselineServer,
                server_host_keys=[key],
                process_factory=_baseline_shell,
                config=None,
                line_editor=False,
                **MODERN_ALGS,
            )
            ports.append(server.sockets[0].getsockname()[1])
            keep.append(server)
    elapsed = time.perf_counter() - started
    rss1 = psutil.Process().memory_info().rss
    print(json.dumps({"ports": ports, "rss0": rss0, "rss1": rss1, "start_s": elapsed}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# -- parent -------------------------------------------------------------------------
@dataclass
class Result:
    start_s: float
    idle_device_kb: float
    session_kb: float
    logins_per_s: float
    server_cpu_ms_per_login: float


async def _open_shell(port: int) -> tuple[asyncssh.SSHClientConnection, object]:
    conn = await asyncssh.connect(
        "127.0.0.1",
        port,
        username=USER,
        password=PASSWORD,
        known_hosts=None,
        client_keys=None,
        agent_path=None,
        config=None,
        preferred_auth="password",
    )
    proc = await conn.create_process(term_type="vt100")
    await proc.stdout.readuntil([">", "#", "$"])
    return conn, proc


async def _login_once(port: int) -> None:
    conn, _ = await _open_shell(port)
    conn.close()
    await conn.wait_closed()


async def measure(kind: str, devices: int, sessions: int, logins: int, concurrency: int) -> Result:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE),
        "--child",
        kind,
        "--devices",
        str(devices),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    try:
        info = json.loads(await asyncio.wait_for(child.stdout.readline(), 300))
        ports: list[int] = info["ports"]
        proc = psutil.Process(child.pid)
        idle_kb = (info["rss1"] - info["rss0"]) / devices / 1024
        before = proc.memory_info().rss
        opened = []
        for i in range(0, sessions, concurrency):
            batch = ports[i : min(sessions, i + concurrency)]
            opened += await asyncio.gather(*(_open_shell(p) for p in batch))
        await asyncio.sleep(0.2)
        session_kb = (proc.memory_info().rss - before) / max(1, sessions) / 1024
        for conn, _ in opened:
            conn.close()
        queue = [ports[i % len(ports)] for i in range(logins)]
        cpu_before = sum(proc.cpu_times()[:2])
        started = time.perf_counter()

        async def worker() -> None:
            while queue:
                await _login_once(queue.pop())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        rate = logins / (time.perf_counter() - started)
        cpu_ms = (sum(proc.cpu_times()[:2]) - cpu_before) * 1000 / logins
        return Result(info["start_s"], idle_kb, session_kb, rate, cpu_ms)
    finally:
        child.stdin.close()
        try:
            await asyncio.wait_for(child.wait(), 10)
        except TimeoutError:
            child.kill()
            await child.wait()


async def main_async(args: argparse.Namespace) -> None:
    if args.smoke:
        devices, sessions, logins, concurrency = 100, 20, 40, 10
    else:
        devices, sessions, logins, concurrency = args.devices, 500, 2000, 50
    base = await measure("baseline", devices, sessions, logins, concurrency)
    sim = await measure("sim", devices, sessions, logins, concurrency)
    print(f"devices served by one process: {devices} (sessions {sessions}, logins {logins})")
    print(f"{'metric':<32}{'baseline':>12}{'netfleet_sim':>14}{'ratio':>8}")
    rows = [
        ("start time (s)", base.start_s, sim.start_s),
        ("RSS per idle device (KiB)", base.idle_device_kb, sim.idle_device_kb),
        ("RSS per open session (KiB)", base.session_kb, sim.session_kb),
        ("logins/s (one client process)", base.logins_per_s, sim.logins_per_s),
        ("server CPU ms per login", base.server_cpu_ms_per_login, sim.server_cpu_ms_per_login),
        (
            "logins/s per server core",
            1000 / base.server_cpu_ms_per_login,
            1000 / sim.server_cpu_ms_per_login,
        ),
    ]
    for name, b, s in rows:
        ratio = s / b if b else float("nan")
        print(f"{name:<32}{b:>12.2f}{s:>14.2f}{ratio:>8.2f}")
    print("baseline = bare asyncssh server per port (same algorithms), trivial shell, same run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small numbers, a few seconds")
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--child", choices=["sim", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(_child(args.child, args.devices))
    else:
        asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
