"""Session pool benchmark: pooled vs unpooled job streams, and ``netfleet run`` vs Nornir.

Part A (simulators in child processes): a stream of jobs over repeated devices
(default 200 devices x 20 jobs x 3 commands, arriving at 50 jobs/s, at most 100
running; 300 ms login delay, 20 ms command latency), once through the pool and
once with reuse disabled (a login per job). Then a stream whose pauses exceed
the simulator's exec-timeout, so devices close idle sessions: every job must
still succeed.

Part B (subprocesses): a simulator with 1,000 devices; ``netfleet run`` with 5
commands (100 at a time) against Nornir + nornir_netmiko (100 threads) on the
same devices; wall time, CPU time and peak RSS of each client process; plus
``netfleet run`` at its default concurrency.

    .venv/bin/python benchmarks/pool.py            # full (a few minutes)
    .venv/bin/python benchmarks/pool.py --smoke    # a few seconds (CI)
    .venv/bin/python benchmarks/pool.py --only-b   # part B alone
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# Running ``python benchmarks/pool.py`` puts benchmarks/ first on sys.path, where
# ``queue.py`` (the queue benchmark) would shadow the standard library's ``queue``.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from netfleet.core.inventory import load_inventory
from netfleet.core.models import DeviceSpec
from netfleet.core.settings import ConnectSettings, PoolSettings, WorkerSettings
from netfleet.device import Device
from netfleet.jobs.execute import run_on_device
from netfleet.pool import SessionPool, device_pool

COMMANDS = ["show version", "show clock", "show ip interface brief", "show users", "show inventory"]
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class StreamResult:
    jobs: int
    failed: int
    logins: int
    mean_job_ms: float
    mean_warm_job_ms: float
    """Mean over jobs after the first two rounds (every device has had its login)."""
    mean_checkout_ms: float
    p95_job_ms: float
    wall_s: float
    evictions: dict[str, int]


def _pool(tmp: Path, *, reuse: bool, concurrency: int) -> SessionPool[Device]:
    return device_pool(
        PoolSettings(logins_per_second_per_device=50.0),
        WorkerSettings(max_connections_per_worker=concurrency * 4, connection_reuse=reuse),
        ConnectSettings(known_hosts=tmp / "known_hosts"),
    )


async def job_stream(
    specs: list[DeviceSpec],
    *,
    rounds: int,
    commands: int,
    concurrency: int,
    reuse: bool,
    tmp: Path,
    rate: float = 0.0,
    pause_s: float = 0.0,
    seed: int = 7,
) -> StreamResult:
    """``rounds`` jobs per device (each round in random device order), arriving as a
    Poisson stream of ``rate`` jobs/s, or per device with random gaps up to 2 x ``pause_s``.

    A job's time runs from its arrival to its end (pool wait and login included);
    at most ``concurrency`` jobs run at once.
    """
    rng = random.Random(seed)
    order = []
    for _ in range(rounds):
        batch = list(specs)
        rng.shuffle(batch)
        order.extend(batch)
    arrivals: list[float] = []
    if pause_s:
        per_device: dict[str, float] = {}
        for spec in order:
            per_device[spec.name] = per_device.get(spec.name, 0.0) + rng.uniform(0, 2 * pause_s)
            arrivals.append(per_device[spec.name])
    else:
        at = 0.0
        for _ in order:
            at += rng.expovariate(rate)
            arrivals.append(at)
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []
    warm: list[float] = []
    checkouts: list[float] = []
    failed = 0
    cmds = COMMANDS[:commands]
    pool = _pool(tmp, reuse=reuse, concurrency=concurrency)
    start = time.perf_counter()

    async def one(index: int, spec: DeviceSpec, at: float) -> None:
        nonlocal failed
        await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
        arrived = time.perf_counter()
        async with gate:
            run = await run_on_device(pool, spec, commands=cmds)
        times.append((time.perf_counter() - arrived) * 1000.0)
        if index >= 2 * len(specs):
            warm.append(times[-1])
        checkouts.append(run.wait_ms + run.login_ms)
        failed += 0 if run.ok else 1

    async with pool:
        await asyncio.gather(
            *(one(i, spec, at) for i, (spec, at) in enumerate(zip(order, arrivals, strict=True)))
        )
        stats = pool.stats().total
    times.sort()
    return StreamResult(
        jobs=len(order),
        failed=failed,
        logins=stats.logins,
        mean_job_ms=statistics.fmean(times),
        mean_warm_job_ms=statistics.fmean(warm) if warm else float("nan"),
        mean_checkout_ms=statistics.fmean(checkouts),
        p95_job_ms=times[int(0.95 * (len(times) - 1))],
        wall_s=time.perf_counter() - start,
        evictions=stats.evictions,
    )


@contextlib.contextmanager
def sim_process(tmp: Path, name: str, *args: str) -> Iterator[Path]:
    """A simulator in a child process (so it does not share the client's CPU); its inventory."""
    inventory = tmp / f"{name}.yaml"
    cmd = [sys.executable, "-m", "netfleet_sim", "--inventory", str(inventory), *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not inventory.exists():
            if proc.poll() is not None or time.time() > deadline:
                assert proc.stderr is not None
                raise SystemExit(f"simulator failed: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.1)
        yield inventory
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def unchecked(inventory: Path) -> list[DeviceSpec]:
    """The inventory's devices with host key checking off (netmiko does not check either)."""
    return [
        dataclasses.replace(spec, host_key_policy="off")
        for spec in load_inventory(inventory).devices
    ]


async def part_a(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    timing = ["--login-delay-ms", str(args.login_delay_ms), "--latency-ms", str(args.latency_ms)]
    common = {"commands": args.commands, "concurrency": args.concurrency, "tmp": tmp}
    stream = {"rounds": args.jobs, "rate": args.rate}
    platforms = "cisco_ios,cisco_xe,arista_eos"
    with sim_process(
        tmp, "a", "--devices", str(args.devices), "--platforms", platforms, *timing
    ) as inv:
        specs = unchecked(inv)
        pooled = await job_stream(specs, reuse=True, **stream, **common)  # type: ignore[arg-type]
        unpooled = await job_stream(specs, reuse=False, **stream, **common)  # type: ignore[arg-type]
    expiry = ["--exec-timeout-s", str(args.exec_timeout_s), "--platforms", "cisco_ios"]
    with sim_process(tmp, "e", "--devices", str(args.exec_devices), *expiry, *timing) as inv:
        expiring = await job_stream(
            unchecked(inv),
            rounds=args.exec_jobs,
            reuse=True,
            pause_s=args.exec_timeout_s,
            **common,  # type: ignore[arg-type]
        )
    return {"pooled": pooled, "unpooled": unpooled, "exec_timeout": expiring}


# --- part B: netfleet run vs Nornir ---------------------------------------------

NORNIR_SCRIPT = r"""
import sys, json, logging
from nornir import InitNornir
from nornir_netmiko.tasks import netmiko_send_command
folder, workers, commands = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
def task(t):
    for c in commands:
        t.run(task=netmiko_send_command, command_string=c)
nr = InitNornir(
    runner={"plugin": "threaded", "options": {"num_workers": workers}},
    inventory={"plugin": "SimpleInventory", "options": {
        "host_file": f"{folder}/hosts.yaml", "group_file": f"{folder}/groups.yaml",
        "defaults_file": f"{folder}/defaults.yaml"}},
    logging={"enabled": False},
)
result = nr.run(task=task)
print(json.dumps({"devices": len(result), "failed": len(result.failed_hosts)}))
"""


def nornir_inventory(netfleet_inventory: Path, folder: Path, limit: int | None = None) -> None:
    """The same devices as a Nornir SimpleInventory (netmiko platform names)."""
    folder.mkdir(parents=True, exist_ok=True)
    hosts = {}
    for spec in load_inventory(netfleet_inventory).devices[:limit]:
        cred = spec.credentials[0]
        hosts[spec.name] = {
            "hostname": spec.host,
            "port": spec.port,
            "username": cred.username,
            "password": cred.password,
            "platform": spec.platform,
            "connection_options": {
                "netmiko": {"extras": {"secret": cred.enable_secret, "fast_cli": True}}
            },
        }
    (folder / "hosts.yaml").write_text(yaml.safe_dump(hosts))
    (folder / "groups.yaml").write_text("{}\n")
    (folder / "defaults.yaml").write_text("{}\n")


def measure_with_rusage(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``cmd``; wall time, CPU time (user+sys) and peak RSS of that process alone."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024.0,
            "rc": proc.returncode,
            "stdout": out.read().decode(),
            "stderr": err.read().decode(),
        }


def part_b(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    timing = [
        "--login-delay-ms", str(args.fleet_login_delay_ms),
        "--latency-ms", str(args.fleet_latency_ms),
    ]  # fmt: skip
    shards = max(1, args.sim_processes)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with contextlib.ExitStack() as stack:
        # The fleet is served by several simulator processes so that the devices' side is
        # not the bottleneck on a shared machine (real fleets have a CPU per device).
        devices: list[dict[str, Any]] = []
        for k in range(shards):
            count = args.fleet // shards + (1 if k < args.fleet % shards else 0)
            path = stack.enter_context(
                sim_process(
                    tmp, f"b{k}", "--devices", str(count), "--platforms", "cisco_ios", *timing
                )
            )
            for entry in yaml.safe_load(path.read_text())["devices"]:
                entry["name"] = f"s{k}-{entry['name']}"
                devices.append(entry)
        inv = tmp / "b.yaml"
        inv.write_text(yaml.safe_dump({"devices": devices}))
        # Same devices, host key checking off (as netmiko's default), for netfleet run.
        for entry in devices:
            entry["host_key_policy"] = "off"
        inventory = tmp / "b-unchecked.yaml"
        inventory.write_text(yaml.safe_dump({"devices": devices}))
        env = dict(os.environ, NETFLEET_CONFIG=str(tmp / "none.toml"))
        commands = COMMANDS[: args.fleet_commands]
        default_cmd = [
            sys.executable, "-c", "from netfleet.cli.app import main; main()", "run", "-i",
            str(inventory), "-o", "json",
        ]  # fmt: skip
        for c in commands:
            default_cmd += ["-c", c]
        run_cmd = [*default_cmd, "--concurrency", str(args.threads)]
        # Start-up baselines: the same commands on one device.
        first = load_inventory(inventory).devices[0].name
        ours_1 = measure_with_rusage([*run_cmd, "--filter", f"name={first}"], env)
        nornir_inventory(inv, tmp / "nornir1", limit=1)
        nornir_1 = [sys.executable, "-c", NORNIR_SCRIPT, str(tmp / "nornir1"), "1",
                    json.dumps(commands)]  # fmt: skip
        theirs_1 = measure_with_rusage(nornir_1, env)
        ours = measure_with_rusage(run_cmd, env)
        ours["rss_above_start_mb"] = ours["peak_rss_mb"] - ours_1["peak_rss_mb"]
        report_doc = json.loads(ours["stdout"])
        ours["failed"] = report_doc["summary"]["failed"]
        ours["errors"] = sorted({r["error"] for r in report_doc["results"] if r["error"]})[:3]
        # netfleet run at its own default concurrency (no --concurrency flag).
        at_default = measure_with_rusage(default_cmd, env)
        at_default["rss_above_start_mb"] = at_default["peak_rss_mb"] - ours_1["peak_rss_mb"]
        at_default["failed"] = json.loads(at_default["stdout"])["summary"]["failed"]
        nornir_inventory(inv, tmp / "nornir")
        nornir_cmd = [
            sys.executable, "-c", NORNIR_SCRIPT, str(tmp / "nornir"), str(args.threads),
            json.dumps(commands),
        ]  # fmt: skip
        theirs = measure_with_rusage(nornir_cmd, env)
        theirs["rss_above_start_mb"] = theirs["peak_rss_mb"] - theirs_1["peak_rss_mb"]
        if theirs["rc"] != 0:
            raise SystemExit(f"nornir failed: {theirs['stderr'][-800:]}")
        result = json.loads(theirs["stdout"].strip().splitlines()[-1])
        theirs["failed"] = result["failed"]
        return {"netfleet": ours, "nornir": theirs, "netfleet_default": at_default, "load": load}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny numbers (a few seconds)")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=20, help="jobs per device")
    parser.add_argument("--commands", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=100, help="jobs running at once")
    parser.add_argument("--rate", type=float, default=50.0, help="job arrivals per second")
    parser.add_argument("--login-delay-ms", type=float, default=300.0)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--exec-timeout-s", type=float, default=1.0)
    parser.add_argument("--exec-devices", type=int, default=50)
    parser.add_argument("--exec-jobs", type=int, default=10)
    parser.add_argument("--fleet", type=int, default=1000)
    parser.add_argument("--fleet-commands", type=int, default=5)
    parser.add_argument("--fleet-login-delay-ms", type=float, default=0.0)
    parser.add_argument("--fleet-latency-ms", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--sim-processes", type=int, default=4, help="simulators for part B")
    parser.add_argument("--skip-nornir", action="store_true")
    parser.add_argument("--only-b", action="store_true", help="part B alone")
    args = parser.parse_args()
    if args.smoke:
        args.devices, args.jobs, args.concurrency, args.rate = 6, 4, 4, 40.0
        args.login_delay_ms, args.latency_ms = 50.0, 5.0
        args.exec_timeout_s, args.exec_devices, args.exec_jobs = 0.3, 3, 3
        args.fleet, args.threads, args.sim_processes = 10, 5, 1

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        a = None if args.only_b else asyncio.run(part_a(args, tmp))
        b = None if args.skip_nornir else part_b(args, tmp)
    report(args, a, b)


def report(args: argparse.Namespace, a: dict[str, Any] | None, b: dict[str, Any] | None) -> None:
    if a is not None:
        report_a(args, a)
    if b is not None:
        report_b(args, b)


def report_a(args: argparse.Namespace, a: dict[str, Any]) -> None:
    pooled, unpooled, expiring = a["pooled"], a["unpooled"], a["exec_timeout"]
    print(
        f"\nA. job stream: {args.devices} devices x {args.jobs} jobs x {args.commands} commands, "
        f"arriving at {args.rate:g}/s (Poisson), at most {args.concurrency} at a time; "
        f"login {args.login_delay_ms:g} ms, "
        f"command latency {args.latency_ms:g} ms"
    )
    print(f"{'':24} {'pool':>10} {'no pool':>10} {'ratio':>8}")
    rows = [
        ("logins per job", pooled.logins / pooled.jobs, unpooled.logins / unpooled.jobs),
        ("mean job ms", pooled.mean_job_ms, unpooled.mean_job_ms),
        ("mean job ms, warm", pooled.mean_warm_job_ms, unpooled.mean_warm_job_ms),
        ("p95 job ms", pooled.p95_job_ms, unpooled.p95_job_ms),
        ("mean checkout ms", pooled.mean_checkout_ms, unpooled.mean_checkout_ms),
        ("wall s", pooled.wall_s, unpooled.wall_s),
        ("failed jobs", pooled.failed, unpooled.failed),
    ]
    for name, ours, base in rows:
        ratio = f"{ours / base:8.3f}" if base else f"{'-':>8}"
        print(f"{name:24} {ours:10.3f} {base:10.3f} {ratio}")
    reduction = 1 - pooled.mean_job_ms / unpooled.mean_job_ms
    print(f"mean job time reduction: {reduction:.1%}  (target >= 80 %)")
    print(f"logins per job: {pooled.logins / pooled.jobs:.3f} vs 1.0  (target <= 0.05)")
    print(
        f"\nA2. devices close sessions idle > {args.exec_timeout_s:g} s (exec-timeout): "
        f"{expiring.jobs} jobs, {expiring.failed} failed, {expiring.logins} logins, "
        f"evictions {expiring.evictions}"
    )


def report_b(args: argparse.Namespace, b: dict[str, Any]) -> None:
    ours, theirs, at_default = b["netfleet"], b["nornir"], b["netfleet_default"]
    print(
        f"\nB. {args.fleet} devices ({args.sim_processes} simulator processes) x "
        f"{args.fleet_commands} commands; netfleet run "
        f"(--concurrency {args.threads}) vs Nornir + nornir_netmiko ({args.threads} threads)"
    )
    print(
        f"{'':18} {'netfleet':>10} {'nornir':>10} {'nornir/netfleet':>16} "
        f"{'netfleet default':>17} {'nornir/default':>15}"
    )
    for key, label in (
        ("wall_s", "wall s"),
        ("cpu_s", "CPU s"),
        ("peak_rss_mb", "peak RSS MB"),
        ("rss_above_start_mb", "RSS - 1-device MB"),
    ):
        ratio = theirs[key] / ours[key] if ours[key] > 0 else float("nan")
        ratio_d = theirs[key] / at_default[key] if at_default[key] > 0 else float("nan")
        print(
            f"{label:18} {ours[key]:10.2f} {theirs[key]:10.2f} {ratio:16.2f} "
            f"{at_default[key]:17.2f} {ratio_d:15.2f}"
        )
    print(
        f"{'failed devices':18} {ours['failed']:10d} {theirs['failed']:10d} {'':16} "
        f"{at_default['failed']:17d}"
    )
    print(f"load average before part B: {b['load']}")
    if ours["errors"]:
        print(f"netfleet errors (first 3 kinds): {ours['errors']}")


if __name__ == "__main__":
    main()
