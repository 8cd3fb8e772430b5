"""Load device inventories and select devices with a small filter language.

Two formats are read:

* **netfleet / simulator YAML** — a file with a top-level ``devices:`` list whose
  entries have ``name, host, port, platform, username, password, enable_secret``
  and optionally ``max_sessions, groups, tags, data, host_key_policy,
  legacy_algorithms``.
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

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from netfleet.core.errors import InventoryError
from netfleet.core.models import Credential, DeviceSpec

PLATFORM_ALIASES: dict[str, str] = {
    "ios": "cisco_ios",
    "cisco_ios_ssh": "cisco_ios",
    "iosxe": "cisco_xe",
    "ios_xe": "cisco_xe",
    "ios-xe": "cisco_xe",
    "cisco_iosxe": "cisco_xe",
    "cisco_ios_xe": "cisco_xe",
    "nxos": "cisco_nxos",
    "nxos_ssh": "cisco_nxos",
    "cisco_nxos_ssh": "cisco_nxos",
    "iosxr": "cisco_xr",
    "ios_xr": "cisco_xr",
    "ios-xr": "cisco_xr",
    "cisco_iosxr": "cisco_xr",
    "asa": "cisco_asa",
    "eos": "arista_eos",
    "junos": "juniper_junos",
    "juniper": "juniper_junos",
    "linux_ssh": "linux",
}
"""Nornir / NAPALM / netmiko platform names mapped to netfleet's."""

FILTER_KEYS = ("name", "host", "group", "platform", "tag")


def normalize_platform(name: str) -> str:
    """Map an alias (``ios``, ``eos`` ...) to netfleet's platform name; others pass through."""
    key = name.strip().lower()
    return PLATFORM_ALIASES.get(key, key)


# --- YAML with line numbers ---------------------------------------------------


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class _Seq(list[Any]):
    """A YAML sequence that remembers the line of itself and of each item."""

    line: int = 0
    item_lines: list[int]


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when available (about 10x faster on large inventories)."""


def _to_python(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = _Map()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            out[str(key)] = _to_python(loader, value_node)
            out.key_lines[str(key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = _Seq()
        seq.line = node.start_mark.line + 1
        seq.item_lines = []
        for item in node.value:
            seq.append(_to_python(loader, item))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    return loader.construct_object(node, deep=True)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read inventory: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InventoryError(f"{path}: not a UTF-8 text file") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _to_python(loader, node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise InventoryError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InventoryError(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


@dataclass(frozen=True, slots=True)
class _Where:
    """A place in an inventory file, for error messages."""

    path: Path
    line: int

    def error(self, field_name: str, problem: str) -> InventoryError:
        return InventoryError(f"{self.path}:{self.line}: field '{field_name}': {problem}")


def _key_where(path: Path, mapping: Any, key: str) -> _Where:
    lines = getattr(mapping, "key_lines", {})
    return _Where(path, lines.get(key, getattr(mapping, "line", 0)))


def _get_str(path: Path, m: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = m.get(key)
    if value is None:
        if required:
            raise _Where(path, getattr(m, "line", 0)).error(key, "missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _key_where(path, m, key).error(key, f"expected text, got {type(value).__name__}")
    return str(value)


def _get_int(path: Path, m: dict[str, Any], key: str, lo: int, hi: int) -> int | None:
    value = m.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _key_where(path, m, key).error(
            key, f"expected an integer from {lo} to {hi}, got {value!r}"
        )
    return value


def _get_names(path: Path, m: dict[str, Any], key: str) -> tuple[str, ...]:
    value = m.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise _key_where(path, m, key).error(key, "expected a list of names")
    return tuple(str(v) for v in value)


def _get_map(path: Path, m: dict[str, Any], key: str) -> dict[str, Any]:
    value = m.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _key_where(path, m, key).error(key, "expected a mapping")
    plain: dict[str, Any] = _plain(value)
    return plain


def _plain(value: Any) -> Any:
    """Strip the line-number wrappers (for ``DeviceSpec.data``)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- the two formats ----------------------------------------------------------

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
        raise _Where(path, line).error("devices", "each entry must be a mapping")
    for key in entry:
        if key not in _DEVICE_FIELDS:
            raise _key_where(path, entry, key).error(key, "unknown field")
    name = _get_str(path, entry, "name", required=True)
    host = _get_str(path, entry, "host") or _get_str(path, entry, "hostname")
    if not host:
        raise _Where(path, line).error("host", f"missing for device {name!r}")
    platform = _get_str(path, entry, "platform", required=True)
    username = _get_str(path, entry, "username")
    credentials: tuple[Credential, ...] = ()
    if username is not None:
        credentials = (
            Credential(
                username=username,
                password=_get_str(path, entry, "password"),
                enable_secret=_get_str(path, entry, "enable_secret"),
            ),
        )
    policy = _get_str(path, entry, "host_key_policy") or "accept-new"
    if policy not in _HOST_KEY_POLICIES:
        raise _key_where(path, entry, "host_key_policy").error(
            "host_key_policy", f"expected one of {', '.join(_HOST_KEY_POLICIES)}"
        )
    legacy = entry.get("legacy_algorithms", False)
    if not isinstance(legacy, bool):
        raise _key_where(path, entry, "legacy_algorithms").error(
            "legacy_algorithms", "expected true or false"
        )
    assert name is not None
    assert platform is not None
    return DeviceSpec(
        name=name,
        host=host,
        port=_get_int(path, entry, "port", 1, 65535) or 22,
        platform=normalize_platform(platform),
        credentials=credentials,
        max_sessions=_get_int(path, entry, "max_sessions", 1, 10000) or 2,
        groups=_get_names(path, entry, "groups"),
        tags=_get_names(path, entry, "tags"),
        host_key_policy=policy,  # type: ignore[arg-type]
        legacy_algorithms=legacy,
        data=_get_map(path, entry, "data"),
    )


def _load_netfleet(path: Path, doc: dict[str, Any]) -> list[DeviceSpec]:
    for key in doc:
        if key != "devices":
            raise _key_where(path, doc, key).error(key, "unknown top-level field")
    devices = doc["devices"]
    if devices is None:
        return []
    if not isinstance(devices, list):
        raise _key_where(path, doc, "devices").error("devices", "expected a list of devices")
    lines = getattr(devices, "item_lines", [0] * len(devices))
    return [_netfleet_device(path, entry, ln) for entry, ln in zip(devices, lines, strict=True)]


_NORNIR_FIELDS = frozenset(
    {"hostname", "port", "username", "password", "platform", "groups", "data",
     "connection_options"}
)  # fmt: skip
_INHERITED = ("hostname", "port", "username", "password", "platform")


@dataclass(slots=True)
class _NornirEntry:
    name: str
    path: Path
    raw: dict[str, Any]
    parents: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)


def _nornir_entries(path: Path, doc: Any, *, kind: str) -> dict[str, _NornirEntry]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise InventoryError(f"{path}:1: expected a mapping of {kind} names to their settings")
    out: dict[str, _NornirEntry] = {}
    for name, raw in doc.items():
        if raw is None:
            raw = _Map()
            raw.line, raw.key_lines = _key_where(path, doc, name).line, {}
        if not isinstance(raw, dict):
            raise _key_where(path, doc, name).error(name, f"{kind} settings must be a mapping")
        for key in raw:
            if key not in _NORNIR_FIELDS:
                raise _key_where(path, raw, key).error(key, f"unknown field for {kind} {name!r}")
        for key in _INHERITED:
            if key == "port":
                _get_int(path, raw, key, 1, 65535)
            else:
                _get_str(path, raw, key)
        out[name] = _NornirEntry(
            name=name,
            path=path,
            raw=raw,
            parents=_get_names(path, raw, "groups"),
            data=_get_map(path, raw, "data"),
        )
    return out


def _nornir_lineage(host: _NornirEntry, groups: dict[str, _NornirEntry]) -> list[_NornirEntry]:
    """The host's groups in Nornir resolution order (depth first, each once)."""
    order: list[_NornirEntry] = []
    seen: set[str] = set()

    def visit(entry: _NornirEntry, trail: tuple[str, ...]) -> None:
        for parent in entry.parents:
            if parent in trail:
                raise _key_where(entry.path, entry.raw, "groups").error(
                    "groups", f"group cycle through {parent!r}"
                )
            if parent not in groups:
                raise _key_where(entry.path, entry.raw, "groups").error(
                    "groups", f"unknown group {parent!r}"
                )
            if parent not in seen:
                seen.add(parent)
                order.append(groups[parent])
                visit(groups[parent], (*trail, parent))

    visit(host, (host.name,))
    return order


def _nornir_secret(chain: Iterable[_NornirEntry | dict[str, Any]]) -> str | None:
    for item in chain:
        raw = item.raw if isinstance(item, _NornirEntry) else item
        data = item.data if isinstance(item, _NornirEntry) else _plain(raw.get("data") or {})
        for key in ("enable_secret", "secret"):
            if isinstance(data.get(key), str):
                return str(data[key])
        options = raw.get("connection_options") or {}
        if isinstance(options, dict):
            for opt in options.values():
                extras = opt.get("extras") if isinstance(opt, dict) else None
                if isinstance(extras, dict) and isinstance(extras.get("secret"), str):
                    return str(extras["secret"])
    return None


def _load_nornir(hosts_path: Path) -> list[DeviceSpec]:
    folder = hosts_path.parent
    hosts = _nornir_entries(hosts_path, _read_yaml(hosts_path), kind="host")
    groups: dict[str, _NornirEntry] = {}
    defaults: dict[str, Any] = {}
    for suffix in (".yaml", ".yml"):
        gpath = folder / f"groups{suffix}"
        if gpath.is_file():
            groups = _nornir_entries(gpath, _read_yaml(gpath), kind="group")
        dpath = folder / f"defaults{suffix}"
        if dpath.is_file():
            loaded = _read_yaml(dpath)
            if loaded is not None and not isinstance(loaded, dict):
                raise InventoryError(f"{dpath}:1: expected a mapping of default settings")
            defaults = loaded or {}
    specs = []
    for host in hosts.values():
        chain = [host, *_nornir_lineage(host, groups)]

        def pick(key: str, chain: list[_NornirEntry] = chain) -> Any:
            for entry in chain:
                if entry.raw.get(key) is not None:
                    return entry.raw[key]
            return defaults.get(key)

        data: dict[str, Any] = _plain(defaults.get("data") or {})
        for entry in reversed(chain):
            data.update(entry.data)
        where = _Where(host.path, getattr(host.raw, "line", 0))
        platform = pick("platform")
        if not platform:
            raise where.error("platform", f"missing for host {host.name!r} (and its groups)")
        username = pick("username")
        credentials: tuple[Credential, ...] = ()
        if username is not None:
            password = pick("password")
            secret = _nornir_secret([*chain, defaults])
            credentials = (
                Credential(
                    username=str(username),
                    password=None if password is None else str(password),
                    enable_secret=secret,
                ),
            )
        max_sessions = data.get("max_sessions", 2)
        if not isinstance(max_sessions, int) or max_sessions < 1:
            raise where.error("data.max_sessions", f"expected a positive integer for {host.name}")
        tags = data.get("tags", [])
        if isinstance(tags, str):
            tags = [tags]
        specs.append(
            DeviceSpec(
                name=host.name,
                host=str(pick("hostname") or host.name),
                port=int(pick("port") or 22),
                platform=normalize_platform(str(platform)),
                credentials=credentials,
                max_sessions=max_sessions,
                groups=tuple(g.name for g in chain[1:]),
                tags=tuple(str(t) for t in tags),
                data=data,
            )
        )
    return specs


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
        specs = _load_nornir(hosts)
        source = str(hosts)
    elif path.is_dir():
        raise InventoryError(f"{path}: directory has no Nornir hosts.yaml")
    else:
        doc = _read_yaml(path)
        if isinstance(doc, dict) and "devices" in doc:
            specs = _load_netfleet(path, doc)
        else:
            line = getattr(doc, "line", 1)
            raise InventoryError(
                f"{path}:{line}: unknown inventory format: expected a top-level 'devices:' "
                "list, or a Nornir hosts.yaml"
            )
        source = str(path)
    seen: dict[str, str] = {}
    for spec in specs:
        if spec.name in seen:
            raise InventoryError(f"{source}: field 'name': duplicate device name {spec.name!r}")
        seen[spec.name] = spec.name
    return Inventory(devices=specs, source=source)
