"""Nornir SimpleInventory: ``hosts.yaml`` with optional ``groups.yaml``/``defaults.yaml``.

Hosts inherit ``hostname, port, username, password, platform`` from their groups
(in order, depth first, parents after each group) and then from the defaults;
``data`` is merged the same way. The enable secret comes from ``data.enable_secret``
(or ``data.secret``) or ``connection_options.<plugin>.extras.secret``; ``data.tags``
and ``data.max_sessions`` become the device's tags and session limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netfleet.core.errors import InventoryError
from netfleet.core.inventory_yaml import (
    Where,
    YamlMap,
    get_int,
    get_map,
    get_names,
    get_str,
    key_where,
    normalize_platform,
    plain,
    read_yaml,
)
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.names import name_problem

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
            raw = YamlMap()
            raw.line, raw.key_lines = key_where(path, doc, name).line, {}
        if not isinstance(raw, dict):
            raise key_where(path, doc, name).error(name, f"{kind} settings must be a mapping")
        if kind == "host" and (problem := name_problem(str(name))) is not None:
            raise key_where(path, doc, name).error(str(name)[:40], problem)
        for key in raw:
            if key not in _NORNIR_FIELDS:
                raise key_where(path, raw, key).error(key, f"unknown field for {kind} {name!r}")
        for key in _INHERITED:
            if key == "port":
                get_int(path, raw, key, 1, 65535)
            else:
                get_str(path, raw, key)
        out[name] = _NornirEntry(
            name=name,
            path=path,
            raw=raw,
            parents=get_names(path, raw, "groups"),
            data=get_map(path, raw, "data"),
        )
    return out


def _nornir_lineage(host: _NornirEntry, groups: dict[str, _NornirEntry]) -> list[_NornirEntry]:
    """The host's groups in Nornir resolution order (depth first, each once)."""
    order: list[_NornirEntry] = []
    seen: set[str] = set()

    def visit(entry: _NornirEntry, trail: tuple[str, ...]) -> None:
        for parent in entry.parents:
            if parent in trail:
                raise key_where(entry.path, entry.raw, "groups").error(
                    "groups", f"group cycle through {parent!r}"
                )
            if parent not in groups:
                raise key_where(entry.path, entry.raw, "groups").error(
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
        data = item.data if isinstance(item, _NornirEntry) else plain(raw.get("data") or {})
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


def load_nornir(hosts_path: Path) -> list[DeviceSpec]:
    """The devices of a Nornir inventory whose ``hosts.yaml`` is ``hosts_path``."""
    folder = hosts_path.parent
    hosts = _nornir_entries(hosts_path, read_yaml(hosts_path), kind="host")
    groups: dict[str, _NornirEntry] = {}
    defaults: dict[str, Any] = {}
    for suffix in (".yaml", ".yml"):
        gpath = folder / f"groups{suffix}"
        if gpath.is_file():
            groups = _nornir_entries(gpath, read_yaml(gpath), kind="group")
        dpath = folder / f"defaults{suffix}"
        if dpath.is_file():
            loaded = read_yaml(dpath)
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

        data: dict[str, Any] = plain(defaults.get("data") or {})
        for entry in reversed(chain):
            data.update(entry.data)
        where = Where(host.path, getattr(host.raw, "line", 0))
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
