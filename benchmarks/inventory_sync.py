"""NetBox inventory sync of 10,000 devices from the loopback fixture service.

Measures, in one run: the full sync (``fetch_source``: ``/api/status/`` plus every
``/api/dcim/devices/`` page over HTTP, mapping, then ``plan_sync`` against a current
inventory with 1% changed and 1% removed) against a baseline of parsing and mapping
the same JSON pages without HTTP. Prints wall times, requests made and the ratio.

    .venv/bin/python benchmarks/inventory_sync.py            # 10,000 devices, 3 rounds
    .venv/bin/python benchmarks/inventory_sync.py --smoke    # 1,000 devices, 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.support

from cryptography.fernet import Fernet

from netfleet.core.models import DeviceSpec
from netfleet.integrations.netbox import SourceConfig, fetch_source, map_devices
from netfleet.integrations.sync import CurrentDevice, plan_sync
from netfleet.store import open_store
from netfleet.store.records_integrations import NewSource
from netfleet.worker.source_sync import sync_source
from tests.support.netbox_service import fixture_service, netbox_device


def _current(specs: list[DeviceSpec]) -> list[CurrentDevice]:
    out = []
    for n, spec in enumerate(specs):
        if n % 100 == 0:
            continue  # 1% new upstream
        if n % 100 == 1:
            spec = DeviceSpec(name=spec.name, host="192.0.2.1", platform=spec.platform)
        out.append(CurrentDevice(spec))
    out.extend(
        CurrentDevice(DeviceSpec(f"gone{i}", "192.0.2.9", "cisco_ios"))
        for i in range(len(specs) // 100)
    )
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--devices", type=int, default=None)
    args = parser.parse_args()
    count = args.devices or (1000 if args.smoke else 10000)
    rounds = 1 if args.smoke else 3
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, i) for i in range(1, count + 1)]
        source = SourceConfig(name="bench", url=svc.base, token=svc.token, page_size=1000)
        pages = [
            json.dumps(svc.page(f"limit=1000&offset={off}")[1]) for off in range(0, count, 1000)
        ]
        baseline, full = [], []
        requests = 0
        report = None
        for _ in range(rounds):
            t0 = time.perf_counter()
            raws = [r for text in pages for r in json.loads(text)["results"]]
            specs, _ = map_devices(raws, source)
            baseline.append(time.perf_counter() - t0)
            current = _current(specs)
            before = svc.requests
            t0 = time.perf_counter()
            fetched = await fetch_source(source)
            report = plan_sync(current, fetched.devices, fetched.skipped)
            full.append(time.perf_counter() - t0)
            requests = svc.requests - before
    assert report is not None
    b, f = statistics.median(baseline), statistics.median(full)
    print(f"inventory sync, {count} devices, {rounds} round(s), median wall time")
    print(f"{'scenario':<40} {'seconds':>9} {'requests':>9} {'ratio':>7}")
    print(f"{'parse + map JSON, no HTTP (baseline)':<40} {b:>9.3f} {0:>9} {1.0:>7.2f}")
    print(f"{'fetch over HTTP + map + plan':<40} {f:>9.3f} {requests:>9} {f / b:>7.2f}")
    print(f"plan: {report.summary()}")
    await _into_store(count)


async def _into_store(count: int) -> None:
    """The whole ``netfleet inventory sync`` into a SQLite store: a first sync (every
    device added), then one with 1% moved and 1% gone upstream."""
    with tempfile.TemporaryDirectory() as tmp, fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, i) for i in range(1, count + 1)]
        store = await open_store(
            f"sqlite:///{Path(tmp) / 'bench.db'}", secret_key=Fernet.generate_key()
        )
        try:
            await store.sources.create(
                NewSource("bench", "netbox", {"url": svc.base, "page_size": 1000}, svc.token)
            )
            rows = []
            for label in ("first sync (all added)", "second sync (1% moved, 1% gone)"):
                before = svc.requests
                t0 = time.perf_counter()
                rep = await sync_source(store, "bench")
                rows.append((label, time.perf_counter() - t0, svc.requests - before, rep.summary))
                moved = [netbox_device(svc.base, i, site="dc9") for i in range(1, count // 100 + 1)]
                svc.devices = moved + svc.devices[count // 100 : count - count // 100]
        finally:
            await store.close()
    print(f"into the store (SQLite), {count} devices")
    for label, seconds, requests, summary in rows:
        print(f"{label:<40} {seconds:>9.3f} {requests:>9}   {summary}")


if __name__ == "__main__":
    asyncio.run(main())
