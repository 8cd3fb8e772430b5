"""Inventory loading (netfleet/simulator YAML and Nornir) and the filter language."""

from __future__ import annotations

from pathlib import Path

import pytest

from netfleet.core.errors import InventoryError
from netfleet.core.inventory import load_inventory, normalize_platform, parse_filter

FLEET = """\
devices:
  - name: core-1
    host: 127.0.0.1
    port: 2201
    platform: cisco_ios
    username: admin
    password: s3cret
    enable_secret: en4ble
    groups: [dc1]
    tags: [core]
  - name: core-2
    host: 127.0.0.1
    port: 2202
    platform: eos
    username: admin
    password: s3cret
    max_sessions: 4
    groups: [dc2]
    tags: [core, edge]
  - name: edge-1
    host: 127.0.0.2
    port: 2203
    platform: juniper_junos
    username: ops
    password: pw
    groups: [dc1]
    tags: edge
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(FLEET)
    return path


def test_netfleet_format_loads_every_field(fleet: Path) -> None:
    inv = load_inventory(fleet)
    assert [d.name for d in inv.devices] == ["core-1", "core-2", "edge-1"]
    core1 = inv.get("core-1")
    assert (core1.host, core1.port, core1.platform) == ("127.0.0.1", 2201, "cisco_ios")
    assert core1.credentials[0].username == "admin"
    assert core1.credentials[0].password == "s3cret"
    assert core1.credentials[0].enable_secret == "en4ble"
    assert core1.max_sessions == 2
    assert inv.get("core-2").platform == "arista_eos"
    assert inv.get("core-2").max_sessions == 4
    assert inv.get("edge-1").tags == ("edge",)
    assert "s3cret" not in repr(inv)


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("name=core-*", ["core-1", "core-2"]),
        ("core-*", ["core-1", "core-2"]),
        ("group=dc1", ["core-1", "edge-1"]),
        ("platform=cisco_ios,arista_eos", ["core-1", "core-2"]),
        ("platform=eos", ["core-2"]),
        ("tag=edge", ["core-2", "edge-1"]),
        ("tag=edge and group=dc1", ["edge-1"]),
        ("tag=edge,group=dc2", ["core-2"]),
        ("tag=edge group = dc2", ["core-2"]),
        ("name=core-1, edge-1", ["core-1", "edge-1"]),
        ("name!=core-1, tag=core", ["core-2"]),
        ("host=127.0.0.2", ["edge-1"]),
        ("name=core-1,edge-1", ["core-1", "edge-1"]),
        ("", ["core-1", "core-2", "edge-1"]),
    ],
)
def test_filter_expressions(fleet: Path, expr: str, names: list[str]) -> None:
    assert [d.name for d in load_inventory(fleet).filter(expr)] == names


def test_filter_matching_nothing_is_an_error(fleet: Path) -> None:
    with pytest.raises(InventoryError, match="matches no device"):
        load_inventory(fleet).filter("group=nowhere")


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("colour=red", "unknown key 'colour'"),
        ("name=", "empty value"),
        ("name=a,,b", "empty term"),
        ("=x", "cannot parse"),
    ],
)
def test_bad_filters(expr: str, problem: str) -> None:
    with pytest.raises(InventoryError, match=problem):
        parse_filter(expr)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("devices:\n  - name: a\n    host: h\n    platform: cisco_ios\n    port: abc\n",
         r":5: field 'port'"),
        ("devices:\n  - name: a\n    host: h\n    platform: cisco_ios\n    pasword: x\n",
         r":5: field 'pasword': unknown field"),
        ("devices:\n  - name: a\n    host: h\n", r":2: field 'platform': missing"),
        ("devices:\n  - name: a\n    platform: ios\n", r":2: field 'host'"),
        ("devices: [\n  {name: a,\n", r":3: invalid YAML"),
        ("routers:\n  - name: a\n", r":1: unknown inventory format"),
        ("- just\n- a list\n", r":1: unknown inventory format"),
        ("devices: 7\n", r":1: field 'devices'"),
        ("devices:\n  - name: a\n    host: h\n    platform: ios\n    tags: {a: 1}\n",
         r":5: field 'tags'"),
    ],
)  # fmt: skip
def test_malformed_inventory_names_file_line_and_field(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(text)
    with pytest.raises(InventoryError, match=str(path).replace(".", r"\.") + where):
        load_inventory(path)


def test_duplicate_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "devices:\n  - {name: a, host: h, platform: ios}\n  - {name: a, host: h, platform: ios}\n"
    )
    with pytest.raises(InventoryError, match="duplicate device name 'a'"):
        load_inventory(path)
    with pytest.raises(InventoryError, match="not found"):
        load_inventory(tmp_path / "nope.yaml")
    with pytest.raises(InventoryError, match=r"no Nornir hosts\.yaml"):
        load_inventory(tmp_path)


def _nornir(tmp_path: Path) -> Path:
    (tmp_path / "hosts.yaml").write_text(
        """\
r1:
  hostname: 10.0.0.1
  groups: [dc1]
r2:
  hostname: 10.0.0.2
  port: 2222
  platform: junos
  groups: [dc2]
  data:
    tags: [edge]
r3:
  groups: [dc1]
  username: other
  password: otherpw
"""
    )
    (tmp_path / "groups.yaml").write_text(
        """\
cisco:
  platform: ios
  connection_options:
    netmiko:
      extras:
        secret: en4ble
dc1:
  groups: [cisco]
  data:
    site: one
dc2:
  data:
    site: two
    max_sessions: 3
"""
    )
    (tmp_path / "defaults.yaml").write_text("username: admin\npassword: pw\nport: 22\n")
    return tmp_path


def test_nornir_inheritance(tmp_path: Path) -> None:
    folder = _nornir(tmp_path)
    for path in (folder, folder / "hosts.yaml"):
        inv = load_inventory(path)
        r1, r2, r3 = inv.devices
        assert (r1.host, r1.port, r1.platform, r1.groups) == (
            "10.0.0.1",
            22,
            "cisco_ios",
            ("dc1", "cisco"),
        )
        assert r1.credentials[0].username == "admin"
        assert r1.credentials[0].password == "pw"
        assert r1.credentials[0].enable_secret == "en4ble"
        assert r1.data["site"] == "one"
        assert (r2.port, r2.platform, r2.max_sessions, r2.tags) == (
            2222,
            "juniper_junos",
            3,
            ("edge",),
        )
        assert r2.credentials[0].enable_secret is None
        assert r3.host == "r3"
        assert r3.credentials[0].username == "other"
        assert [d.name for d in inv.filter("group=cisco")] == ["r1", "r3"]
        assert [d.name for d in inv.filter("platform=ios")] == ["r1", "r3"]


def test_nornir_errors(tmp_path: Path) -> None:
    folder = _nornir(tmp_path)
    (folder / "hosts.yaml").write_text("r1:\n  hostname: x\n  groups: [nowhere]\n")
    with pytest.raises(InventoryError, match=r"hosts\.yaml:3: field 'groups': unknown group"):
        load_inventory(folder)
    (folder / "hosts.yaml").write_text("r1:\n  hostname: x\n  port: high\n")
    with pytest.raises(InventoryError, match=r"hosts\.yaml:3: field 'port'"):
        load_inventory(folder)
    (folder / "hosts.yaml").write_text("r1:\n  hostname: x\n")
    (folder / "groups.yaml").write_text("")
    (folder / "defaults.yaml").write_text("")
    with pytest.raises(InventoryError, match=r"hosts\.yaml:2: field 'platform': missing"):
        load_inventory(folder)


def test_platform_aliases() -> None:
    assert normalize_platform("IOS") == "cisco_ios"
    assert normalize_platform("nxos_ssh") == "cisco_nxos"
    assert normalize_platform("iosxr") == "cisco_xr"
    assert normalize_platform("cisco_ios") == "cisco_ios"
    assert normalize_platform("mystery") == "mystery"


def test_unprintable_characters_are_one_clear_error_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"devices:\n  - name: a\x07\n")
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    message = str(info.value)
    assert str(path) in message
    assert "control characters" in message
    assert "\n" not in message


def test_netfleet_yaml_group_and_default_variables(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "defaults:\n"
        "  data: {ntp: {servers: [192.0.2.1], source: Loopback0}, site: none}\n"
        "groups:\n"
        "  east:\n"
        "    data: {ntp: {servers: [192.0.2.2]}, site: east}\n"
        "  core:\n"
        "    data: {role: core}\n"
        "devices:\n"
        "  - {name: r1, host: 10.0.0.1, platform: cisco_ios, groups: [east, core],\n"
        "     data: {ntp: {source: Loopback9}}}\n"
        "  - {name: r2, host: 10.0.0.2, platform: cisco_ios}\n"
    )
    r1, r2 = load_inventory(path).devices
    assert r1.data == {
        "ntp": {"servers": ["192.0.2.2"], "source": "Loopback9"},
        "site": "east",
        "role": "core",
    }
    assert r2.data == {"ntp": {"servers": ["192.0.2.1"], "source": "Loopback0"}, "site": "none"}


def test_netfleet_yaml_bad_group_variables_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "inv.yaml"
    path.write_text(
        "groups:\n  east:\n    vars: {a: 1}\n"
        "devices:\n  - {name: r1, host: h, platform: cisco_ios}\n"
    )
    with pytest.raises(
        InventoryError, match=r"inv\.yaml:3: field 'groups\.east\.vars': unknown field"
    ):
        load_inventory(path)
