"""Profile netfleet's read path in-process against simulated devices in a child process.

``benchmarks/device.py`` measures; this finds where the time goes. For ``show
version`` on an open session, a 48 KB and a 10 MB ``show running-config`` it
prints client CPU and wall time per command of netfleet and of the minimal
asyncssh loop (interleaved in blocks, unprofiled), then runs one client (netfleet
unless ``--client minimal``) under ``cProfile`` and prints the functions with the
most own time. The simulator runs in
a child process, so its CPU is in neither.

    python benchmarks/device_profile.py                  # all cases, top 25 functions
    python benchmarks/device_profile.py --case big --top 40
    python benchmarks/device_profile.py --top 0          # timings only
    python benchmarks/device_profile.py --smoke          # a few seconds ("huge" is 48 KB)
    python benchmarks/device_profile.py --replay --top 0  # client CPU without SSH

``--replay`` also captures the chunks one command's reply arrived in and replays them,
one per event-loop pass, to netfleet's channel and to the minimal loop's session in this
process (no SSH, no simulator): the clients' own CPU per command, interleaved.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    del sys.path[0]
sys.path.append(str(Path(__file__).resolve().parent))  # after the standard library

import argparse
import asyncio
import cProfile
import multiprocessing as mp
import pstats
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from device import BIG_CONFIG, HUGE_CONFIG, Minimal, Netfleet, Opener, Target, _MinimalSession


def _serve(pipe: Connection, huge_size: int) -> None:
    from netfleet_sim import Simulator

    async def main() -> None:
        async with (
            Simulator(devices=1, platforms=["cisco_ios"], base_port=0) as small,
            Simulator(
                devices=1, platforms=["cisco_ios"], base_port=0, config_size=BIG_CONFIG
            ) as big,
            Simulator(
                devices=1, platforms=["cisco_ios"], base_port=0, config_size=huge_size
            ) as huge,
        ):
            pipe.send(
                [
                    Target(d.host, d.port, d.username, d.password, d.enable_secret)
                    for d in (small.devices[0], big.devices[0], huge.devices[0])
                ]
            )
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)

    asyncio.run(main())


BLOCKS = 10


async def _compare(target: Target, command: str, n: int) -> dict[str, tuple[float, float]]:
    """(client CPU, wall) per command of both clients, interleaved in blocks (A B B A ...)."""
    clients = {"minimal": await Minimal.open(target), "netfleet": await Netfleet.open(target)}
    cpu = dict.fromkeys(clients, 0.0)
    wall = dict.fromkeys(clients, 0.0)
    block = max(1, n // BLOCKS)
    for client in clients.values():
        for _ in range(3):  # warm up
            await client.command(command)
    names = list(clients)
    for i in range(BLOCKS):
        for name in names if i % 2 == 0 else reversed(names):
            c0, t0 = time.process_time(), time.perf_counter()
            for _ in range(block):
                await clients[name].command(command)
            cpu[name] += time.process_time() - c0
            wall[name] += time.perf_counter() - t0
    for client in clients.values():
        await client.close()
    runs = block * BLOCKS
    return {name: (cpu[name] / runs, wall[name] / runs) for name in names}


class _Replay:
    """A writer that answers every write with the captured chunks, one per loop pass."""

    def __init__(self, feed: Callable[[str], None], chunks: list[str]) -> None:
        self._loop = asyncio.get_running_loop()
        self._feed = feed
        self._chunks = chunks

    def write(self, data: str) -> None:
        self._loop.call_soon(self._next, 0)

    def _next(self, i: int) -> None:
        self._feed(self._chunks[i])
        if i + 1 < len(self._chunks):
            self._loop.call_soon(self._next, i + 1)


async def _replay(target: Target, command: str, n: int) -> dict[str, float]:
    """Client CPU per command, both clients fed one captured reply in-process."""
    nf = await Netfleet.open(target)
    channel = nf.dev._channel
    assert channel is not None
    chunks: list[str] = []
    channel._on_data = chunks.append
    await nf.command(command)
    channel._on_data = None
    channel.attach(_Replay(channel.feed, chunks))
    session = _MinimalSession()
    minimal = Minimal(
        None,  # type: ignore[arg-type]  # no connection: closed by nobody
        _Replay(lambda data: session.data_received(data, None), chunks),
        session,
    )
    clients: dict[str, Netfleet | Minimal] = {"minimal": minimal, "netfleet": nf}
    best = dict.fromkeys(clients, float("inf"))
    for i in range(BLOCKS):
        for name in clients if i % 2 == 0 else reversed(clients):
            c0 = time.process_time()
            for _ in range(n):
                await clients[name].command(command)
            best[name] = min(best[name], (time.process_time() - c0) / n)
    assert nf.dev._transport is not None
    channel.attach(nf.dev._transport)
    await nf.close()
    return best


async def _profile(
    opener: Opener, target: Target, command: str, n: int, prof: cProfile.Profile
) -> None:
    client = await opener(target)
    for _ in range(3):
        await client.command(command)
    prof.enable()
    for _ in range(n):
        await client.command(command)
    prof.disable()
    await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["small", "big", "huge", "all"], default="all")
    parser.add_argument("--top", type=int, default=25, help="functions to list (0: none)")
    parser.add_argument(
        "--client", choices=["netfleet", "minimal"], default="netfleet", help="client to profile"
    )
    parser.add_argument("--sort", default="tottime", help="pstats sort key (e.g. cumulative)")
    parser.add_argument("--only", default="", help="list only functions whose path matches")
    parser.add_argument("--smoke", action="store_true", help="few commands, a few seconds")
    parser.add_argument(
        "--replay", action="store_true", help="also replay a captured reply in-process"
    )
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    huge_size = BIG_CONFIG if args.smoke else HUGE_CONFIG  # building 10 MB takes a while
    proc = ctx.Process(target=_serve, args=(child, huge_size), daemon=True)
    proc.start()
    try:
        small, big, huge = parent.recv()
        cases = {
            "small": (small, "show version", 20 if args.smoke else 2000),
            "big": (big, "show running-config", 10 if args.smoke else 400),
            "huge": (huge, "show running-config", 10),
        }
        for name, (target, command, n) in cases.items():
            if args.case not in (name, "all"):
                continue
            print(f"== {name}: {command!r}, per command, unprofiled:")
            for label, (cpu, wall) in asyncio.run(_compare(target, command, n)).items():
                print(f"   {label:9} wall {wall * 1000:8.3f} ms  client CPU {cpu * 1000:8.3f} ms")
            if args.replay:
                print("   replayed in-process, client CPU per command (best block):")
                replayed = asyncio.run(_replay(target, command, max(1, n // BLOCKS)))
                for label, cpu in replayed.items():
                    print(f"   {label:9} {cpu * 1e6:8.1f} us")
                ratio = replayed["netfleet"] / replayed["minimal"]
                extra = (replayed["netfleet"] - replayed["minimal"]) * 1e6
                print(f"   netfleet / minimal {ratio:.2f}, netfleet's own {extra:.1f} us more")
            if args.top:
                prof = cProfile.Profile()
                opener = Netfleet.open if args.client == "netfleet" else Minimal.open
                asyncio.run(_profile(opener, target, command, n, prof))
                stats = pstats.Stats(prof).sort_stats(args.sort)
                stats.print_stats(*([args.only] if args.only else []), args.top)
    finally:
        parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()


if __name__ == "__main__":
    main()
