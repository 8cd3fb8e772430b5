"""Device layer benchmark: netfleet ``Device`` vs a minimal asyncssh loop vs netmiko.

All three talk to the same simulated Cisco IOS devices, which run in a child
process so that client CPU is measured alone. Reported per client:

* session open (connect, log in, first prompt, ``terminal length 0`` and ``width``),
* ``show version`` on an open session (wall time per command, sequential),
* client CPU per command (``time.process_time``),
* memory per idle open session (tracemalloc, all Python allocations),
* a 48 KB ``show running-config`` (wall time per command, median), also with netfleet's
  secret masking off (``mask_secrets``): the framing alone, which is what the 1.0 target
  is about; masking, on by default, is the difference,
* a 10 MB ``show running-config``: client-side throughput (bytes per client CPU second).

The baseline is the least a client can do with asyncssh: one connection, one
pty shell, a ``data_received`` callback that resolves a future when a prompt
regex matches the tail of the buffer; it enters ``enable`` at open as netfleet does.
Ratios are netfleet / baseline (lower is better; targets 1.3, 1.3, 1.5, 1.0) and
netmiko / netfleet (higher is better). The 10 MB throughput target is 50 MB/s.

    python benchmarks/device.py            # full run (about a minute)
    python benchmarks/device.py --smoke    # a few seconds
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running a script puts its directory first on sys.path, where a sibling benchmark module
# may shadow the standard library (e.g. ``queue``); import from the normal path instead.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]

import argparse
import asyncio
import gc
import multiprocessing as mp
import re
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

with warnings.catch_warnings():  # cryptography 51 deprecates DSA; asyncssh names it
    warnings.filterwarnings("ignore", "DSA is deprecated")
    import asyncssh

from netfleet.device import Device
from netfleet.transport import Timeouts


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    username: str
    password: str
    secret: str


@dataclass(frozen=True)
class Sizes:
    devices: int
    opens: int
    commands: int
    idle_sessions: int
    netmiko_opens: int
    netmiko_commands: int
    netmiko_idle: int
    big_commands: int = 20
    huge_commands: int = 2


BIG_CONFIG = 48 * 1024
HUGE_CONFIG = 10 * 1024 * 1024

FULL = Sizes(
    devices=10,
    opens=60,
    commands=600,
    idle_sessions=200,
    netmiko_opens=5,
    netmiko_commands=30,
    netmiko_idle=10,
)
SMOKE = Sizes(
    devices=2,
    opens=6,
    commands=100,
    idle_sessions=10,
    netmiko_opens=1,
    netmiko_commands=3,
    netmiko_idle=1,
    big_commands=6,
    huge_commands=1,
)


# --- the simulator, in a child process ---------------------------------------------


def _serve(devices: int, sessions: int, pipe: Connection) -> None:
    from netfleet_sim import Simulator

    def targets(sim: Simulator) -> list[Target]:
        return [
            Target(d.host, d.port, d.username, d.password, d.enable_secret) for d in sim.devices
        ]

    async def main() -> None:
        async with (
            Simulator(
                devices=devices, platforms=["cisco_ios"], base_port=0, max_sessions=sessions
            ) as sim,
            Simulator(
                devices=1, platforms=["cisco_ios"], base_port=0, config_size=BIG_CONFIG
            ) as big,
            Simulator(
                devices=1, platforms=["cisco_ios"], base_port=0, config_size=HUGE_CONFIG
            ) as huge,
        ):
            pipe.send((targets(sim), targets(big)[0], targets(huge)[0]))
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)

    asyncio.run(main())


# --- the baseline: minimal asyncssh read-until-prompt -------------------------------

PROMPT = re.compile(r"[\w.\-]+[>#]\s*$")
PASSWORD = re.compile(r"[Pp]assword:\s*$")


class _MinimalSession(asyncssh.SSHClientSession[str]):
    def __init__(self) -> None:
        self.buffer = ""
        self.waiter: asyncio.Future[str] | None = None

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        self.buffer += data
        tail = self.buffer[-200:]
        if self.waiter is not None and (PROMPT.search(tail) or PASSWORD.search(tail)):
            text, self.buffer = self.buffer, ""
            self.waiter.set_result(text)
            self.waiter = None


class Minimal:
    def __init__(self, conn: asyncssh.SSHClientConnection, chan: Any, session: _MinimalSession):
        self.conn, self.chan, self.session = conn, chan, session

    @classmethod
    async def open(cls, t: Target) -> Minimal:
        conn = await asyncssh.connect(
            t.host, t.port, username=t.username, password=t.password, known_hosts=None,
            client_keys=None, agent_path=None, config=None, gss_host=None,
            encryption_algs=["aes128-gcm@openssh.com"],  # the cipher netfleet prefers
        )  # fmt: skip
        chan, session = await conn.create_session(
            _MinimalSession, term_type="vt100", term_size=(511, 24)
        )
        self = cls(conn, chan, session)
        first = await self._wait()
        if first.rstrip().endswith(">"):
            await self.command("enable")
            await self.command(t.secret)
        await self.command("terminal length 0")
        await self.command("terminal width 511")
        return self

    async def _wait(self) -> str:
        loop = asyncio.get_running_loop()
        tail = self.session.buffer[-200:]
        if PROMPT.search(tail) or PASSWORD.search(tail):
            text, self.session.buffer = self.session.buffer, ""
            return text
        self.session.waiter = loop.create_future()
        return await self.session.waiter

    async def command(self, cmd: str) -> str:
        self.chan.write(cmd + "\n")
        return await self._wait()

    async def close(self) -> None:
        self.conn.close()
        await self.conn.wait_closed()


# --- netfleet -----------------------------------------------------------------------


class Netfleet:
    def __init__(self, dev: Device) -> None:
        self.dev = dev

    @classmethod
    async def open(cls, t: Target) -> Netfleet:
        dev = Device(
            t.host,
            port=t.port,
            platform="cisco_ios",
            username=t.username,
            password=t.password,
            enable_secret=t.secret,
            host_key_policy="off",
            timeouts=Timeouts(),
        )
        await dev.open()
        if dev.level != "privileged":  # releases that did not enter enable at open
            await dev.enable()
        return cls(dev)

    async def command(self, cmd: str) -> str:
        return (await self.dev.send_command(cmd)).output

    async def close(self) -> None:
        await self.dev.close()


class NetfleetUnmasked(Netfleet):
    """netfleet with secret masking off: the framing alone (the aim is about framing)."""

    @classmethod
    async def open(cls, t: Target) -> Netfleet:
        client = await super().open(t)
        client.dev.mask_secrets = False
        return client


Opener = Callable[[Target], Awaitable[Any]]
BLOCK = 20


async def _compare(
    clients: dict[str, Opener], targets: list[Target], sizes: Sizes
) -> dict[str, dict[str, float]]:
    """Measure the clients interleaved (A B B A ...) so background load hits both alike."""
    names = list(clients)
    opens: dict[str, list[float]] = {n: [] for n in names}
    for i in range(sizes.opens):
        for name in names if i % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            client = await clients[name](targets[i % len(targets)])
            opens[name].append(time.perf_counter() - t0)
            await client.close()
    sessions = {n: await clients[n](targets[0]) for n in names}
    for session in sessions.values():
        for _ in range(BLOCK):  # warm up
            await session.command("show version")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu = dict.fromkeys(names, 0.0)
    for i in range(max(1, sizes.commands // BLOCK)):
        for name in names if i % 2 == 0 else reversed(names):
            session = sessions[name]
            c0 = time.process_time()
            for _ in range(BLOCK):
                t0 = time.perf_counter()
                await session.command("show version")
                wall[name].append(time.perf_counter() - t0)
            cpu[name] += time.process_time() - c0
    for session in sessions.values():
        await session.close()
    result = {}
    for name in names:
        result[name] = {
            "open_ms": statistics.median(opens[name]) * 1000,
            "command_ms": statistics.median(wall[name]) * 1000,
            "cpu_ms": cpu[name] / len(wall[name]) * 1000,
            "idle_kb": await _idle_memory(clients[name], targets, sizes.idle_sessions) / 1024,
        }
    return result


async def _big_outputs(
    clients: dict[str, Opener], big: Target, huge: Target, sizes: Sizes
) -> dict[str, dict[str, float]]:
    """48 KB ``show running-config`` wall time (interleaved, every client in ``clients``),
    and 10 MB client throughput (the minimal loop and netfleet)."""
    names = list(clients)
    sessions = {n: await clients[n](big) for n in names}
    for session in sessions.values():
        await session.command("show running-config")  # warm up
    wall: dict[str, list[float]] = {n: [] for n in names}
    for i in range(sizes.big_commands):
        for name in names if i % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            out = await sessions[name].command("show running-config")
            wall[name].append(time.perf_counter() - t0)
            assert len(out) > BIG_CONFIG // 2, f"{name}: short output ({len(out)} chars)"
    for session in sessions.values():
        await session.close()
    result = {n: {"big_ms": statistics.median(wall[n]) * 1000} for n in names}
    for name in ("min", "netfleet"):
        session = await clients[name](huge)
        size = 0
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(sizes.huge_commands):
            size += len(await session.command("show running-config"))
        cpu = time.process_time() - c0
        result[name]["huge_mb_s_cpu"] = size / cpu / 1e6
        result[name]["huge_mb_s_wall"] = size / (time.perf_counter() - t0) / 1e6
        await session.close()
    return result


async def _idle_memory(opener: Opener, targets: list[Target], n: int) -> float:
    warm = await opener(targets[0])  # import-time and first-use allocations
    await warm.close()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    clients = []
    for i in range(n):
        clients.append(await opener(targets[i % len(targets)]))
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    for c in clients:
        await c.close()
    return (after - before) / n


def _measure_netmiko(targets: list[Target], sizes: Sizes) -> dict[str, float]:
    from netmiko import ConnectHandler

    def connect(t: Target) -> Any:
        return ConnectHandler(
            device_type="cisco_ios", host=t.host, port=t.port, username=t.username,
            password=t.password, secret=t.secret, fast_cli=True,
        )  # fmt: skip

    opens = []
    for i in range(sizes.netmiko_opens):
        t0 = time.perf_counter()
        conn = connect(targets[i % len(targets)])
        opens.append(time.perf_counter() - t0)
        conn.disconnect()
    conn = connect(targets[0])
    wall = []
    cpu0 = time.process_time()
    for _ in range(sizes.netmiko_commands):
        t0 = time.perf_counter()
        conn.send_command("show version")
        wall.append(time.perf_counter() - t0)
    cpu = (time.process_time() - cpu0) / sizes.netmiko_commands
    conn.disconnect()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    conns = [connect(targets[i % len(targets)]) for i in range(sizes.netmiko_idle)]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    for c in conns:
        c.disconnect()
    return {
        "open_ms": statistics.median(opens) * 1000,
        "command_ms": statistics.median(wall) * 1000,
        "cpu_ms": cpu * 1000,
        "idle_kb": (after - before) / sizes.netmiko_idle / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny numbers, a few seconds")
    parser.add_argument("--no-netmiko", action="store_true", help="skip the netmiko column")
    args = parser.parse_args()
    sizes = SMOKE if args.smoke else FULL
    per_device = sizes.idle_sessions // sizes.devices + 5
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(sizes.devices, per_device, child), daemon=True)
    proc.start()
    try:
        targets, big, huge = parent.recv()
        clients: dict[str, Opener] = {"min": Minimal.open, "netfleet": Netfleet.open}
        measured = asyncio.run(_compare(clients, targets, sizes))
        big_clients: dict[str, Opener] = {**clients, "framing": NetfleetUnmasked.open}
        outputs = asyncio.run(_big_outputs(big_clients, big, huge, sizes))
        base, ours = measured["min"], measured["netfleet"]
        base.update(outputs["min"])
        ours.update(outputs["netfleet"])
        nm = None if args.no_netmiko else _measure_netmiko(targets, sizes)
    finally:
        parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
    rows = [
        ("session open (ms, median)", "open_ms", 1.3),
        ("show version, open session (ms, median)", "command_ms", 1.3),
        ("client CPU per command (ms)", "cpu_ms", 1.5),
        ("memory per idle session (KB)", "idle_kb", None),
    ]
    big_rows = [
        ("48 KB show running-config (ms, median)", "big_ms", "<=1.0"),
        ("10 MB output, MB per client CPU second", "huge_mb_s_cpu", ">=50MB/s"),
        ("10 MB output, MB/s wall (sim-bound)", "huge_mb_s_wall", ""),
    ]
    mode = "smoke" if args.smoke else "full"
    print(f"Device layer benchmark ({mode}; {sizes.devices} simulated cisco_ios devices)")
    header = f"{'metric':42} {'asyncssh min':>12} {'netfleet':>10} {'nf/min':>7} {'target':>7}"
    if nm:
        header += f" {'netmiko':>10} {'netmiko/nf':>10}"
    print(header)
    for label, key, target in rows:
        line = f"{label:42} {base[key]:12.3f} {ours[key]:10.3f} {ours[key] / base[key]:7.2f}"
        line += f" {('<=' + str(target)) if target else '<=64KB':>7}"
        if nm:
            line += f" {nm[key]:10.3f} {nm[key] / ours[key]:10.1f}"
        print(line)
    for label, key, goal in big_rows:
        line = f"{label:42} {base[key]:12.3f} {ours[key]:10.3f} {ours[key] / base[key]:7.2f}"
        print(line + f" {goal:>7}")
        if key == "big_ms":  # the same reply with masking off: what framing alone costs
            framing = outputs["framing"][key]
            label = "  ... framing only (secret masking off)"
            print(f"{label:42} {base[key]:12.3f} {framing:10.3f} {framing / base[key]:7.2f}")


if __name__ == "__main__":
    main()
