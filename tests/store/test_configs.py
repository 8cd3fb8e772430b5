"""``store.configs`` on SQLite and PostgreSQL: versions only on change, every old version
read back exactly through the reverse deltas, retention, search, raw texts encrypted."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from netfleet.configs.compress import CHECKPOINT_EVERY
from netfleet.configs.diff import unified_diff
from netfleet.configs.normalise import normalise
from netfleet.configs.sanity import prepare_config
from netfleet.core.errors import NotFound, ValidationError
from netfleet.store import SqlStore
from netfleet.store.facades import configs_record
from netfleet.store.facades.configs import Recorded, Retention
from netfleet.store.facades.configs_batch import WriteBatch
from netfleet.store.schema_configs import config_backups, config_versions
from netfleet.store.sql import configs as sql

PLATFORM = "cisco_ios"


def _config(n: int, *, stamp: str = "10:00:00", lines: int = 200) -> str:
    body = "\n".join(f"interface Gi0/{i}\n description port {i}\n!" for i in range(lines))
    return (
        "Building configuration...\n\nCurrent configuration : 999 bytes\n!\n"
        f"! Last configuration change at {stamp} UTC Wed Dec 2 2026 by admin\n!\n"
        f"hostname r1\n!\nsnmp-server location rack-{n}\n{body}\nend\n"
    )


async def _record(
    store: SqlStore,
    text: str,
    device: str = "r1",
    *,
    raw: str | None = None,
    retention: Retention | None = None,
) -> Recorded:
    prepared = prepare_config(text, PLATFORM, device=device)
    return await store.configs.record(
        device, prepared, platform=PLATFORM, raw=raw, retention=retention
    )


async def test_a_version_only_when_the_normalised_text_changes(store: SqlStore) -> None:
    first = await _record(store, _config(1))
    assert first.changed
    assert first.version is not None
    assert first.version.version == 1
    same = await _record(store, _config(1, stamp="11:11:11"))
    assert not same.changed
    assert same.latest == 1
    second = await _record(store, _config(2))
    assert second.version is not None
    assert second.diff is not None
    assert second.version.version == 2
    assert (second.version.added, second.version.removed) == (1, 1)
    assert "+snmp-server location rack-2" in second.diff.text
    latest = await store.configs.latest("r1")
    assert latest is not None
    assert latest.text == _config(2)
    assert latest.version == 2
    assert (await store.configs.get("r1", 1)).text == _config(1)
    assert await store.configs.latest("nobody") is None
    assert await store.configs.changes_total() == 1


async def test_every_version_reads_back_exactly_across_checkpoints(store: SqlStore) -> None:
    count = CHECKPOINT_EVERY + 8
    for n in range(1, count + 1):
        await _record(store, _config(n))
    for n in (1, 2, CHECKPOINT_EVERY - 1, CHECKPOINT_EVERY, CHECKPOINT_EVERY + 1, count):
        assert (await store.configs.get("r1", n)).text == _config(n), n
    listed = await store.configs.list("r1", limit=5)
    assert [v.version for v in listed] == list(range(count, count - 5, -1))
    versions, stored = await store.configs.stored_bytes()
    assert versions == count
    full = len(_config(1).encode())
    # the latest is one compressed text; each older version is a delta of a few bytes
    assert stored < full / 2 + count * 200


async def test_retention_keeps_the_newest_and_always_the_latest(store: SqlStore) -> None:
    for n in range(1, 8):
        await _record(store, _config(n), retention=Retention(keep=3))
    assert [v.version for v in await store.configs.list("r1")] == [7, 6, 5]
    assert (await store.configs.get("r1", 5)).text == _config(5)
    with pytest.raises(NotFound, match="no configuration version 4"):
        await store.configs.get("r1", 4)
    # an age limit that every version passes: only the latest stays
    assert await store.configs.prune(Retention(keep=0, days=1e-9)) == 2
    assert [v.version for v in await store.configs.list("r1")] == [7]
    assert (await store.configs.get("r1", "latest")).text == _config(7)


async def test_search_is_bounded_and_regex_is_re2(store: SqlStore) -> None:
    for device in ("a1", "b2", "c3"):
        await _record(store, _config(1, lines=20), device=device)
    hits, truncated = await store.configs.search("description port 1")
    assert not truncated
    assert {(h.device, h.text) for h in hits} >= {("a1", " description port 1")}
    assert len(hits) == 3 * 11  # port 1 and ports 10..19 on each device
    hits, truncated = await store.configs.search(r"^ description port 1\d$", regex=True, limit=5)
    assert truncated
    assert len(hits) == 5
    with pytest.raises(ValidationError, match="RE2"):
        await store.configs.search("(a", regex=True)
    with pytest.raises(ValidationError):
        await store.configs.search("")


async def test_raw_text_is_kept_encrypted(store: SqlStore) -> None:
    raw = _config(1).replace("hostname r1", "hostname r1\nenable secret 5 $1$sEcReT$abc")
    masked = raw.replace("$1$sEcReT$abc", "<removed>")
    await _record(store, masked, raw=raw)
    version = await store.configs.get("r1")
    assert "sEcReT" not in (version.text or "")
    assert store.configs.raw_text(version) == raw

    def stored(conn: sa.Connection) -> list[str]:
        return [r.raw_enc for r in conn.execute(sa.select(config_versions.c.raw_enc))]

    [enc] = await store.db.run(stored, write=False)
    assert "sEcReT" not in enc


async def test_failures_and_status(store: SqlStore) -> None:
    await store.configs.record_failure("r9", "not a configuration: the output is empty")
    await _record(store, _config(1))
    assert await store.configs.status() == []  # only inventory devices are listed


async def test_age_retention_applies_on_an_unchanged_backup_too(store: SqlStore) -> None:
    await _record(store, _config(1))
    await _record(store, _config(2))
    again = await _record(store, _config(2), retention=Retention(keep=0, days=1e-9))
    assert not again.changed
    assert [v.version for v in await store.configs.list("r1")] == [2]


async def test_diff_and_search_do_not_wait_for_the_store_thread(store: SqlStore) -> None:
    """Reads run on their own threads and connections: while a write transaction holds
    the store thread (and on SQLite the write lock), diffs, versions and search answer."""
    await _record(store, _config(1))
    await _record(store, _config(2))
    entered, release = threading.Event(), threading.Event()

    def hold(conn: sa.Connection) -> None:
        conn.execute(sa.update(config_versions).values(job_id=None))  # takes the write lock
        entered.set()
        release.wait(60)

    holder = asyncio.ensure_future(store.db.run(hold, what="hold the store thread"))
    try:
        await asyncio.to_thread(entered.wait, 60)
        assert entered.is_set()
        reads = asyncio.gather(
            store.configs.diff("r1"),
            store.configs.get("r1", 1),
            store.configs.search("rack-2"),
            store.configs.list("r1"),
        )
        (_old, _new, diff), first, (hits, _), versions = await asyncio.wait_for(reads, 60)
        assert not holder.done()  # answered while the write was still open
        assert "+snmp-server location rack-2" in diff.text
        assert first.text == _config(1)
        assert [h.text for h in hits] == ["snmp-server location rack-2"]
        assert [v.version for v in versions] == [2, 1]
    finally:
        release.set()
        await holder


async def test_concurrent_backups_share_write_transactions(store: SqlStore) -> None:
    names = [f"r{i}" for i in range(30)]
    first = await asyncio.gather(*(_record(store, _config(1), name) for name in names))
    assert all(r.changed for r in first)
    batches = store.configs._writes.batches
    again = await asyncio.gather(*(_record(store, _config(2), name) for name in names))
    assert [r.latest for r in again] == [2] * 30
    assert store.configs._writes.batches - batches < 30  # fewer transactions than devices
    same = await asyncio.gather(*(_record(store, _config(2), name) for name in names))
    assert [r.changed for r in same] == [False] * 30

    def changes(conn: sa.Connection) -> set[tuple[Any, ...]]:
        cb = config_backups.c
        return {tuple(r) for r in conn.execute(sa.select(cb.ok, cb.changes))}

    assert await store.db.run(changes, write=False) == {(True, 1)}
    for name in names[::7]:
        assert (await store.configs.get(name, 1)).text == _config(1)
        assert (await store.configs.latest(name)).text == _config(2)  # type: ignore[union-attr]


async def test_a_failing_write_in_a_batch_fails_only_its_caller(store: SqlStore) -> None:
    batch = WriteBatch(store.db, linger_s=0.05)

    def note(device: str, fail: bool = False) -> Callable[[sa.Connection, Any], str]:
        def op(conn: sa.Connection, _later: Any) -> str:
            sql.note_attempt(conn, device, ok=True, error=None, job_id=None, now=1.0)
            if fail:
                raise ValidationError(f"{device} refused")
            return device

        return op

    results = await asyncio.gather(
        batch.run(note("a")), batch.run(note("b", fail=True)), batch.run(note("c")),
        return_exceptions=True,
    )  # fmt: skip
    assert results[0] == "a"
    assert isinstance(results[1], ValidationError)
    assert results[2] == "c"
    assert batch.batches == 1
    states = await store.db.run(
        lambda c: {r.device for r in c.execute(sa.select(config_backups.c.device))},
        write=False,
    )
    assert "a" in states
    assert "c" in states
    assert "b" not in states  # rolled back to its savepoint


async def test_a_changed_backup_normalises_only_the_new_text(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = _config(1), _config(2, stamp="12:34:56").replace("!\n", "! \n", 3)
    await _record(store, old)

    def refuse(text: str, platform: object) -> str:
        raise AssertionError("the previous version was normalised again")

    monkeypatch.setattr(configs_record, "normalise", refuse)
    second = await _record(store, new)
    assert second.diff is not None
    expected = unified_diff(
        normalise(old, PLATFORM), normalise(new, PLATFORM), old_name="r1@1", new_name="r1@2"
    )
    assert second.diff == expected
    assert "+snmp-server location rack-2" in expected.text


async def test_a_changed_backup_after_a_text_with_cr_lf(store: SqlStore) -> None:
    old, new = _config(1).replace("\n", "\r\n"), _config(2)
    await _record(store, old)
    second = await _record(store, new)
    assert second.diff == unified_diff(
        normalise(old, PLATFORM), normalise(new, PLATFORM), old_name="r1@1", new_name="r1@2"
    )
    assert (await store.configs.get("r1", 1)).text == old


async def test_an_expected_digest_notes_an_unchanged_backup_in_one_write(
    store: SqlStore,
) -> None:
    first = await _record(store, _config(1))
    assert first.version is not None
    assert first.sha256 == first.version.sha256

    def refuse() -> Any:
        raise AssertionError("the config was prepared although its digest was expected")

    same = await store.configs.record("r1", refuse, platform=PLATFORM, expect=first.sha256)
    assert (same.version, same.latest, same.sha256) == (None, 1, first.sha256)

    def attempt(conn: sa.Connection) -> tuple[Any, ...]:
        query = sa.select(config_backups.c.ok, config_backups.c.job_id)
        return tuple(conn.execute(query.where(config_backups.c.device == "r1")).one())

    await store.configs.record("r1", refuse, platform=PLATFORM, job_id=7, expect=first.sha256)
    assert await store.db.run(attempt, write=False) == (True, 7)
    # another digest than the latest's: the long way, the config is prepared and stored
    second = await store.configs.record(
        "r1",
        lambda: prepare_config(_config(2), PLATFORM, device="r1"),
        platform=PLATFORM,
        expect="0" * 64,
    )
    assert second.version is not None
    assert second.version.version == 2
    # an expected digest that is no longer the latest's (the history moved on)
    again = await store.configs.record(
        "r1",
        lambda: prepare_config(_config(1), PLATFORM, device="r1"),
        platform=PLATFORM,
        expect=first.sha256,
    )
    assert again.version is not None
    assert (again.latest, again.sha256) == (3, first.sha256)
    # no device with versions: the long way too (a first version)
    new = await store.configs.record(
        "r2",
        lambda: prepare_config(_config(1), PLATFORM, device="r2"),
        platform=PLATFORM,
        expect=first.sha256,
    )
    assert new.version is not None
    assert new.latest == 1


async def test_attempt_notes_of_a_batch_in_one_update(store: SqlStore) -> None:
    notes = [
        sql.AttemptNote("a", 1, 10.0),
        sql.AttemptNote("new", 2, 11.0, changed=True),
        sql.AttemptNote("a", 3, 12.0, changed=True),
        sql.AttemptNote("new", 4, 13.0, changed=True),
        sql.AttemptNote("b", 5, 14.0),
    ]

    def op(conn: sa.Connection) -> dict[str, tuple[Any, ...]]:
        for device in ("a", "b"):
            sql.note_attempt(conn, device, ok=False, error="x", job_id=None, now=1.0)
        sql.note_good_attempts(conn, notes)
        cb = config_backups.c
        rows = conn.execute(sa.select(cb.device, cb.ok, cb.error, cb.job_id, cb.ok_at, cb.changes))
        return {r.device: tuple(r)[1:] for r in rows}

    assert await store.db.run(op) == {
        "a": (True, None, 3, 12.0, 1),
        "new": (True, None, 4, 13.0, 2),
        "b": (True, None, 5, 14.0, 0),
    }
