"""Ansible inventories: INI and YAML files, checked against the real ``ansible-inventory``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netfleet.core.errors import InventoryError
from netfleet.core.inventory import load_inventory
from netfleet.core.inventory_ansible import ANSIBLE_NETWORK_OS, ansible_platform
from netfleet.core.models import DeviceSpec

INI = """\
# a mixed inventory
lab-srv ansible_host=127.0.0.9 site=lab
[routers]
r1 ansible_host=10.0.0.1 ansible_network_os=cisco.ios.ios
r2 ansible_host=10.0.0.2 ansible_port=2222 site=dc1
edge[01:02] ansible_network_os=junipernetworks.junos.junos

[switches]
sw1 ansible_host=10.0.1.1 ansible_network_os=arista.eos.eos ansible_user=ops
nx1 ansible_host=10.0.1.2 ansible_network_os=cisco.nxos.nxos

[firewalls]
fw1 ansible_host=10.0.2.1 ansible_network_os=cisco.asa.asa ansible_become_password=en-pw
xr1 ansible_host=10.0.2.2 ansible_network_os=cisco.iosxr.iosxr ansible_ssh_pass=xr-pw

[routers:vars]
ansible_user=admin
ansible_password=env:ROUTER_PW
ansible_network_os=ios

[dc:children]
routers
switches

[dc:vars]
region=eu
ansible_user=dc-admin
"""

YAML = """\
all:
  vars:
    ansible_user: netops
    owner: noc
  hosts:
    standalone:
      ansible_host: 192.0.2.10
      ansible_network_os: eos
  children:
    core:
      vars:
        ansible_network_os: cisco.iosxr.iosxr
        ansible_password: file:/etc/netfleet/core.pw
      hosts:
        core1:
          ansible_host: 192.0.2.1
        core2:
          ansible_host: 192.0.2.2
          ansible_port: 830
          tier: 1
      children:
        core_edge:
          hosts:
            core3:
              ansible_host: 192.0.2.3
              ansible_network_os: junos
"""


def _ansible_inventory(tmp_path: Path, inventory: Path, *extra: str) -> Path:
    """Run the real ``ansible-inventory --list`` and save its JSON next to the inventory."""
    binary = shutil.which("ansible-inventory") or str(
        Path(sys.executable).parent / "ansible-inventory"
    )
    if not Path(binary).exists():
        pytest.fail("ansible-inventory is not installed (ansible-core is a dev dependency)")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_INVENTORY_ENABLED": "ini,yaml",
        "ANSIBLE_NOCOLOR": "1",
    }
    proc = subprocess.run(
        [binary, "-i", str(inventory), "--list", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / f"{inventory.stem}{'-export' if extra else ''}.json"
    out.write_text(proc.stdout)
    assert "_meta" in json.loads(proc.stdout)
    return out


def _view(specs: list[DeviceSpec]) -> list[tuple[object, ...]]:
    return [
        (
            s.name,
            s.host,
            s.port,
            s.platform,
            tuple((c.username, c.password, c.enable_secret) for c in s.credentials),
            tuple(sorted(s.groups)),
            tuple(sorted(s.data.items())),
        )
        for s in sorted(specs, key=lambda s: s.name)
    ]


def test_ini_inventory_matches_ansible_inventory_list(tmp_path: Path) -> None:
    ini = tmp_path / "hosts.ini"
    ini.write_text(INI)
    direct = load_inventory(ini).devices
    listed = load_inventory(_ansible_inventory(tmp_path, ini)).devices
    exported = load_inventory(_ansible_inventory(tmp_path, ini, "--export")).devices
    assert _view(direct) == _view(listed) == _view(exported)
    by = {d.name: d for d in direct}
    assert set(by) == {"lab-srv", "r1", "r2", "edge01", "edge02", "sw1", "nx1", "fw1", "xr1"}
    assert by["r1"].platform == "cisco_ios"
    assert by["r2"].platform == "cisco_ios"  # the group's ansible_network_os=ios
    assert by["edge02"].platform == "juniper_junos"  # the host's own value wins
    assert (by["r2"].host, by["r2"].port) == ("10.0.0.2", 2222)
    assert by["sw1"].platform == "arista_eos"
    assert by["nx1"].platform == "cisco_nxos"
    assert by["fw1"].platform == "cisco_asa"
    assert by["xr1"].platform == "cisco_xr"
    assert by["lab-srv"].platform == "linux"
    assert by["lab-srv"].groups == ()
    assert set(by["r1"].groups) == {"routers", "dc"}
    # routers:vars beats dc:vars (child group over parent); the password is a reference.
    cred = by["r1"].credentials[0]
    assert (cred.username, cred.password) == ("admin", "env:ROUTER_PW")
    assert by["sw1"].credentials[0].username == "ops"
    assert by["nx1"].credentials[0].username == "dc-admin"
    assert by["fw1"].credentials == ()  # no user anywhere for fw1
    assert by["r2"].data == {"site": "dc1", "region": "eu"}
    assert "ansible_password" not in by["r1"].data


def test_yaml_inventory_matches_ansible_inventory_list(tmp_path: Path) -> None:
    path = tmp_path / "inventory.yml"
    path.write_text(YAML)
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "group_vars" / "core_edge.yml").write_text("ansible_user: edge-admin\n")
    direct = load_inventory(path).devices
    listed = load_inventory(_ansible_inventory(tmp_path, path)).devices
    assert _view(direct) == _view(listed)
    by = {d.name: d for d in direct}
    assert by["standalone"].platform == "arista_eos"
    assert (by["core2"].platform, by["core2"].port) == ("cisco_xr", 830)
    assert by["core3"].platform == "juniper_junos"
    assert set(by["core3"].groups) == {"core", "core_edge"}
    assert by["core3"].credentials[0].username == "edge-admin"
    assert by["core1"].credentials[0].password == "file:/etc/netfleet/core.pw"
    assert by["core2"].data == {"owner": "noc", "tier": 1}


def test_unknown_network_os_names_the_host(tmp_path: Path) -> None:
    ini = tmp_path / "hosts.ini"
    ini.write_text("[r]\nodd1 ansible_network_os=vendor.thing.os\n")
    with pytest.raises(InventoryError, match=r"host 'odd1': ansible_network_os 'vendor\.thing"):
        load_inventory(ini)
    ini.write_text("[r]\nodd1 ansible_network_os=vendor.thing.os netfleet_platform=cisco_ios\n")
    assert load_inventory(ini).devices[0].platform == "cisco_ios"


def test_values_netfleet_cannot_use_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "inv.json"
    vaulted = {"__ansible_vault": "$ANSIBLE_VAULT;1.1;AES256\n6162"}
    path.write_text(
        json.dumps(
            {
                "_meta": {"hostvars": {"r1": {"ansible_user": "a", "ansible_password": vaulted}}},
                "all": {"children": ["ungrouped"]},
                "ungrouped": {"hosts": ["r1"]},
            }
        )
    )
    with pytest.raises(InventoryError, match="host 'r1': ansible_password is vault-encrypted"):
        load_inventory(path)
    ini = tmp_path / "hosts.ini"
    ini.write_text('r1 ansible_user=a ansible_password="{{ vault_pw }}"\n')
    with pytest.raises(InventoryError, match="Jinja template"):
        load_inventory(ini)
    ini.write_text("r1 ansible_connection=local\n")
    with pytest.raises(InventoryError, match="not SSH"):
        load_inventory(ini)
    ini.write_text("r1 ansible_port=http\n")
    with pytest.raises(InventoryError, match="not a TCP port"):
        load_inventory(ini)
    ini.write_text("[a:children]\nb\n[b:children]\na\n")
    with pytest.raises(InventoryError, match="cycle"):
        load_inventory(ini)


def test_every_mapped_network_os_is_a_registered_platform() -> None:
    from netfleet.platforms import get_platform

    for network_os, platform in ANSIBLE_NETWORK_OS.items():
        assert get_platform(platform).name == platform
        assert ansible_platform("h", network_os.upper()) == platform
