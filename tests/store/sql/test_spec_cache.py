"""The parsed-spec cache stays bounded by the size of what it keeps, not only by count."""

from __future__ import annotations

import gc
import tracemalloc

from netfleet.jobs.model import JobSpec
from netfleet.store.sql.jobs import SpecCache


def spec_text(job: int, devices: int = 200) -> str:
    names = [f"site-{job % 7}-switch-{i:04d}" for i in range(devices)]
    spec = JobSpec.model_validate({"targets": {"devices": names}, "commands": ["show clock"]})
    return spec.model_dump_json()


def test_many_large_finished_jobs_keep_a_bounded_amount_of_memory() -> None:
    """3,000 jobs of 200 devices each (a long-running worker): with the count bound alone
    (2,048) the cache kept about 14 MiB of parsed specs."""
    texts = [spec_text(job) for job in range(7)]
    cache = SpecCache()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for job in range(3000):
            cache.get(job, texts[job % 7])
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 4 * 2**20, f"{kept / 2**20:.1f} MiB kept"
    assert len(cache) < 2048
    assert cache.chars <= 2**20


def test_recent_specs_stay_and_the_least_recently_used_go_first() -> None:
    text = spec_text(0, devices=10)
    cache = SpecCache(size=100, max_chars=3 * len(text))
    first = cache.get(1, text)
    cache.get(2, text)
    assert cache.get(1, "not parsed: a hit") is first  # 1 is now the most recent
    cache.get(3, text)
    cache.get(4, text)  # over the budget: 2, the least recently used, goes
    assert len(cache) == 3
    assert cache.chars == 3 * len(text)
    assert cache.get(1, "not parsed: a hit") is first
    assert cache.get(2, text) is not first  # parsed again


def test_a_spec_larger_than_the_budget_is_still_kept_alone() -> None:
    big, small = spec_text(0, devices=500), spec_text(1, devices=5)
    cache = SpecCache(max_chars=len(big) // 2)
    cache.get(1, small)
    spec = cache.get(2, big)
    assert len(cache) == 1
    assert cache.chars == len(big)
    assert cache.get(2, "not parsed: a hit") is spec
    cache.get(3, small)
    assert (len(cache), cache.chars) == (1, len(small))


def test_the_count_bound_still_applies() -> None:
    text = spec_text(0, devices=1)
    cache = SpecCache(size=5)
    for job in range(20):
        cache.get(job, text)
    assert len(cache) == 5
    assert cache.chars == 5 * len(text)
