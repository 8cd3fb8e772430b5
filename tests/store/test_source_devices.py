"""A source's devices are read in a fixed number of statements, however many it has
(an inventory sync reads them all before every run)."""

from __future__ import annotations

from typing import Any

from netfleet.core.models import Credential, DeviceSpec
from netfleet.store import SqlStore
from netfleet.store.records_integrations import NewSource
from tests.support.statements import statements_sent


async def _source_with(store: SqlStore, name: str, count: int) -> int:
    await store.sources.create(NewSource(name, "netbox", {"url": "http://127.0.0.1:9"}, "t"))
    source = await store.sources.get(name)
    login = Credential(username="netops", password="s3cret-pass", name=f"{name}-login")
    writes = [
        (DeviceSpec(f"{name}-{i}", f"192.0.2.{i + 1}", "cisco_ios", credentials=(login,)), str(i))
        for i in range(count)
    ]
    await store.sources.apply(source.id, writes=writes, disables=[])
    return source.id


async def _statements(store: SqlStore, source_id: int) -> tuple[int, list[Any]]:
    with statements_sent() as seen:
        listed = await store.sources.devices(source_id)
    return len(seen), listed


async def test_listing_a_sources_devices_does_not_query_per_device(store: SqlStore) -> None:
    small = await _source_with(store, "few", 2)
    large = await _source_with(store, "many", 40)
    few, listed_few = await _statements(store, small)
    many, listed_many = await _statements(store, large)
    assert len(listed_few) == 2
    assert len(listed_many) == 40
    assert many == few, f"{few} statements for 2 devices, {many} for 40"
    # the credentials still come back with every device, usernames only
    device = next(d.record.spec for d in listed_many if d.name == "many-7")
    assert [c.username for c in device.credentials] == ["netops"]
    assert device.credentials[0].password is None
