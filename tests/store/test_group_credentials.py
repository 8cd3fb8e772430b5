"""Group-default credentials on SQLite and PostgreSQL: a device without credentials of
its own logs in with the default of the first of its groups that has one; its own
always win; changes bump the generation of the group's devices (so claims see them);
a credential that is a group's default cannot be deleted."""

from __future__ import annotations

import pytest

from netfleet.core.errors import Conflict, NotFound
from netfleet.core.models import Credential
from netfleet.store import SqlStore
from tests.support.store import add_devices, commands


async def _login(store: SqlStore, name: str) -> list[tuple[str | None, str | None]]:
    """(credential name, password) the worker would log in to ``name`` with."""
    record = await store.devices.get(name, with_secrets=True)
    return [(c.name, c.password) for c in record.spec.credentials]


async def _generation(store: SqlStore, name: str) -> int:
    return (await store.devices.get(name)).generation


async def test_precedence_own_then_first_group_in_device_order(store: SqlStore) -> None:
    await store.credentials.upsert(Credential("ops", password="pw-ops", name="ops"))
    await store.credentials.upsert(Credential("edge", password="pw-edge", name="edge-cred"))
    await add_devices(store, "both", credentials=(), groups=("core", "edge"))
    await add_devices(store, "reversed", credentials=(), groups=("edge", "core"))
    await add_devices(store, "own", groups=("core",))
    await add_devices(store, "alone", credentials=(), groups=("lab",))
    before = await _generation(store, "both")

    record, touched = await store.credentials.set_group_default("core", "ops")
    assert (record.group, record.credential, record.username) == ("core", "ops", "ops")
    assert record.devices == 3
    assert sorted(touched) == ["both", "own", "reversed"]
    assert await _generation(store, "both") == before + 1
    await store.credentials.set_group_default("edge", "edge-cred")

    assert await _login(store, "both") == [("ops", "pw-ops")]
    assert await _login(store, "reversed") == [("edge-cred", "pw-edge")]
    assert await _login(store, "own") == [("cred-own", "pw-own")]
    assert await _login(store, "alone") == []
    # what the API shows as the device's own credentials is unchanged
    assert (await store.devices.get("both")).credential_names == ()
    listed = await store.credentials.group_defaults()
    assert [(d.group, d.credential, d.devices) for d in listed] == [
        ("core", "ops", 3),
        ("edge", "edge-cred", 2),
    ]

    # the claimed task carries the default (the worker's cached spec is renewed)
    await store.jobs.submit(commands("both"))
    (task,) = await store.claims.claim("w1", 5, lease_s=30)
    assert [c.password for c in task.device.credentials] == ["pw-ops"]

    await store.credentials.delete_group_default("core")
    assert await _login(store, "both") == [("edge-cred", "pw-edge")]
    with pytest.raises(NotFound):
        await store.credentials.delete_group_default("core")
    with pytest.raises(NotFound, match="credential 'nope' not found"):
        await store.credentials.set_group_default("core", "nope")


async def test_rotation_reaches_group_devices_and_delete_is_refused(store: SqlStore) -> None:
    await store.credentials.upsert(Credential("ops", password="pw-1", name="ops"))
    await add_devices(store, "r1", credentials=(), groups=("core",))
    await store.credentials.set_group_default("core", "ops")
    await store.jobs.submit(commands("r1"))
    (task,) = await store.claims.claim("w1", 5, lease_s=30)
    assert task.device.credentials[0].password == "pw-1"
    generation = await _generation(store, "r1")
    await store.credentials.upsert(Credential("ops", password="pw-2", name="ops"))
    assert await _generation(store, "r1") == generation + 1
    assert await store.credentials.users("ops") == ["r1"]
    assert await _login(store, "r1") == [("ops", "pw-2")]
    # setting the same default again changes nothing
    _, touched = await store.credentials.set_group_default("core", "ops")
    assert touched == []
    with pytest.raises(Conflict, match="default of group"):
        await store.credentials.delete("ops")
    await store.credentials.delete_group_default("core")
    await store.credentials.delete("ops")
