"""Importing many devices: the new ones go in together, in a number of statements that
does not grow with them; a row that fails only there still fails alone."""

from __future__ import annotations

from typing import Any

from netfleet.core.models import Credential, DeviceSpec
from netfleet.store import SqlStore
from tests.support.statements import statements_sent

LOGIN = Credential(username="netops", password="s3cret-pass", name="fleet-login")


def _spec(name: str, i: int = 0, **extra: Any) -> DeviceSpec:
    fields: dict[str, Any] = {"credentials": (LOGIN,), "groups": ("core",), "tags": ("lab",)}
    return DeviceSpec(name, f"192.0.2.{i % 250 + 1}", "cisco_ios", **{**fields, **extra})


async def _import(store: SqlStore, specs: list[DeviceSpec]) -> tuple[int, list[tuple[str, str]]]:
    with statements_sent() as seen:
        report = await store.devices.import_many(specs)
    return len(seen), [(r.name, r.action) for r in report.rows]


async def test_new_devices_are_imported_together(store: SqlStore) -> None:
    await _import(store, [_spec("first")])  # the shared credential exists from here on
    few, rows = await _import(store, [_spec(f"a{i}", i) for i in range(3)])
    many, _ = await _import(store, [_spec(f"b{i}", i) for i in range(50)])
    assert rows == [(f"a{i}", "created") for i in range(3)]
    assert many == few, f"{few} statements for 3 devices, {many} for 50"
    device = await store.devices.get("b7", with_secrets=True)
    assert device.spec.groups == ("core",)
    assert device.spec.credentials[0].password == "s3cret-pass"
    assert dict(await store.devices.groups())["core"] == 54


async def test_a_row_failing_in_the_batch_fails_alone(store: SqlStore) -> None:
    # a credential without a username passes the device checks and fails when stored
    bad = _spec("bad", 2, credentials=(Credential(username="", password="x-long-pw"),))
    _, rows = await _import(store, [_spec("ok1", 1), bad, _spec("ok3", 3)])
    assert rows == [("ok1", "created"), ("bad", "error"), ("ok3", "created")]
    assert [d.name for d in (await store.devices.list()).items] == ["ok1", "ok3"]


async def test_existing_and_repeated_names_are_upserted_in_order(store: SqlStore) -> None:
    await _import(store, [_spec("old", 1)])
    specs = [_spec("old", 1), _spec("old", 2), _spec("new", 3), _spec("new", 4)]
    _, rows = await _import(store, specs)
    assert rows == [("old", "unchanged"), ("old", "updated"), ("new", "created"),
                    ("new", "updated")]  # fmt: skip
    assert (await store.devices.get("new")).spec.host == "192.0.2.5"


async def test_an_unchanged_inventory_is_checked_together(store: SqlStore) -> None:
    await _import(store, [_spec("first")])
    small = [_spec(f"a{i}", i) for i in range(3)]
    large = [_spec(f"b{i}", i) for i in range(50)]
    await _import(store, small + large)
    few, rows = await _import(store, small)
    many, _ = await _import(store, large)
    assert rows == [(f"a{i}", "unchanged") for i in range(3)]
    assert many == few, f"{few} statements for 3 unchanged devices, {many} for 50"


async def test_a_changed_device_among_unchanged_ones_is_updated(store: SqlStore) -> None:
    specs = [_spec(f"r{i}", i) for i in range(4)]
    await _import(store, specs)
    specs[2] = _spec("r2", 99)
    rotated = Credential(username="netops", password="rotated-pass", name="fleet-login")
    specs[3] = _spec("r3", 3, credentials=(rotated,))
    _, rows = await _import(store, specs)
    # a new password for the same credential: the device is unchanged, its login is not
    assert rows == [("r0", "unchanged"), ("r1", "unchanged"), ("r2", "updated"),
                    ("r3", "unchanged")]  # fmt: skip
    assert (await store.devices.get("r2")).spec.host == "192.0.2.100"
    logins = [(await store.devices.get(f"r{i}", with_secrets=True)).spec for i in (0, 3)]
    assert [s.credentials[0].password for s in logins] == ["rotated-pass", "rotated-pass"]


async def test_a_bad_row_changes_no_credential(store: SqlStore) -> None:
    await _import(store, [_spec("r1", 1)])
    rotated = Credential(username="netops", password="rotated-pass", name="fleet-login")
    bad = _spec("r1", 1, credentials=(rotated, Credential(username="", password="x-long-pw")))
    _, rows = await _import(store, [bad])
    assert rows == [("r1", "error")]
    login = (await store.devices.get("r1", with_secrets=True)).spec.credentials[0]
    assert login.password == "s3cret-pass"
