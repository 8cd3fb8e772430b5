"""NetBox/Nautobot sources against a loopback service serving their documented API shapes
(see netbox_service.py: fixtures written from the NetBox 4.x and Nautobot 2.x REST API docs)."""

from __future__ import annotations

import socket
from urllib.parse import parse_qsl

import pytest

from netfleet.core.errors import ConfigurationError, IntegrationError, IntegrationUnavailable
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.secretref import SecretResolver
from netfleet.integrations.netbox import DeviceFilters, SourceConfig, fetch_source
from netfleet.integrations.sync import CurrentDevice, plan_sync
from tests.support.netbox_service import fixture_service, nautobot_device, netbox_device


def _source(base: str, **kwargs: object) -> SourceConfig:
    params: dict[str, object] = {"name": "nb", "url": base, "token": "0123456789abcdef"}
    params.update(kwargs)
    return SourceConfig.model_validate(params)


async def test_pagination_follows_next_and_maps_devices() -> None:
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, i) for i in range(1, 2501)]
        fetched = await fetch_source(_source(svc.base, page_size=1000))
        assert fetched.status["netbox-version"] == "4.1.3"
        assert len(fetched.devices) == 2500
        assert fetched.skipped == []
        assert fetched.requests == 4  # status + 3 pages
        offsets = [dict(parse_qsl(q)).get("offset", "0") for q in svc.queries]
        assert offsets == ["0", "1000", "2000"]
    r1 = fetched.devices[0]
    assert (r1.name, r1.host, r1.platform) == ("r1", "10.0.0.1", "cisco_ios")
    assert r1.groups == ("site:dc1", "role:router", "tag:edge")
    assert r1.tags == ("edge",)
    assert r1.data["ntp"] == ["10.0.0.1"]
    assert r1.data["netbox"]["status"] == "active"


async def test_filters_are_query_parameters() -> None:
    with fixture_service() as svc:
        svc.devices = [
            netbox_device(svc.base, 1, site="dc1", tags=("core",), custom_fields={"owner": "noc"}),
            netbox_device(svc.base, 2, site="dc2", tags=("core",), custom_fields={"owner": "noc"}),
            netbox_device(svc.base, 3, site="dc2", tags=("edge",), custom_fields={"owner": "noc"}),
            netbox_device(svc.base, 4, site="dc2", tags=("core",), status="planned"),
            netbox_device(svc.base, 5, site="dc2", tags=("core",), custom_fields={"owner": "x"}),
            netbox_device(svc.base, 6, site="dc3", role="switch", platform="arista-eos"),
        ]
        filters = DeviceFilters(
            site=["dc2", "dc3"], tag=["core"], status=["active"], custom_fields={"owner": "noc"}
        )
        fetched = await fetch_source(_source(svc.base, filters=filters))
        assert [d.name for d in fetched.devices] == ["r2"]
        query = parse_qsl(svc.queries[0])
        assert ("site", "dc2") in query
        assert ("site", "dc3") in query
        assert ("cf_owner", "noc") in query
        only_switches = DeviceFilters(role=["switch"], platform=["arista-eos"])
        fetched = await fetch_source(_source(svc.base, filters=only_switches))
        assert [(d.name, d.platform) for d in fetched.devices] == [("r6", "arista_eos")]


async def test_mapping_errors_are_skipped_with_reasons() -> None:
    with fixture_service() as svc:
        svc.devices = [
            netbox_device(svc.base, 1, ip=None),
            netbox_device(svc.base, 2, platform="vendor-os"),
            netbox_device(svc.base, 3, platform=None),
            netbox_device(svc.base, 4, name="dup"),
            netbox_device(svc.base, 5, name="dup"),
            netbox_device(svc.base, 6, platform="our-ios", ip="2001:db8::6/64"),
            netbox_device(svc.base, 7) | {"name": None},
        ]
        fetched = await fetch_source(_source(svc.base, platform_map={"our-ios": "cisco_xe"}))
        reasons = {s.name: s.reason for s in fetched.skipped}
        assert reasons == {
            "r1": "no primary IP",
            "r2": "unknown platform 'vendor-os' (map it in platform_map)",
            "r3": "no platform",
            "dup": "duplicate name",
            "#7": "no name",
        }
        assert [(d.name, d.host, d.platform) for d in fetched.devices] == [
            ("dup", "10.0.0.4", "cisco_ios"),
            ("r6", "2001:db8::6", "cisco_xe"),
        ]
        fetched = await fetch_source(_source(svc.base, default_platform="linux"))
        assert "r3" in {d.name for d in fetched.devices}
    with pytest.raises(ConfigurationError, match="unknown platform 'nope'"):
        _source("http://127.0.0.1:1", platform_map={"x": "nope"}).check()


async def test_nautobot_shapes() -> None:
    with fixture_service("nautobot") as svc:
        svc.devices = [
            nautobot_device(svc.base, 1),
            nautobot_device(
                svc.base,
                2,
                platform="EOS",
                network_driver="arista_eos",
                location="Lab",
                role="Leaf",
                tags=("core", "lab"),
            ),
            nautobot_device(svc.base, 3, status="Planned"),
        ]
        source = _source(svc.base, kind="nautobot", filters=DeviceFilters(status=["Active"]))
        fetched = await fetch_source(source)
        assert ("depth", "1") in parse_qsl(svc.queries[0])
    by = {d.name: d for d in fetched.devices}
    assert set(by) == {"r1", "r2"}
    assert by["r2"].platform == "arista_eos"  # from platform.network_driver
    assert by["r2"].groups == ("site:Lab", "role:Leaf", "tag:core", "tag:lab")
    assert by["r1"].data["snmp"] == "ro"  # config context (include=config_context)
    assert by["r1"].data["nautobot"]["status"] == "Active"


async def test_token_reference_and_http_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, 1)]
        monkeypatch.setenv("NB_TOKEN", svc.token)
        fetched = await fetch_source(_source(svc.base, token="env:NB_TOKEN"))
        assert len(fetched.devices) == 1
        with pytest.raises(IntegrationError, match="token was refused") as info:
            await fetch_source(_source(svc.base, token="wrong-token-value"))
        assert "wrong-token-value" not in str(info.value)
        assert not info.value.transient
        svc.fail_with = 503
        with pytest.raises(IntegrationUnavailable) as unavailable:
            await fetch_source(_source(svc.base), resolver=SecretResolver())
        assert unavailable.value.transient
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(IntegrationUnavailable, match="ConnectError"):
        await fetch_source(_source(f"http://127.0.0.1:{port}"))


async def test_next_links_must_stay_on_the_source() -> None:
    with fixture_service() as svc:
        real = svc.base
        svc.base = "http://127.0.0.2:9"  # the service now writes next links to another origin
        svc.devices = [netbox_device(real, i) for i in range(1, 4)]
        with pytest.raises(IntegrationError, match="refusing to follow a link off"):
            await fetch_source(_source(real, page_size=2))


def _spec(name: str, host: str, **kwargs: object) -> DeviceSpec:
    params: dict[str, object] = {"platform": "cisco_ios", "groups": ("site:dc1",)}
    params.update(kwargs)
    return DeviceSpec(name=name, host=host, **params)  # type: ignore[arg-type]


async def test_sync_plan_adds_updates_disables_and_skips() -> None:
    with fixture_service() as svc:
        svc.devices = [netbox_device(svc.base, i) for i in range(1, 6)]
        svc.devices[4] = netbox_device(svc.base, 5, ip=None)  # r5 lost its IP
        fetched = await fetch_source(_source(svc.base))
    current_specs = {d.name: d for d in fetched.devices}
    cred = (Credential("admin", password="env:PW"),)
    current = [
        CurrentDevice(DeviceSpec(**{**_asdict(current_specs["r1"]), "credentials": cred})),
        CurrentDevice(_spec("r2", "192.0.2.2")),  # host changed upstream
        CurrentDevice(current_specs["r3"], disabled=True),  # back upstream
        CurrentDevice(_spec("r5", "10.0.0.5")),  # skipped upstream: kept
        CurrentDevice(_spec("gone", "10.9.9.9")),  # removed upstream
        CurrentDevice(_spec("old", "10.9.9.8"), disabled=True),  # already disabled
    ]
    report = plan_sync(current, fetched.devices, fetched.skipped, source="NetBox nb")
    assert [c.name for c in report.added] == ["r4"]
    assert {c.name: c.fields for c in report.updated} == {
        "r2": ("host", "groups", "tags", "data"),
        "r3": (),
    }
    assert report.updated[1].reason == "back in NetBox nb: enabled again"
    assert [(c.name, c.action) for c in report.removed] == [("gone", "disable")]
    assert "not deleted" in report.removed[0].reason
    assert [(c.name, c.reason) for c in report.skipped] == [("r5", "no primary IP (kept as it is)")]
    assert report.unchanged == 1  # r1: credentials are netfleet's, not compared
    assert report.summary() == "1 added, 2 updated, 1 disabled, 1 skipped, 1 unchanged"
    updated_r2 = report.updated[0].spec
    assert updated_r2 is not None
    assert updated_r2.host == "10.0.0.2"
    assert report.to_dict()["removed"][0]["action"] == "disable"


def _asdict(spec: DeviceSpec) -> dict[str, object]:
    return {f: getattr(spec, f) for f in DeviceSpec.__slots__}  # type: ignore[attr-defined]
