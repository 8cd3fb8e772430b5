"""An inventory sync's writes: new devices are inserted together, in a number of
statements that does not grow with them, and come out as one by one."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netfleet.core.errors import ValidationError
from netfleet.core.models import Credential, DeviceSpec, JumpHost
from netfleet.store import SqlStore
from netfleet.store.records_integrations import NewSource
from tests.support.statements import statements_sent

LOGIN = Credential(username="netops", password="s3cret-pass", name="fleet-login")
JUMP = Credential(username="jump", password="jump-pass", name="jump-login")


def _spec(name: str, i: int, *, own: bool = False) -> DeviceSpec:
    """A device as a sync brings it; ``own``: also a credential of its own (no name)."""
    creds = (LOGIN, Credential(username=f"local{i}", password=f"pw-{i}-long")) if own else (LOGIN,)
    return DeviceSpec(
        name,
        f"192.0.2.{i % 250 + 1}",
        "cisco_ios",
        port=22 + i % 2,
        credentials=creds,
        max_sessions=1 + i % 3,
        groups=("site-dc1", f"role-{i % 2}"),
        tags=("netbox",),
        jump_host=JumpHost("198.51.100.1", credential=JUMP),
        data={"netbox": {"id": i}},
    )


async def _source(store: SqlStore, name: str) -> int:
    await store.sources.create(NewSource(name, "netbox", {"url": "http://127.0.0.1:9"}, "t"))
    return (await store.sources.get(name)).id


async def _apply(store: SqlStore, source_id: int, specs: list[DeviceSpec]) -> int:
    writes = [(spec, str(i)) for i, spec in enumerate(specs)]
    with statements_sent() as seen:
        await store.sources.apply(source_id, writes=writes, disables=[])
    return len(seen)


async def test_new_devices_are_inserted_together(store: SqlStore) -> None:
    await _apply(store, await _source(store, "first"), [_spec("first", 0)])  # the credentials
    few = await _apply(store, await _source(store, "a"), [_spec(f"a{i}", i) for i in range(3)])
    many = await _apply(store, await _source(store, "b"), [_spec(f"b{i}", i) for i in range(60)])
    assert many == few, f"{few} statements for 3 devices, {many} for 60"


async def test_a_device_inserted_together_equals_one_added_alone(store: SqlStore) -> None:
    specs = [_spec(f"nb{i}", i, own=True) for i in range(5)]
    await _apply(store, await _source(store, "nb"), specs)
    await store.devices.upsert(_spec("alone", 3, own=True))
    together = (await store.devices.get("nb3", with_secrets=True)).spec
    alone = (await store.devices.get("alone", with_secrets=True)).spec
    # the same but for the name, and the name of the credential it has of its own
    own = (together.credentials[0], replace(together.credentials[1], name="alone#1"))
    assert replace(together, name="alone", credentials=own) == alone
    assert together.credentials[1].name == "nb3#1"
    assert [c.password for c in together.credentials] == ["s3cret-pass", "pw-3-long"]
    assert together.jump_host is not None
    assert together.jump_host.credential is not None
    assert together.jump_host.credential.password == "jump-pass"
    groups = dict(await store.devices.groups())
    assert groups["site-dc1"] == 6
    listed = await store.sources.devices((await store.sources.get("nb")).id)
    assert sorted(d.name for d in listed) == [f"nb{i}" for i in range(5)]


async def test_an_invalid_new_device_writes_nothing(store: SqlStore) -> None:
    source = await _source(store, "bad")
    specs = [_spec("ok1", 1), DeviceSpec("bad2", "", "cisco_ios"), _spec("ok3", 3)]
    with pytest.raises(ValidationError, match="bad2"):
        await store.sources.apply(source, writes=[(s, "") for s in specs], disables=[])
    assert await store.sources.devices(source) == []


async def test_existing_and_repeated_names_take_the_one_by_one_path(store: SqlStore) -> None:
    source = await _source(store, "mix")
    await store.devices.upsert(_spec("manual", 1))
    writes = [(_spec("manual", 2), "7"), (_spec("new", 4), "8"), (_spec("new", 5), "9")]
    await store.sources.apply(source, writes=writes, disables=[])
    assert (await store.devices.get("manual")).spec.max_sessions == _spec("m", 2).max_sessions
    assert (await store.devices.get("new")).spec.port == _spec("n", 5).port  # the last wins
    assert sorted(d.name for d in await store.sources.devices(source)) == ["manual", "new"]


async def test_credentials_named_alone_refer_to_stored_ones(store: SqlStore) -> None:
    # a source's default credentials: names of existing credentials, nothing else
    await store.credentials.upsert(LOGIN)
    ref = Credential(username="", name=LOGIN.name)
    specs = [
        DeviceSpec(f"d{i}", f"192.0.2.{i + 1}", "cisco_ios", credentials=(ref,)) for i in range(3)
    ]
    await _apply(store, await _source(store, "refs"), specs)
    device = await store.devices.get("d2", with_secrets=True)
    assert device.spec.credentials[0].password == LOGIN.password
    missing = DeviceSpec("d9", "192.0.2.9", "cisco_ios", credentials=(Credential("", name="nope"),))
    with pytest.raises(ValidationError, match="name and username"):
        await store.sources.apply(await _source(store, "bad"), writes=[(missing, "")], disables=[])
