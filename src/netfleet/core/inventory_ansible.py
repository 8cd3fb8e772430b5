"""Ansible inventories: INI and YAML inventory files, and the JSON of ``ansible-inventory --list``.

Groups nest through ``children``; a host belongs to every group above it (``all``
and ``ungrouped`` are not listed). Variables merge like Ansible merges them: ``all``
first, then groups by depth (parents before children) and name, then the host's
own, with ``group_vars/NAME.{yml,yaml,json}`` and ``host_vars/NAME...`` files next
to an inventory file applied at their level. The JSON form carries host variables
already merged in ``_meta.hostvars`` (``--export`` output, with group ``vars``, is
read too).

Mapped variables: ``ansible_host`` (else the inventory name), ``ansible_port``,
``ansible_user``, ``ansible_password``/``ansible_ssh_pass``,
``ansible_become_password``/``ansible_become_pass``/``ansible_enable_pass`` (the
enable secret), ``ansible_ssh_private_key_file`` (read at login as a ``file:``
secret reference), and ``ansible_network_os`` (``ANSIBLE_NETWORK_OS``; a host
without one is a ``linux`` host over SSH). ``netfleet_platform`` and
``netfleet_max_sessions`` override. Other non-``ansible_`` variables become the
device's ``data``. Templated (``{{ }}``) or vault-encrypted values cannot be used
for these fields (put a secret reference such as ``env:NAME`` instead).
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from netfleet.core.errors import InventoryError
from netfleet.core.models import Credential, DeviceSpec

ANSIBLE_NETWORK_OS: dict[str, str] = {
    "cisco.ios.ios": "cisco_ios",
    "ios": "cisco_ios",
    "cisco.iosxr.iosxr": "cisco_xr",
    "iosxr": "cisco_xr",
    "cisco.nxos.nxos": "cisco_nxos",
    "nxos": "cisco_nxos",
    "cisco.asa.asa": "cisco_asa",
    "asa": "cisco_asa",
    "arista.eos.eos": "arista_eos",
    "eos": "arista_eos",
    "junipernetworks.junos.junos": "juniper_junos",
    "junos": "juniper_junos",
}
"""``ansible_network_os`` values (collection FQCNs and short names) to netfleet platforms."""

_SSH_CONNECTIONS = frozenset({"ssh", "smart", "paramiko", "paramiko_ssh", "network_cli",
                              "ansible.netcommon.network_cli"})  # fmt: skip
_RESERVED = ("all", "ungrouped")
_RANGE = re.compile(r"\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]")


def ansible_platform(host: str, network_os: str) -> str:
    """The netfleet platform of ``ansible_network_os``; InventoryError naming ``host``."""
    key = network_os.strip().lower()
    if key in ANSIBLE_NETWORK_OS:
        return ANSIBLE_NETWORK_OS[key]
    known = ", ".join(sorted(ANSIBLE_NETWORK_OS))
    raise InventoryError(
        f"host {host!r}: ansible_network_os {network_os!r} has no netfleet platform "
        f"(known: {known}); set netfleet_platform for it"
    )


@dataclass(slots=True)
class _Group:
    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AnsibleInventory:
    """Groups, their hosts and variables, and each host's own variables."""

    source: str
    groups: dict[str, _Group] = field(default_factory=dict)
    hostvars: dict[str, dict[str, Any]] = field(default_factory=dict)
    merged: bool = False
    """True when ``hostvars`` already hold group variables (``ansible-inventory --list``)."""

    def group(self, name: str) -> _Group:
        if name not in self.groups:
            self.groups[name] = _Group(name)
        return self.groups[name]

    def add_host(self, group: str, host: str, variables: dict[str, Any]) -> None:
        g = self.group(group)
        if host not in g.hosts:
            g.hosts.append(host)
        self.hostvars.setdefault(host, {}).update(variables)


# --- readers --------------------------------------------------------------------


def _expand(pattern: str) -> list[str]:
    """Ansible host ranges: ``web[01:03]`` -> web01, web02, web03; ``db-[a:c]``."""
    m = _RANGE.search(pattern)
    if m is None:
        return [pattern]
    start, end, step = m.group(1), m.group(2), int(m.group(3) or 1)
    head, tail = pattern[: m.start()], pattern[m.end() :]
    if start.isdigit() and end.isdigit():
        width = len(start) if start.startswith("0") else 0
        items = [str(i).zfill(width) for i in range(int(start), int(end) + 1, step)]
    elif start.isalpha() and end.isalpha():
        items = [chr(i) for i in range(ord(start), ord(end) + 1, step)]
    else:
        raise InventoryError(f"bad host range {pattern!r}")
    return [name for item in items for name in _expand(head + item + tail)]


def _ini_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _ini_pairs(path: Path, lineno: int, tokens: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise InventoryError(f"{path}:{lineno}: expected key=value, got {token!r}")
        out[key] = _ini_value(value)
    return out


def read_ini(path: Path) -> AnsibleInventory:
    """An Ansible INI inventory file."""
    inv = AnsibleInventory(source=str(path))
    section, kind = "ungrouped", "hosts"
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section, _, kind = line[1:-1].strip().partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "vars", "children"):
                raise InventoryError(f"{path}:{lineno}: unknown section kind {kind!r}")
            inv.group(section)
            continue
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as exc:
            raise InventoryError(f"{path}:{lineno}: {exc}") from None
        if kind == "vars":
            key, sep, value = line.partition("=")
            if not sep:
                raise InventoryError(f"{path}:{lineno}: expected key=value in [{section}:vars]")
            inv.group(section).vars[key.strip()] = _ini_value(value.strip())
        elif kind == "children":
            inv.group(tokens[0])
            inv.group(section).children.append(tokens[0])
        else:
            host_vars = _ini_pairs(path, lineno, tokens[1:])
            for host in _expand(tokens[0]):
                inv.add_host(section, host, host_vars)
    return inv


def _yaml_group(inv: AnsibleInventory, path: Path, name: str, body: Any) -> None:
    group = inv.group(name)
    if body is None:
        return
    if not isinstance(body, dict):
        raise InventoryError(f"{path}: group {name!r} must be a mapping")
    for key in body:
        if key not in ("hosts", "children", "vars"):
            raise InventoryError(f"{path}: group {name!r}: unknown key {key!r}")
    for host, hvars in (body.get("hosts") or {}).items():
        if hvars is not None and not isinstance(hvars, dict):
            raise InventoryError(f"{path}: host {host!r}: variables must be a mapping")
        for expanded in _expand(str(host)):
            inv.add_host(name, expanded, dict(hvars or {}))
    group.vars.update(body.get("vars") or {})
    for child, child_body in (body.get("children") or {}).items():
        if child not in group.children:
            group.children.append(child)
        _yaml_group(inv, path, child, child_body)


def read_yaml_inventory(path: Path, doc: dict[str, Any]) -> AnsibleInventory:
    """An Ansible YAML inventory (already loaded): top-level groups, usually just ``all``."""
    inv = AnsibleInventory(source=str(path))
    for name, body in doc.items():
        _yaml_group(inv, path, str(name), body)
    return inv


def read_list_json(source: str, doc: dict[str, Any]) -> AnsibleInventory:
    """The output of ``ansible-inventory --list`` (with or without ``--export``)."""
    inv = AnsibleInventory(source=source, merged=True)
    meta = doc.get("_meta") or {}
    for host, hvars in (meta.get("hostvars") or {}).items():
        inv.hostvars[host] = dict(hvars or {})
    for name, body in doc.items():
        if name == "_meta":
            continue
        if not isinstance(body, dict):
            raise InventoryError(f"{source}: group {name!r} must be an object")
        g = inv.group(name)
        g.hosts.extend(str(h) for h in body.get("hosts") or [])
        g.children.extend(str(c) for c in body.get("children") or [])
        g.vars.update(body.get("vars") or {})
    for g in inv.groups.values():
        for host in g.hosts:
            inv.hostvars.setdefault(host, {})
    return inv


def _vars_file(folder: Path, name: str) -> dict[str, Any]:
    for suffix in ("", ".yml", ".yaml", ".json"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            try:
                loaded = yaml.safe_load(path.read_text())
            except yaml.YAMLError as exc:
                raise InventoryError(f"{path}: not valid YAML: {exc}") from None
            if loaded is None:
                return {}
            if not isinstance(loaded, dict):
                raise InventoryError(f"{path}: expected a mapping of variables")
            return loaded
    return {}


# --- devices ----------------------------------------------------------------------


def _depths(inv: AnsibleInventory) -> dict[str, int]:
    depth: dict[str, int] = {}

    def visit(name: str, level: int, trail: tuple[str, ...]) -> None:
        if name in trail:
            raise InventoryError(f"{inv.source}: group cycle through {name!r}")
        if depth.get(name, -1) >= level:
            return
        depth[name] = level
        for child in inv.group(name).children:
            visit(child, level + 1, (*trail, name))

    roots = [g for g in inv.groups if not any(g in o.children for o in inv.groups.values())]
    for root in roots:
        visit(root, 0 if root == "all" else 1, ())
    for name in list(inv.groups):  # only groups on a cycle are left
        if name not in depth:
            visit(name, 1, ())
    return depth


def _host_groups(inv: AnsibleInventory, depth: dict[str, int]) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {}
    for g in inv.groups.values():
        for child in g.children:
            parents.setdefault(child, []).append(g.name)
    out: dict[str, list[str]] = {}
    for g in inv.groups.values():
        for host in g.hosts:
            found = out.setdefault(host, [])
            todo = [g.name]
            while todo:
                name = todo.pop()
                if name not in found:
                    found.append(name)
                    todo.extend(parents.get(name, []))
    for found in out.values():
        if "all" not in found:
            found.append("all")
        found.sort(key=lambda n: (depth.get(n, 1), n))
    return out


def _field(host: str, variables: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = variables.get(name)
        if value is None:
            continue
        if isinstance(value, dict) and "__ansible_vault" in value:
            raise InventoryError(
                f"host {host!r}: {name} is vault-encrypted; netfleet cannot decrypt it "
                "(use a secret reference such as env:NAME or exec:/path/helper)"
            )
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise InventoryError(f"host {host!r}: {name} must be a string")
        text = str(value)
        if "{{" in text or "{%" in text:
            raise InventoryError(
                f"host {host!r}: {name} is a Jinja template, which netfleet does not render "
                "(use a literal value or a secret reference)"
            )
        return text
    return None


_CREDENTIAL_VARS = ("ansible_password", "ansible_ssh_pass", "ansible_become_password",
                    "ansible_become_pass", "ansible_enable_pass")  # fmt: skip


def _device(host: str, variables: dict[str, Any], groups: list[str], folder: Path) -> DeviceSpec:
    platform = _field(host, variables, "netfleet_platform")
    if platform is None:
        network_os = _field(host, variables, "ansible_network_os")
        if network_os is not None:
            platform = ansible_platform(host, network_os)
        else:
            connection = _field(host, variables, "ansible_connection") or "ssh"
            if connection not in _SSH_CONNECTIONS:
                raise InventoryError(
                    f"host {host!r}: ansible_connection {connection!r} is not SSH and "
                    "ansible_network_os is not set"
                )
            platform = "linux"
    port_text = _field(host, variables, "ansible_port", "ansible_ssh_port") or "22"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise InventoryError(f"host {host!r}: ansible_port {port_text!r} is not a TCP port")
    sessions = _field(host, variables, "netfleet_max_sessions") or "2"
    if not sessions.isdigit() or int(sessions) < 1:
        raise InventoryError(f"host {host!r}: netfleet_max_sessions must be a positive integer")
    credentials: tuple[Credential, ...] = ()
    user = _field(host, variables, "ansible_user", "ansible_ssh_user")
    if user is not None:
        key_file = _field(host, variables, "ansible_ssh_private_key_file")
        key_ref = None
        if key_file is not None:
            key_path = Path(key_file).expanduser()
            key_ref = f"file:{key_path if key_path.is_absolute() else folder / key_path}"
        credentials = (
            Credential(
                username=user,
                password=_field(host, variables, "ansible_password", "ansible_ssh_pass"),
                enable_secret=_field(host, variables, *_CREDENTIAL_VARS[2:]),
                private_key=key_ref,
            ),
        )
    data = {k: v for k, v in variables.items() if not k.startswith(("ansible_", "netfleet_"))}
    return DeviceSpec(
        name=host,
        host=_field(host, variables, "ansible_host", "ansible_ssh_host") or host,
        port=int(port_text),
        platform=platform,
        credentials=credentials,
        max_sessions=int(sessions),
        groups=tuple(g for g in groups if g not in _RESERVED),
        data=data,
    )


def ansible_devices(inv: AnsibleInventory, folder: Path | None = None) -> list[DeviceSpec]:
    """The devices of an Ansible inventory; ``folder`` holds its group_vars/host_vars."""
    depth = _depths(inv)
    memberships = _host_groups(inv, depth)
    base = folder or Path.cwd()
    specs = []
    for host in sorted(inv.hostvars):
        groups = memberships.get(host, ["all"])
        variables: dict[str, Any] = {}
        for name in groups:
            variables.update(inv.group(name).vars)
            if folder is not None:
                variables.update(_vars_file(folder / "group_vars", name))
        variables.update(inv.hostvars[host])
        if folder is not None:
            variables.update(_vars_file(folder / "host_vars", host))
        specs.append(_device(host, variables, groups, base))
    return specs


def looks_like_ini(path: Path) -> bool:
    """An ``.ini``/``.cfg`` file, or an extension-less file whose first statement is ``[x]``
    or a host line (not YAML/JSON)."""
    if path.suffix in (".ini", ".cfg"):
        return True
    if path.suffix:
        return False
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", ";")):
            return line.startswith("[") and line.endswith("]") and not line.startswith("[{")
    return False


def is_ansible_document(doc: Any) -> bool:
    """A loaded YAML/JSON document shaped like an Ansible inventory."""
    if not isinstance(doc, dict) or not doc:
        return False
    if "_meta" in doc or "all" in doc:
        return all(isinstance(v, dict) or v is None for v in doc.values())
    return False


def _is_list_output(doc: dict[str, Any]) -> bool:
    if "_meta" in doc:
        return True
    bodies = [b for b in doc.values() if isinstance(b, dict)]
    return any(isinstance(b.get(k), list) for b in bodies for k in ("hosts", "children"))


def load_ansible(path: Path, doc: Any | None = None) -> list[DeviceSpec]:
    """The devices of the Ansible inventory at ``path`` (INI, YAML or ``--list`` JSON)."""
    if doc is None and looks_like_ini(path):
        return ansible_devices(read_ini(path), path.parent)
    if doc is None:
        text = path.read_text()
        try:
            doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise InventoryError(f"{path}: cannot parse: {exc}") from None
    if not is_ansible_document(doc):
        raise InventoryError(f"{path}: not an Ansible inventory (no 'all' group)")
    if _is_list_output(doc):
        return ansible_devices(read_list_json(str(path), doc))
    return ansible_devices(read_yaml_inventory(path, doc), path.parent)
