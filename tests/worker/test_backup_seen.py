"""``BackupRunner.record``: a text identical to the one last recorded for the device is
noted unchanged without being checked or normalised again, and only while the latest
version still has its digest and the platform spec is the same object."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from netfleet.configs.sanity import PreparedConfig, prepare_config
from netfleet.core.errors import ConfigRejected
from netfleet.core.settings import BackupSettings, DatabaseSettings, MaskingSettings, Settings
from netfleet.platforms import get_platform
from netfleet.store import SqlStore
from netfleet.worker import backup as backup_mod
from netfleet.worker.backup import BackupRunner, SeenTexts
from tests.support.store_fixtures import pg_url, store, store_url

__all__ = ["pg_url", "store", "store_url"]

PLATFORM = "cisco_ios"


def _config(n: int) -> str:
    body = "\n".join(f"interface Gi0/{i}\n description port {i}\n!" for i in range(50))
    return f"hostname r1\n!\nsnmp-server location rack-{n}\n{body}\nend\n"


class Counting:
    """``prepare_config`` of the runner's module, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str, platform: Any, *, device: str = "") -> PreparedConfig:
        self.calls += 1
        return prepare_config(text, platform, device=device)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> Counting:
    spy = Counting()
    monkeypatch.setattr(backup_mod, "prepare_config", spy)
    return spy


def _runner(store: SqlStore, tmp_path: Path, *, keep_raw: bool = False) -> BackupRunner:
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'unused.db'}"),
        backup=BackupSettings(),
        masking=MaskingSettings(keep_raw=keep_raw),
    )
    return BackupRunner(store, settings)


async def test_an_identical_text_is_not_prepared_again(
    store: SqlStore, tmp_path: Path, counting: Counting
) -> None:
    runner = _runner(store, tmp_path)
    first = await runner.record(_config(1), "r1", PLATFORM, [])
    assert first.version is not None
    assert counting.calls == 1
    for _ in range(2):
        same = await runner.record(_config(1), "r1", PLATFORM, [], job_id=3)
        assert (same.changed, same.latest) == (False, 1)
    assert counting.calls == 1
    changed = await runner.record(_config(2), "r1", PLATFORM, [])
    assert changed.version is not None
    assert changed.version.version == 2
    assert counting.calls == 2
    assert len(runner.seen) == 1


async def test_a_rejected_text_is_never_a_version_and_keeps_the_hint(
    store: SqlStore, tmp_path: Path, counting: Counting
) -> None:
    runner = _runner(store, tmp_path)
    await runner.record(_config(1), "r1", PLATFORM, [])
    truncated = _config(1)[:-5]
    with pytest.raises(ConfigRejected, match="truncated"):
        await runner.record(truncated, "r1", PLATFORM, [])
    with pytest.raises(ConfigRejected, match="empty"):
        await runner.record("", "r1", PLATFORM, [])
    assert [v.version for v in await store.configs.list("r1")] == [1]
    calls = counting.calls
    same = await runner.record(_config(1), "r1", PLATFORM, [])
    assert not same.changed
    assert counting.calls == calls


async def test_the_hint_is_checked_against_the_latest_version(
    store: SqlStore, tmp_path: Path, counting: Counting
) -> None:
    runner = _runner(store, tmp_path)
    await runner.record(_config(1), "r1", PLATFORM, [])
    # another worker stored another text meanwhile: the same text is a change back
    other = _runner(store, tmp_path)
    await other.record(_config(2), "r1", PLATFORM, [])
    back = await runner.record(_config(1), "r1", PLATFORM, [])
    assert back.version is not None
    assert back.version.version == 3
    assert back.diff is not None
    assert "+snmp-server location rack-1" in back.diff.text
    assert (await store.configs.get("r1")).text == _config(1)


async def test_new_platform_rules_and_keep_raw_take_the_long_way(
    store: SqlStore, tmp_path: Path, counting: Counting, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = _runner(store, tmp_path)
    await runner.record(_config(1), "r1", PLATFORM, [])
    reloaded = dataclasses.replace(get_platform(PLATFORM))
    monkeypatch.setattr(backup_mod, "get_platform", lambda name: reloaded)
    assert not (await runner.record(_config(1), "r1", PLATFORM, [])).changed
    assert counting.calls == 2
    raw = _runner(store, tmp_path, keep_raw=True)
    for _ in range(2):
        assert not (await raw.record(_config(1), "r1", PLATFORM, [])).changed
    assert counting.calls == 4
    assert len(raw.seen) == 0


def test_seen_texts_are_bounded() -> None:
    spec = get_platform(PLATFORM)
    seen = SeenTexts(limit=2)
    seen.note("a", b"1", spec, "x")
    seen.note("b", b"2", spec, "y")
    seen.note("b", b"3", spec, "z")
    assert len(seen) == 2
    assert seen.expect("b", b"3", spec) == "z"
    assert seen.expect("b", b"2", spec) is None
    seen.note("c", b"4", spec, "w")
    assert len(seen) == 1
    assert seen.expect("a", b"1", spec) is None
    assert seen.expect("c", b"4", spec) == "w"
