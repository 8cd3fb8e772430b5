"""Contract: a whole-inventory filter preview is counted in SQL and agrees exactly with
the resolution a submitted job gets (same devices, same order, same errors)."""

from __future__ import annotations

import pytest

from netfleet.jobs.model import Targets
from netfleet.store import SqlStore
from tests.support.store import add_devices

NAMES = ("Core-1", "core-2", "core_x", "core%y", "edge-10", "edge-2", "edge.a", "lab\\z")
FILTERS = (
    "name=core*",
    "name=core_?",
    "name=core%*",
    "name=edge-?",
    "name!=edge-* platform=ios",
    "name=lab\\*",
    "platform=cisco_*",
    "platform=eos,junos",
    "host=10.0.0.*",
    "group=core",
    "group=c*",
    "group!=edge tag=lab",
    "tag!=lab",
    "tag=l?b name=*-*",
    "name=edge-[12]*",
)


async def test_filter_preview_agrees_with_job_resolution(store: SqlStore) -> None:
    platforms = ("cisco_ios", "arista_eos", "juniper_junos", "cisco_nxos")
    for i, name in enumerate(NAMES):
        await add_devices(
            store,
            name,
            host=f"10.0.{i % 2}.{i}",
            platform=platforms[i % 4],
            groups=("core",) if i % 3 == 0 else ("edge", "all"),
            tags=("lab",) if i % 2 else ("prod",),
        )
    for text in FILTERS:
        fast = await store.pages.preview_targets(Targets(filter=text), limit=1000)
        # naming every device forces the per-device path of job resolution
        slow = await store.pages.preview_targets(
            Targets(devices=list(NAMES), filter=text), limit=1000
        )
        assert (fast.count, fast.names, fast.error) == (slow.count, slow.names, slow.error), text
        assert fast.count > 0, text  # every filter above matches something


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("platform=juniper_junos", "targets: no device matches"),
        ("platform=nosuch_os", "targets.filter: unknown platform"),
        ("colour=red", "targets.filter:"),
    ],
)
async def test_filter_preview_errors_are_a_jobs(store: SqlStore, text: str, error: str) -> None:
    await add_devices(store, 3)
    found = await store.pages.preview_targets(Targets(filter=text))
    assert found.count == 0
    assert found.names == ()
    assert found.error is not None
    assert found.error.startswith(error), found.error


async def test_filter_preview_lists_a_few_and_counts_all(store: SqlStore) -> None:
    await add_devices(store, 30)
    found = await store.pages.preview_targets(Targets(filter="name=edge-0*"), limit=5)
    assert found.count == 30
    assert found.names == tuple(f"edge-{i:03d}" for i in range(5))
