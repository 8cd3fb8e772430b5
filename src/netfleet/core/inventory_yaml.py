"""Reading inventory YAML with line numbers, typed field access that names the file,
line and field in every ``InventoryError``, and platform-name aliases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from netfleet.core.errors import InventoryError

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


def normalize_platform(name: str) -> str:
    """Map an alias (``ios``, ``eos`` ...) to netfleet's platform name; others pass through."""
    key = name.strip().lower()
    return PLATFORM_ALIASES.get(key, key)


class YamlMap(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class YamlSeq(list[Any]):
    """A YAML sequence that remembers the line of itself and of each item."""

    line: int = 0
    item_lines: list[int]


LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when available (3x faster end to end on a 1,000-device inventory)."""

MAX_YAML_CHARS = 16 * 1024 * 1024
"""The largest YAML document read (an inventory of 10,000 devices is about 2 MB)."""
MAX_ALIASES = 100
"""The most alias uses (``*name``) in one document."""
MAX_ALIAS_NODES = 10_000
"""The most nodes that alias uses may add when expanded (refuses "billion laughs")."""
MAX_DEPTH = 100
"""The deepest nesting of mappings and sequences."""


def check_node_graph(root: yaml.Node) -> str | None:
    """Why the composed document is refused (alias bomb, recursion, depth), or None.

    Works on the composed node graph, where an alias is a second reference to the
    same node, so the check costs the size of the document, not of its expansion.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    aliases = 0

    def size(node: yaml.Node, depth: int) -> int:
        nonlocal aliases
        key = id(node)
        if key in open_nodes:
            raise _Refused("an alias refers to its own anchor (recursive document)")
        if key in sizes:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases")
            return sizes[key]
        if depth > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
        total = 1
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            open_nodes.add(key)
            children: list[yaml.Node] = (
                [n for pair in node.value for n in pair]
                if isinstance(node, yaml.MappingNode)
                else list(node.value)
            )
            for child in children:
                total += size(child, depth + 1)
            open_nodes.discard(key)
        sizes[key] = total
        return total

    try:
        expanded = size(root, 0)
    except _Refused as exc:
        return str(exc)
    if expanded - len(sizes) > MAX_ALIAS_NODES:
        return f"aliases expand to more than {MAX_ALIAS_NODES} extra nodes"
    return None


class _Refused(Exception):
    pass


def parse_yaml(text: str, source: str) -> Any:
    """Parse one YAML document (with line numbers), within the limits above.

    ``source`` names the document in every ``InventoryError``.
    """
    if len(text) > MAX_YAML_CHARS:
        raise InventoryError(f"{source}: YAML document larger than {MAX_YAML_CHARS} characters")
    try:
        loader = LOADER(text)
    except yaml.YAMLError as exc:  # e.g. ReaderError: unprintable characters
        raise InventoryError(f"{source}: invalid YAML: {str(exc).splitlines()[0]}") from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        refused = check_node_graph(node)
        if refused is not None:
            raise InventoryError(f"{source}: YAML refused: {refused}")
        return to_python(loader, node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InventoryError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise InventoryError(f"{source}: invalid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        loader.dispose()


def to_python(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        out = YamlMap()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            out[str(key)] = to_python(loader, value_node)
            out.key_lines[str(key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = YamlSeq()
        seq.line = node.start_mark.line + 1
        seq.item_lines = []
        for item in node.value:
            seq.append(to_python(loader, item))
            seq.item_lines.append(item.start_mark.line + 1)
        return seq
    return loader.construct_object(node, deep=True)


def read_yaml(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_YAML_CHARS * 4:
            raise InventoryError(f"{path}: YAML document larger than {MAX_YAML_CHARS} characters")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"{path}: cannot read inventory: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise InventoryError(f"{path}: not a UTF-8 text file") from None
    return parse_yaml(text, str(path))


@dataclass(frozen=True, slots=True)
class Where:
    """A place in an inventory file, for error messages."""

    path: Path
    line: int

    def error(self, field_name: str, problem: str) -> InventoryError:
        return InventoryError(f"{self.path}:{self.line}: field '{field_name}': {problem}")


def key_where(path: Path, mapping: Any, key: str) -> Where:
    lines = getattr(mapping, "key_lines", {})
    return Where(path, lines.get(key, getattr(mapping, "line", 0)))


def get_str(path: Path, m: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = m.get(key)
    if value is None:
        if required:
            raise Where(path, getattr(m, "line", 0)).error(key, "missing")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise key_where(path, m, key).error(key, f"expected text, got {type(value).__name__}")
    return str(value)


def get_int(path: Path, m: dict[str, Any], key: str, lo: int, hi: int) -> int | None:
    value = m.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise key_where(path, m, key).error(
            key, f"expected an integer from {lo} to {hi}, got {value!r}"
        )
    return value


def get_names(path: Path, m: dict[str, Any], key: str) -> tuple[str, ...]:
    value = m.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise key_where(path, m, key).error(key, "expected a list of names")
    return tuple(str(v) for v in value)


def get_map(path: Path, m: dict[str, Any], key: str) -> dict[str, Any]:
    value = m.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise key_where(path, m, key).error(key, "expected a mapping")
    result: dict[str, Any] = plain(value)
    return result


def plain(value: Any) -> Any:
    """Strip the line-number wrappers (for ``DeviceSpec.data``)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
