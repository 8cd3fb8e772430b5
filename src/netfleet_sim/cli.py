"""``netfleet sim`` / ``python -m netfleet_sim``: serve simulated devices until interrupted.

Bad input (unknown platform, port in use, invalid flag) prints one error line
on stderr and exits with status 2. When serving starts, one line beginning
``netfleet-sim: serving`` is printed on stdout (after the inventory is written).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import asyncssh

from netfleet_sim.device import DEFAULT_ENABLE_SECRET
from netfleet_sim.errors import SimulatorError
from netfleet_sim.faults import parse_fault_spec
from netfleet_sim.fleet import ALL_PLATFORMS, AUTH_METHODS, MAX_CONFIG_SIZE, Simulator
from netfleet_sim.server import LegacyMode

PROG = "netfleet sim"
LIST_LIMIT = 20


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise SimulatorError(message)


def _csv(value: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Serve simulated network devices over SSH on 127.0.0.1.")
    add = p.add_argument
    add("--devices", type=int, default=len(ALL_PLATFORMS), help="number of devices (default 8)")
    add("--base-port", type=int, default=0, help="first port; 0 = OS-chosen ports (default)")
    add("--platforms", type=_csv, default=list(ALL_PLATFORMS), help="comma-separated, round-robin")
    add("--inventory", type=Path, help="write the YAML inventory here")
    add("--login-delay-ms", type=float, default=0.0)
    add("--latency-ms", type=float, default=0.0, help="per-command latency")
    add("--jitter-ms", type=float, default=0.0, help="extra random latency 0..J")
    add("--control-port", type=int, help="HTTP control interface port on 127.0.0.1 (0 = any)")
    add("--state-dir", type=Path, help="keep host keys and device states here")
    add(
        "--host-key-dir",
        type=Path,
        help="keep host keys here (default: the state dir, else ~/.cache/netfleet-sim)",
    )
    add(
        "--ephemeral-host-keys",
        action="store_true",
        help="new host keys on every start (clients pinning keys will see them change)",
    )
    add("--username", default="admin")
    add("--password", default="admin")
    add("--enable-secret", default=DEFAULT_ENABLE_SECRET)
    add("--exec-timeout-s", type=float, help="close sessions idle this long")
    add("--max-sessions", type=int, default=5, help="vty lines per device (default 5)")
    add("--config-size", type=int, default=0, help=f"pad configs to BYTES (<= {MAX_CONFIG_SIZE})")
    add("--bytes-per-second", type=int, help="slow output down to this rate")
    add("--auth", type=_csv, default=list(AUTH_METHODS), help=",".join(AUTH_METHODS))
    add("--authorized-key", type=Path, action="append", default=[], help="public key file")
    add(
        "--legacy-algorithms",
        nargs="?",
        const="add",
        choices=["add", "only"],
        help="also offer old algorithms (ssh-rsa, group14-sha1, aes-cbc); 'only' offers just those",
    )
    add(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="[DEVICE_GLOB:]key=value[,key=value] e.g. 'sim-ios-*:latency_ms=200,refuse_auth'",
    )
    return p


def _read_keys(paths: list[Path]) -> list[asyncssh.SSHKey]:
    keys: list[asyncssh.SSHKey] = []
    for path in paths:
        try:
            keys.extend(asyncssh.read_public_key_list(path))
        except (OSError, asyncssh.KeyImportError) as exc:
            raise SimulatorError(f"cannot read authorized key {path}: {exc}") from None
    return keys


def simulator_from_args(args: argparse.Namespace) -> Simulator:
    faults: dict[str, dict[str, Any]] = {}
    for spec in args.fault:
        glob, changes = parse_fault_spec(spec)
        faults.setdefault(glob, {}).update(changes)
    legacy: LegacyMode = (
        "only" if args.legacy_algorithms == "only" else bool(args.legacy_algorithms)
    )
    return Simulator(
        devices=args.devices,
        platforms=args.platforms,
        base_port=args.base_port,
        username=args.username,
        password=args.password,
        enable_secret=args.enable_secret,
        login_delay_ms=args.login_delay_ms,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        max_sessions=args.max_sessions,
        exec_timeout_s=args.exec_timeout_s,
        config_size=args.config_size,
        bytes_per_second=args.bytes_per_second,
        auth=args.auth,
        authorized_keys=_read_keys(args.authorized_key),
        legacy_algorithms=legacy,
        faults=faults,
        state_dir=args.state_dir,
        control_port=args.control_port,
        host_key_dir=args.host_key_dir,
        ephemeral_host_keys=args.ephemeral_host_keys,
    )


def _summary(sim: Simulator, args: argparse.Namespace, elapsed: float) -> str:
    ports = sorted(d.port for d in sim.devices)
    span = f"ports {ports[0]}-{ports[-1]}" if args.base_port else "OS-chosen ports"
    parts = [f"netfleet-sim: serving {len(sim.devices)} devices on 127.0.0.1 {span}"]
    if sim.control_url:
        parts.append(f"control {sim.control_url}")
    if args.inventory:
        parts.append(f"inventory {args.inventory}")
    parts.append(f"started in {elapsed:.2f} s")
    return "; ".join(parts)


async def _serve(sim: Simulator, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    await sim.start()
    try:
        if args.inventory:
            sim.write_inventory(args.inventory)
        print(_summary(sim, args, time.perf_counter() - started), flush=True)
        if len(sim.devices) <= LIST_LIMIT:
            for d in sim.devices:
                print(f"  {d.name:<20} {d.platform:<14} {d.host}:{d.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the simulator CLI; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        sim = simulator_from_args(args)
        asyncio.run(_serve(sim, args))
    except SimulatorError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
