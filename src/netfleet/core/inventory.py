"""Load device inventories and select devices with a small filter language.

Two formats are read:

* **netfleet / simulator YAML** — a file with a top-level ``devices:`` list whose
  entries have ``name, host, port, platform, username, password, enable_secret``
  and optionally ``max_sessions, groups, tags, data, host_key_policy,
  legacy_algorithms``; top-level ``defaults: {data: ...}`` and ``groups: {NAME: {data:
  ...}}`` are merged into each device's ``data`` (defaults, then its groups in order,
  then its own; mappings key by key).
* **Ansible** — INI and YAML inventory files and the JSON of ``ansible-inventory
  --list`` (see ``inventory_ansible``).
* **Nornir SimpleInventory** — ``hosts.yaml`` (plus optional ``groups.yaml`` and
  ``defaults.yaml`` next to it); ``path`` is that file or the directory holding
  it. Hosts inherit ``hostname, port, username, password, platform, data`` from
  their groups (in order, depth first) and then from the defaults. Nornir/NAPALM
  platform names (``ios``, ``eos``, ``junos`` ...) are mapped to netfleet's.

Filter expressions (``Inventory.filter``) are terms joined by ``and``, ``,`` or
spaces; every term must match::

    name=core-*                 glob over the device name (a bare word means name=)
    group=dc1                   member of group dc1 (Nornir parent groups count)
    platform=cisco_ios,arista_eos   any of the listed values
    tag=edge and name!=lab-*    ``!=`` negates a term
    host=10.0.*                 glob over the host address

Within a term, a comma followed by a word without ``=`` adds another accepted
value; a comma followed by ``key=`` starts a new term. Globs use ``*``, ``?``
and ``[...]``, and are case-sensitive.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from netfleet.core.errors import InventoryError
from netfleet.core.inventory_ansible import is_ansible_document, load_ansible, looks_like_ini
from netfleet.core.inventory_nornir import load_nornir
from netfleet.core.inventory_yaml import (
    PLATFORM_ALIASES,
    Where,
    get_int,
    get_map,
    get_names,
    get_str,
    key_where,
    normalize_platform,
    plain,
    read_yaml,
)
from netfleet.core.merge import merge_vars
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.names import name_problem

FILTER_KEYS = ("name", "host", "group", "platform", "tag")


# --- the netfleet / simulator format -----------------------------------------

_DEVICE_FIELDS = frozenset(
    {
        "name",
        "host",
        "hostname",
        "port",
        "platform",
        "username",
        "password",
        "enable_secret",
        "max_sessions",
        "groups",
        "tags",
        "data",
        "host_key_policy",
        "legacy_algorithms",
    }
)
_HOST_KEY_POLICIES = ("strict", "accept-new", "off")


def _netfleet_device(path: Path, entry: Any, line: int) -> DeviceSpec:
    if not isinstance(entry, dict):
        raise Where(path, line).error("devices", "each entry must be a mapping")
    for key in entry:
        if key not in _DEVICE_FIELDS:
            raise key_where(path, entry, key).error(key, "unknown field")
    name = get_str(path, entry, "name", required=True)
    if name is not None and (problem := name_problem(name)) is not None:
        raise key_where(path, entry, "name").error("name", problem)
    host = get_str(path, entry, "host") or get_str(path, entry, "hostname")
    if not host:
        raise Where(path, line).error("host", f"missing for device {name!r}")
    platform = get_str(path, entry, "platform", required=True)
    username = get_str(path, entry, "username")
    credentials: tuple[Credential, ...] = ()
    if username is not None:
        credentials = (
            Credential(
                username=username,
                password=get_str(path, entry, "password"),
                enable_secret=get_str(path, entry, "enable_secret"),
            ),
        )
    policy = get_str(path, entry, "host_key_policy") or "accept-new"
    if policy not in _HOST_KEY_POLICIES:
        raise key_where(path, entry, "host_key_policy").error(
            "host_key_policy", f"expected one of {', '.join(_HOST_KEY_POLICIES)}"
        )
    legacy = entry.get("legacy_algorithms", False)
    if not isinstance(legacy, bool):
        raise key_where(path, entry, "legacy_algorithms").error(
            "legacy_algorithms", "expected true or false"
        )
    assert name is not None
    assert platform is not None
    return DeviceSpec(
        name=name,
        host=host,
        port=get_int(path, entry, "port", 1, 65535) or 22,
        platform=normalize_platform(platform),
        credentials=credentials,
        max_sessions=get_int(path, entry, "max_sessions", 1, 10000) or 2,
        groups=get_names(path, entry, "groups"),
        tags=get_names(path, entry, "tags"),
        host_key_policy=policy,  # type: ignore[arg-type]
        legacy_algorithms=legacy,
        data=get_map(path, entry, "data"),
    )


def _load_netfleet(path: Path, doc: dict[str, Any]) -> list[DeviceSpec]:
    for key in doc:
        if key not in ("devices", "groups", "defaults"):
            raise key_where(path, doc, key).error(key, "unknown top-level field")
    devices = doc["devices"]
    if devices is None:
        return []
    if not isinstance(devices, list):
        raise key_where(path, doc, "devices").error("devices", "expected a list of devices")
    lines = getattr(devices, "item_lines", [0] * len(devices))
    specs = [_netfleet_device(path, entry, ln) for entry, ln in zip(devices, lines, strict=True)]
    defaults, groups = _layer(path, doc, "defaults"), _group_layers(path, doc)
    if not defaults and not groups:
        return specs
    return [
        dataclasses.replace(
            s, data=merge_vars(defaults, *(groups.get(g) for g in s.groups), s.data)
        )
        for s in specs
    ]


def _layer(path: Path, m: dict[str, Any], key: str, label: str = "") -> dict[str, Any]:
    """``data`` of the mapping at ``key`` (``defaults: {data: {...}}``)."""
    label = label or key
    value = m.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise key_where(path, m, key).error(label, "expected a mapping with data:")
    for inner in value:
        if inner != "data":
            raise key_where(path, value, inner).error(
                f"{label}.{inner}", "unknown field (group and default variables go in data:)"
            )
    return get_map(path, value, "data")


def _group_layers(path: Path, doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``groups: {NAME: {data: {...}}}``: variables merged into members' ``data`` (in
    each device's group order, before its own data; mappings merge key by key)."""
    groups = doc.get("groups")
    if groups is None:
        return {}
    if not isinstance(groups, dict):
        raise key_where(path, doc, "groups").error("groups", "expected a mapping of groups")
    return {str(name): _layer(path, groups, name, f"groups.{name}") for name in groups}


# --- public API ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FilterTerm:
    """One ``key=value[,value...]`` (or ``key!=...``) term of a filter expression."""

    key: str
    values: tuple[str, ...]
    negate: bool

    def matches(self, spec: DeviceSpec) -> bool:
        if self.key == "name":
            hit = any(fnmatchcase(spec.name, v) for v in self.values)
        elif self.key == "host":
            hit = any(fnmatchcase(spec.host, v) for v in self.values)
        elif self.key == "platform":
            hit = any(fnmatchcase(spec.platform, normalize_platform(v)) for v in self.values)
        elif self.key == "group":
            hit = any(fnmatchcase(g, v) for g in spec.groups for v in self.values)
        else:
            hit = any(fnmatchcase(t, v) for t in spec.tags for v in self.values)
        return hit != self.negate


_TERM = re.compile(r"^\s*([A-Za-z_]+)\s*(!?=)\s*(.*?)\s*$")


def matches_filter(spec: DeviceSpec, terms: Iterable[FilterTerm]) -> bool:
    """True when ``spec`` matches every term."""
    return all(t.matches(spec) for t in terms)


def parse_filter(expr: str) -> list[FilterTerm]:
    """Parse a filter expression (see the module docstring) into terms; raise InventoryError."""
    terms: list[FilterTerm] = []
    text = re.sub(r"\s*(!?=)\s*", r"\1", expr.strip())
    text = re.sub(r"\s*,\s*", ",", text)
    for clause in text.split():
        if clause.lower() == "and":
            continue
        for index, raw in enumerate(clause.split(",")):
            piece = raw.strip()
            if not piece:
                raise InventoryError(f"filter {expr!r}: empty term")
            m = _TERM.match(piece)
            if m:
                key, op, value = m.group(1).lower(), m.group(2), m.group(3)
                if key not in FILTER_KEYS:
                    raise InventoryError(
                        f"filter {expr!r}: unknown key {key!r} "
                        f"(expected one of {', '.join(FILTER_KEYS)})"
                    )
                if not value:
                    raise InventoryError(f"filter {expr!r}: empty value for {key!r}")
                terms.append(FilterTerm(key, (value,), op == "!="))
            elif "=" in piece:
                raise InventoryError(f"filter {expr!r}: cannot parse {piece!r}")
            elif index > 0:
                last = terms[-1]
                terms[-1] = FilterTerm(last.key, (*last.values, piece), last.negate)
            else:
                terms.append(FilterTerm("name", (piece,), False))
    if not terms:
        raise InventoryError("filter is empty")
    return terms


@dataclass(frozen=True, slots=True)
class Inventory:
    """The devices of one inventory source."""

    devices: list[DeviceSpec]
    source: str = ""

    def get(self, name: str) -> DeviceSpec:
        for spec in self.devices:
            if spec.name == name:
                return spec
        raise InventoryError(f"{self.source}: no device named {name!r}")

    def filter(self, expr: str | None) -> list[DeviceSpec]:
        """Devices matching ``expr`` (all when None/empty); InventoryError if none match."""
        if not self.devices:
            raise InventoryError(f"{self.source}: the inventory has no devices")
        if expr is None or not expr.strip():
            return list(self.devices)
        terms = parse_filter(expr)
        chosen = [d for d in self.devices if all(t.matches(d) for t in terms)]
        if not chosen:
            raise InventoryError(f"filter {expr!r} matches no device in {self.source}")
        return chosen


def _find_nornir_hosts(path: Path) -> Path | None:
    if path.is_dir():
        for name in ("hosts.yaml", "hosts.yml"):
            if (path / name).is_file():
                return path / name
        return None
    return path if path.name in ("hosts.yaml", "hosts.yml") else None


def load_inventory(path: str | Path) -> Inventory:
    """Read a netfleet/simulator YAML inventory or a Nornir inventory (see module docstring)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InventoryError(f"{path}: inventory file not found")
    hosts = _find_nornir_hosts(path)
    if hosts is not None:
        specs = load_nornir(hosts)
        source = str(hosts)
    elif path.is_dir():
        raise InventoryError(f"{path}: directory has no Nornir hosts.yaml")
    elif looks_like_ini(path):
        specs = load_ansible(path)
        source = str(path)
    else:
        doc = read_yaml(path)
        if isinstance(doc, dict) and "devices" in doc:
            specs = _load_netfleet(path, doc)
        elif is_ansible_document(doc):
            specs = load_ansible(path, plain(doc))
        else:
            line = getattr(doc, "line", 1)
            raise InventoryError(
                f"{path}:{line}: unknown inventory format: expected a top-level 'devices:' "
                "list, a Nornir hosts.yaml, or an Ansible inventory (INI, YAML with 'all:', "
                "or the JSON of ansible-inventory --list)"
            )
        source = str(path)
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen:
            raise InventoryError(f"{source}: field 'name': duplicate device name {spec.name!r}")
        seen[spec.name] = spec.name
    return Inventory(devices=specs, source=source)


__all__ = [
    "PLATFORM_ALIASES",
    "FilterTerm",
    "Inventory",
    "load_inventory",
    "matches_filter",
    "normalize_platform",
    "parse_filter",
]
