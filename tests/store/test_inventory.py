"""Contract: devices, credentials (encrypted at rest), import reports, error translation."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from netfleet.core.errors import (
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    NotFound,
    StoreError,
    UnknownPlatform,
    ValidationError,
)
from netfleet.core.models import Credential, JumpHost
from netfleet.store import SqlStore, open_store
from netfleet.store.crypto import SecretBox, key_from_file
from tests.support.descriptors import descriptors_exhausted
from tests.support.store import add_devices, commands, device

SECRET = "s3cret-plaintext-marker"


async def test_secrets_are_encrypted_at_rest(store: SqlStore, store_url: str) -> None:
    spec = dataclasses.replace(
        device("r1"),
        credentials=(Credential("admin", password=SECRET, enable_secret=SECRET, name="lab"),),
    )
    await store.devices.upsert(spec)
    stored = await store.db.run(
        lambda c: c.execute(sa.text("SELECT * FROM credentials")).all(), write=False
    )
    assert SECRET not in repr(stored)
    if store.dialect == "sqlite":
        db = Path(store_url.removeprefix("sqlite:///"))
        for path in (db, db.with_name(db.name + "-wal")):
            if path.exists():
                assert SECRET.encode() not in path.read_bytes()
    plain = await store.devices.get("r1")
    assert plain.spec.credentials[0].password is None
    assert plain.credential_names == ("lab",)
    full = await store.devices.get("r1", with_secrets=True)
    assert full.spec.credentials[0].password == SECRET
    assert SECRET not in repr(full)


async def test_wrong_key_cannot_decrypt(store: SqlStore, store_url: str) -> None:
    await add_devices(store, "r1")
    await store.jobs.submit(commands("r1"))
    from cryptography.fernet import Fernet

    other = await open_store(store_url, secret_key=Fernet.generate_key(), migrate=False)
    try:
        with pytest.raises(StoreError, match="secret key differs"):
            await other.claims.claim("w", 1, lease_s=30)
    finally:
        await other.close()


async def test_credential_change_reaches_the_next_claim(store: SqlStore) -> None:
    await add_devices(store, "r1")
    await store.jobs.submit(commands("r1"))
    (t1,) = await store.claims.claim("w", 1, lease_s=30)
    assert t1.device.credentials[0].password == "pw-r1"
    await store.credentials.upsert(Credential("admin", password="rotated", name="cred-r1"))
    await store.jobs.submit(commands("r1"))
    (t2,) = await store.claims.claim("w", 1, lease_s=30)
    assert t2.device.credentials[0].password == "rotated"
    with pytest.raises(Conflict, match="used by"):
        await store.credentials.delete("cred-r1")


async def test_device_round_trip_and_update(store: SqlStore) -> None:
    spec = dataclasses.replace(
        device("r1"),
        jump_host=JumpHost("10.0.0.1", 2022, Credential("jump", password="j", name="jumpcred")),
        data={"site": "lab1"},
    )
    rec = await store.devices.upsert(spec)
    got = await store.devices.get("r1", with_secrets=True)
    assert got.spec == spec
    assert got.spec.data == {"site": "lab1"}
    assert (await store.devices.upsert(spec)).generation == rec.generation
    bigger = await store.devices.upsert(dataclasses.replace(spec, max_sessions=5))
    assert bigger.generation == rec.generation + 1
    assert bigger.spec.max_sessions == 5


async def test_list_devices_filters_and_pages(store: SqlStore) -> None:
    for i in range(5):
        await store.devices.upsert(device(f"edge{i}", groups=("edge",)))
    await store.devices.upsert(device("core1", groups=("core",)))
    page = await store.devices.list(groups=["edge"], limit=3)
    rest = await store.devices.list(groups=["edge"], limit=3, cursor=page.next_cursor)
    names = [d.name for d in page.items + rest.items]
    assert names == [f"edge{i}" for i in range(5)]
    assert rest.next_cursor is None
    assert [d.name for d in (await store.devices.list(name_glob="core*")).items] == ["core1"]
    assert len((await store.devices.list(tags=["lab"], limit=100)).items) == 6
    assert (await store.devices.list(platform="linux")).items == ()


async def test_import_reports_each_row(store: SqlStore) -> None:
    good = device("ok1")
    report = await store.devices.import_many(
        [good, dataclasses.replace(device("bad"), platform="vax_vms"), device("ok2")]
    )
    assert [(r.name, r.action) for r in report.rows] == [
        ("ok1", "created"),
        ("bad", "error"),
        ("ok2", "created"),
    ]
    assert "vax_vms" in (report.rows[1].error or "")
    again = await store.devices.import_many([good])
    assert again.rows[0].action == "unchanged"
    assert again.ok


async def test_bad_devices_are_rejected(store: SqlStore) -> None:
    with pytest.raises(UnknownPlatform, match="vax_vms"):
        await store.devices.upsert(dataclasses.replace(device("r1"), platform="vax_vms"))
    with pytest.raises(ValidationError, match="port"):
        await store.devices.upsert(dataclasses.replace(device("r1"), port=70000))
    with pytest.raises(NotFound):
        await store.devices.get("r1")


async def test_delete_device_with_active_tasks_conflicts(store: SqlStore) -> None:
    await add_devices(store, "r1")
    job = await store.jobs.submit(commands("r1"))
    with pytest.raises(Conflict, match="queued or running"):
        await store.devices.delete("r1")
    await store.jobs.cancel(job.id)
    await store.devices.delete("r1")
    with pytest.raises(NotFound):
        await store.devices.delete("r1")
    assert (await store.jobs.get(job.id)).tasks[0].device_name == "r1"  # type: ignore[index]


async def test_workers_register_and_heartbeat(store: SqlStore) -> None:
    rec = await store.workers.register("w1", hostname="h", pid=42, concurrency=10)
    assert rec.state == "starting"
    await store.workers.heartbeat("w1", state="running", stats={"tasks": 3})
    (w,) = await store.workers.list(alive_within_s=60)
    assert (w.id, w.state, w.stats) == ("w1", "running", {"tasks": 3})
    with pytest.raises(NotFound):
        await store.workers.heartbeat("ghost")


async def test_unreachable_database_is_database_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable):
        await open_store("postgresql://postgres@127.0.0.1:1/none", secret_key=_new_key())


async def test_a_database_unopenable_for_lack_of_descriptors_is_unavailable(
    tmp_path: Path,
) -> None:
    """SQLite says only "unable to open database file": the message names the cause."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    await (await open_store(url, secret_key=_new_key())).close()
    store = SqlStore(url, secret_key=_new_key())  # no connection opened yet
    try:
        with (
            descriptors_exhausted(),
            pytest.raises(DatabaseUnavailable, match="too many open files") as caught,
        ):
            await store.now()
        assert caught.value.transient
        assert await store.now() > 0  # descriptors back: it opens
    finally:
        await store.close()


def test_bad_urls_are_configuration_errors(tmp_path: Path) -> None:
    from netfleet.store.engine import parse_url

    with pytest.raises(ConfigurationError, match="unsupported"):
        parse_url("mysql://x/y")
    with pytest.raises(ConfigurationError, match="in-memory"):
        parse_url("sqlite://")
    with pytest.raises(ConfigurationError, match="is a directory"):
        SqlStore(f"sqlite:///{tmp_path}", secret_key=_new_key())
    with pytest.raises(ConfigurationError, match="is missing"):
        SqlStore(f"sqlite:///{tmp_path / 'no' / 'x.db'}", secret_key=_new_key())


def test_key_file_is_created_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secret.key"
    key = key_from_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert key_from_file(path) == key
    box = SecretBox(key)
    assert box.decrypt(box.encrypt("x")) == "x"
    assert "key" in repr(box)
    assert key.decode() not in repr(box)
    with pytest.raises(ConfigurationError):
        SecretBox("not-a-key")


def _new_key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()
