"""The parsed-spec cache stays bounded by the size of what it keeps, not only by count."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from netfleet.jobs.model import JobSpec
from netfleet.store.sql.jobs import SPEC_OVERHEAD, SpecCache


def spec_text(job: int, devices: int = 200) -> str:
    names = [f"site-{job % 7}-switch-{i:04d}" for i in range(devices)]
    spec = JobSpec.model_validate(
        {"targets": {"devices": names}, "config": [f"snmp-server location job {job}"]}
    )
    return spec.model_dump_json()


@pytest.mark.parametrize("devices", [1, 200])
def test_many_finished_jobs_keep_a_bounded_amount_of_memory(devices: int) -> None:
    """3,000 jobs (a long-running worker): with the count bound alone (2,048) the cache
    kept about 11 MiB of one-device specs and 14 MiB of 200-device ones."""
    texts = [spec_text(job, devices) for job in range(3000)]
    cache = SpecCache()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for job, text in enumerate(texts):
            cache.get(job, text)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 6 * 2**20, f"{kept / 2**20:.1f} MiB kept"
    assert cache.estimated_bytes <= 4 * 2**20
    assert cache.get(2999, "not parsed: a hit") is cache.get(2999)


def test_recent_specs_stay_and_the_least_recently_used_go_first() -> None:
    text = spec_text(0, devices=10)
    weight = SPEC_OVERHEAD + len(text)
    cache = SpecCache(size=100, max_bytes=3 * weight)
    first = cache.get(1, text)
    cache.get(2, text)
    assert cache.get(1, "not parsed: a hit") is first  # 1 is now the most recent
    cache.get(3, text)
    cache.get(4, text)  # over the budget: 2, the least recently used, goes
    assert len(cache) == 3
    assert cache.estimated_bytes == 3 * weight
    assert cache.get(1, "not parsed: a hit") is first
    assert cache.get(2, text) is not first  # parsed again


def test_a_spec_larger_than_the_budget_is_still_kept_alone() -> None:
    big, small = spec_text(0, devices=500), spec_text(1, devices=5)
    cache = SpecCache(max_bytes=len(big) // 2)
    cache.get(1, small)
    spec = cache.get(2, big)
    assert len(cache) == 1
    assert cache.estimated_bytes == SPEC_OVERHEAD + len(big)
    assert cache.get(2, "not parsed: a hit") is spec
    cache.get(3, small)
    assert (len(cache), cache.estimated_bytes) == (1, SPEC_OVERHEAD + len(small))


def test_the_count_bound_still_applies() -> None:
    text = spec_text(0, devices=1)
    cache = SpecCache(size=5)
    for job in range(20):
        cache.get(job, text)
    assert len(cache) == 5
    assert cache.estimated_bytes == 5 * (SPEC_OVERHEAD + len(text))
