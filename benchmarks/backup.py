"""Configuration backups: wall time, bytes stored, diff latency, storage at fleet scale.

1. Fleet: a simulator process serving Cisco IOS devices with 50 KB running configs; in
   this process a SQLite store, two workers on one pool, the API app (httpx over ASGI).
   Baseline: a plain ``show running-config`` job on the fleet; then a backup job (first
   versions), a backup with no change (bytes stored: aim 0); then ``--pairs`` times a
   one-line config change, a plain job and a backup of the change (bytes per version:
   aim <= 2 KB), in alternating order, each backup's ratio taken against the plain job
   run next to it (the machine's load drifts); the same pairs with a change on 5 % of
   the devices only (a nightly run: most configurations unchanged); then the p99 of
   ``GET /devices/{name}/configs/diff`` over the API.
2. Storage: D devices x V versions of a 50 KB configuration, each version one line
   changed, written with the store's SQL (``store_version``: reverse deltas) on SQLite
   and PostgreSQL; the bytes of blobs and of the database are printed, and the full run
   is extrapolated to 10,000 x 100 by devices (each device's bytes are independent).

    .venv/bin/python benchmarks/backup.py            # 1,000 devices; 1,000 x 100 stored
    .venv/bin/python benchmarks/backup.py --smoke    # under a minute (CI)
    .venv/bin/python benchmarks/backup.py --devices 300 --storage-devices 0 --pairs 5
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet

from netfleet.api import create_app
from netfleet.configs.compress import roll
from netfleet.configs.normalise import config_sha256, normalise
from netfleet.core.inventory import load_inventory
from netfleet.core.logging import configure_logging
from netfleet.core.settings import (
    BackupSettings,
    ConnectSettings,
    DatabaseSettings,
    LogSettings,
    PoolSettings,
    Settings,
    WorkerSettings,
)
from netfleet.store import SqlStore, open_store
from netfleet.store.schema_configs import config_versions
from netfleet.store.sql import configs as configs_sql
from netfleet.worker.process import build_workers

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
CONFIG_SIZE = 50_000
NIGHTLY_SHARE = 0.05
"""The share of devices whose configuration a "nightly" backup finds changed."""


def settings_for(tmp: Path, url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=url),
        connect=ConnectSettings(known_hosts=tmp / "known_hosts", host_key_policy="off"),
        worker=WorkerSettings(
            concurrency=100, poll_seconds=0.05, heartbeat_seconds=2.0, lease_seconds=300
        ),
        pool=PoolSettings(max_concurrent_logins=128, logins_per_second_per_device=50),
        backup=BackupSettings(keep_versions=100),
    )


async def wait_job(store: SqlStore, job_id: int, timeout: float = 3600) -> float:
    t0 = time.perf_counter()
    while True:
        job = await store.jobs.get(job_id, tasks=False, outputs=False)
        if job.finished_at is not None:
            if job.state != "succeeded":
                detail = await store.jobs.get(job_id)
                errors = {t.error for t in detail.tasks or () if t.error}
                raise SystemExit(f"job {job_id} {job.state}: {sorted(errors)[:3]}")
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            raise SystemExit(f"job {job_id} did not finish")
        await asyncio.sleep(0.05)


CPU: dict[str, list[float]] = {}
"""CPU seconds of this process (workers, store threads) per job, by job label."""


async def run_job(store: SqlStore, body: dict[str, Any], label: str = "") -> float:
    """Wall seconds of a job from submit to finish (its CPU seconds go to ``CPU``)."""
    from netfleet.jobs.model import parse_job_spec

    t0, c0 = time.perf_counter(), time.process_time()
    job = await store.jobs.submit(parse_job_spec(body))
    await wait_job(store, job.id)
    CPU.setdefault(label, []).append(time.process_time() - c0)
    return time.perf_counter() - t0


async def backup_and_plain(
    store: SqlStore, backup: dict[str, Any], plain: dict[str, Any], label: str, i: int
) -> tuple[float, float]:
    """Wall seconds of the backup job and of the plain job run next to it, in the order
    ``i`` gives (alternating: a drift of the machine's load hits both alike)."""
    if i % 2:
        took = await run_job(store, backup, label)
        return took, await run_job(store, plain, "plain")
    again = await run_job(store, plain, "plain")
    return await run_job(store, backup, label), again


def start_sim(devices: int, tmp: Path, inventory: Path) -> subprocess.Popen[bytes]:
    """A simulator process of ``devices`` IOS devices with 50 KB configs."""
    return subprocess.Popen(
        [sys.executable, "-m", "netfleet_sim", "--devices", str(devices), "--platforms",
         "cisco_ios", "--config-size", str(CONFIG_SIZE), "--inventory", str(inventory),
         "--max-sessions", "4"],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "sim.log").open("wb"),
    )  # fmt: skip


async def fleet_part(devices: int, tmp: Path, rounds: int, pairs: int) -> None:
    inventory = tmp / "fleet.yaml"
    sim = start_sim(devices, tmp, inventory)
    try:
        for _ in range(1200):
            if inventory.exists() and inventory.stat().st_size > 0:
                break
            if sim.poll() is not None:
                raise SystemExit("the simulator exited; see sim.log")
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        settings = settings_for(tmp, f"sqlite:///{tmp / 'fleet.db'}")
        store = await open_store(settings=settings, secret_key=Fernet.generate_key())
        specs = load_inventory(inventory).devices
        specs = [dataclasses.replace(s, groups=("all",)) for s in specs]
        await store.devices.import_many(specs)
        group = build_workers(store, settings, count=2)
        tasks = [asyncio.create_task(w.run()) for w in group.workers]
        try:
            target = {"targets": {"groups": ["all"]}}
            plain_job = {**target, "commands": ["show running-config"]}
            backup_job = {**target, "backup": True}
            await run_job(store, {**target, "commands": ["show version"]})  # open sessions
            plain = await run_job(store, plain_job, "plain")
            first = await run_job(store, backup_job, "first")
            _, bytes0 = await store.configs.stored_bytes()
            same = await run_job(store, backup_job, "same")
            _, bytes1 = await store.configs.stored_bytes()
            # Each pair: a one-line config change, then the plain job and the backup of
            # the change (``backup_and_plain``)
            changed: list[float] = []
            ratios: list[float] = []
            bytes2 = count = 0
            for i in range(pairs):
                await run_job(store, {**target, "config": [f"ntp server 192.0.2.{77 + i}"]})
                took, again = await backup_and_plain(store, backup_job, plain_job, "changed", i)
                if i == 0:
                    count, bytes2 = await store.configs.stored_bytes()
                changed.append(took)
                ratios.append(took / again)
            # A nightly run: a one-line change on a share of the devices only
            names = [s.name for s in specs]
            step = max(1, round(1 / NIGHTLY_SHARE))
            some = {"targets": {"devices": names[::step]}}
            nightly: list[float] = []
            for i in range(pairs):
                await run_job(store, {**some, "config": [f"ntp server 198.51.100.{10 + i}"]})
                took, again = await backup_and_plain(store, backup_job, plain_job, "nightly", i)
                nightly.append(took / again)
            print(f"fleet: {devices} IOS devices, {CONFIG_SIZE // 1000} KB configs, 2 workers")
            print(f"  plain show running-config job   {plain:8.2f} s   1.00x (baseline)")
            for label, took in (("first backup", first), ("backup, no change", same)):
                print(f"  {label:<32} {took:8.2f} s   {took / plain:.2f}x")
            pairs_text = ", ".join(
                f"{c:.2f} s {r:.2f}x" for c, r in zip(changed, ratios, strict=True)
            )
            print(
                f"  backup, one line changed: {pairs_text} (each against the plain job next to it)"
            )
            print(f"  one line changed, median of {pairs}: {statistics.median(ratios):.2f}x")
            print(
                f"  backup, one line changed on {len(names[::step])} of {devices} devices"
                f" (a nightly run), median of {pairs}: {statistics.median(nightly):.2f}x"
                f" ({', '.join(f'{r:.2f}x' for r in nightly)})"
            )
            cpu = {k: statistics.median(v) for k, v in CPU.items() if k}
            print(
                "  CPU of this process per job (median): "
                + ", ".join(f"{k} {v:.2f} s ({v / cpu['plain']:.2f}x)" for k, v in cpu.items())
            )
            print(f"  first versions: {bytes0 / devices:,.0f} B per device (compressed)")
            print(f"  stored by a backup with no change: {bytes1 - bytes0} B (aim 0)")
            per = (bytes2 - bytes1) / devices
            print(f"  stored per one-line change: {per:,.0f} B per device (aim <= 2,048)")
            print(f"  versions {count}, blobs {bytes2:,} B (after the first change)")
            app = create_app(store, settings, metrics_max_age_s=0.0)
            _, token = await store.tokens.create("bench", "viewer")
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers
            ) as client:
                lat = []
                for i in range(rounds):
                    t0 = time.perf_counter()
                    r = await client.get(f"/api/v1/devices/{names[i % len(names)]}/configs/diff")
                    lat.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
                    assert "+ntp server " in r.json()["diff"]  # the last change it had
            lat.sort()
            p50 = statistics.median(lat)
            p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
            print(
                f"  diff over the API (ASGI): p50 {p50:.1f} ms, p99 {p99:.1f} ms ({rounds} calls)"
            )
        finally:
            for w in group.workers:
                w.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await group.close()
            await store.close()
    finally:
        sim.terminate()
        sim.wait(timeout=30)


def make_config(target: int, seed: int = 11) -> str:
    """A 50 KB IOS-style configuration with varied interfaces, ACLs and routes."""
    rnd = random.Random(seed)
    out = ["!", "hostname bench-r1", "!", "snmp-server location rack 0", "!"]
    n = 0
    while sum(len(line) + 1 for line in out) < target:
        n += 1
        vlan = rnd.randint(2, 4000)
        out += [
            f"interface GigabitEthernet{n // 48}/0/{n % 48}",
            f" description {rnd.choice(['access', 'uplink', 'server', 'printer'])} "
            f"{rnd.randint(1, 999)} room {rnd.choice('ABCDEFG')}{rnd.randint(1, 40)}",
            f" switchport access vlan {vlan}",
            " switchport mode access",
            f" ip access-group ACL-{vlan % 97} in",
            "!",
            f"ip access-list extended ACL-{n}",
            f" permit tcp 10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.0 0.0.0.255 any eq "
            f"{rnd.choice([22, 80, 443, 8443, 161])}",
            f"ip route 10.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.0 255.255.255.0 "
            f"192.0.2.{rnd.randint(1, 254)}",
        ]
    out.append("end")
    return "\n".join(out) + "\n"


def version_blobs(versions: int) -> tuple[list[bytes], int, str]:
    """Blobs of one device's history (oldest first), a line changed per version."""
    lines = make_config(CONFIG_SIZE).split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("snmp-server location"))
    texts = []
    for v in range(versions):
        lines[at] = f"snmp-server location rack {v}"
        texts.append("\n".join(lines))
    blobs: list[bytes] = [b""] * versions
    for v in range(versions):
        previous = texts[v - 1] if v else None
        rolled = roll(texts[v], previous, run=v % 32)
        blobs[v] = rolled.latest
        if v and rolled.previous is not None:
            blobs[v - 1] = rolled.previous
    full, deltas = len(blobs[-1]), sum(len(b) for b in blobs[:-1])
    print(
        f"  one device: {len(texts[-1].encode()):,} B text; latest {full:,} B compressed, "
        f"{versions - 1} older versions {deltas / max(1, versions - 1):,.0f} B each on average"
    )
    return blobs, len(texts[-1].encode()), config_sha256(normalise(texts[-1], "cisco_ios"))


def storage_part(url: str, devices: int, versions: int) -> tuple[int, int, float]:
    """(blob bytes, database bytes, seconds) for devices x versions on ``url``."""
    blobs, size, sha = version_blobs(versions)
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for d in range(devices):
            rows = [
                {
                    "device": f"dev-{d:05d}", "version": v + 1, "created_at": 1.0e9 + v,
                    "job_id": v + 1, "platform": "cisco_ios", "sha256": sha, "size": size,
                    "added": 1, "removed": 1, "is_latest": v == versions - 1,
                    "is_full": blob[:1] == b"Z", "blob": blob, "raw_enc": None,
                }
                for v, blob in enumerate(blobs)
            ]  # fmt: skip
            conn.execute(sa.insert(config_versions), rows)
    took = time.perf_counter() - t0
    with engine.connect() as conn:
        blob_bytes = int(
            conn.execute(sa.select(sa.func.sum(sa.func.length(config_versions.c.blob)))).scalar()
            or 0
        )
        if engine.dialect.name == "postgresql":
            disk = int(
                conn.execute(sa.text("SELECT pg_total_relation_size('config_versions')")).scalar()
                or 0
            )
        else:
            conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
            disk = os.path.getsize(url.removeprefix("sqlite:///"))
        # the latest and an old version read back through the store's SQL
        latest = configs_sql.latest(conn, "dev-00000")
        old = configs_sql.get_version(conn, "dev-00000", 1)
        assert latest is not None
        assert latest.text != old.text
    engine.dispose()
    return blob_bytes, disk, took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small fleet (CI)")
    parser.add_argument("--devices", type=int, default=None, help="fleet part devices")
    parser.add_argument(
        "--storage-devices", type=int, default=None, help="storage part devices (0: skip)"
    )
    parser.add_argument(
        "--pairs", type=int, default=None, help="one-line changes backed up (default 3; smoke 1)"
    )
    args = parser.parse_args()
    configure_logging(LogSettings(level="WARNING"))
    devices = args.devices or (20 if args.smoke else 1000)
    store_devices, store_versions = (20, 100) if args.smoke else (1000, 100)
    if args.storage_devices is not None:
        store_devices = args.storage_devices
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        pairs = args.pairs or (1 if args.smoke else 3)
        await fleet_part(devices, tmp, 50 if args.smoke else 500, pairs)
        if not store_devices:
            return
        print(f"storage: {store_devices} devices x {store_versions} versions of 50 KB, "
              "one line changed per version; extrapolated to 10,000 devices")  # fmt: skip
        urls = [("sqlite", f"sqlite:///{tmp / 'storage.db'}")]
        pg_name = f"nf_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
            urls.append(("postgresql", f"postgresql://postgres@127.0.0.1:5432/{pg_name}"))
        except sa.exc.OperationalError:
            print("  PostgreSQL not reachable: SQLite only")
        try:
            for label, url in urls:
                store = await open_store(url, secret_key=Fernet.generate_key())  # migrates
                await store.close()
                blob, disk, took = storage_part(url, store_devices, store_versions)
                scale = 10_000 / store_devices
                print(
                    f"  {label:<10} blobs {blob / 1e6:8.1f} MB, database {disk / 1e6:8.1f} MB"
                    f" ({took:.1f} s); 10,000 x 100: blobs {blob * scale / 1e9:.2f} GB, "
                    f"database {disk * scale / 1e9:.2f} GB; raw text would be "
                    f"{10_000 * 100 * CONFIG_SIZE / 1e9:.0f} GB"
                )
        finally:
            if len(urls) > 1:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
