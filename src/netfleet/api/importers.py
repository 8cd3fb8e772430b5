"""Parse inventory documents sent to ``POST /api/v1/devices/import``.

netfleet YAML and Nornir SimpleInventory texts go through the same loader as
files on disk (``netfleet.core.inventory``); CSV is parsed here, row by row, so
one bad row is reported without stopping the others.
"""

from __future__ import annotations

import csv
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from netfleet.core.errors import InventoryError, ValidationError
from netfleet.core.inventory import load_inventory, normalize_platform
from netfleet.core.models import Credential, DeviceSpec
from netfleet.core.names import check_device_name
from netfleet.store.records import ImportRow

CSV_FIELDS = (
    "name", "host", "platform", "port", "credentials", "groups", "tags", "max_sessions",
    "username", "password", "enable_secret", "host_key_policy",
)  # fmt: skip
_HOST_KEY_POLICIES = ("strict", "accept-new", "off")


@dataclass(frozen=True, slots=True)
class Parsed:
    """Devices parsed from a document, plus rows that failed to parse."""

    specs: list[DeviceSpec]
    errors: list[ImportRow]


def parse_netfleet_yaml(text: str, filename: str | None = None) -> Parsed:
    """``text`` parsed; errors name ``filename`` (the client's name for the document)."""
    return Parsed(_load({"inventory.yaml": text}, "inventory.yaml", shown=filename), [])


def parse_nornir(hosts: str, groups: str | None, defaults: str | None) -> Parsed:
    files = {"hosts.yaml": hosts}
    if groups:
        files["groups.yaml"] = groups
    if defaults:
        files["defaults.yaml"] = defaults
    return Parsed(_load(files, "."), [])


def _load(files: dict[str, str], target: str, *, shown: str | None = None) -> list[DeviceSpec]:
    with tempfile.TemporaryDirectory(prefix="netfleet-import-") as folder:
        for name, text in files.items():
            (Path(folder) / name).write_text(text, encoding="utf-8")
        try:
            return load_inventory(Path(folder) / target).devices
        except InventoryError as exc:
            message = exc.message.replace(folder + "/", "").replace(folder, "inventory")
            if shown and message.startswith(target):
                message = shown + message[len(target) :]
            raise InventoryError(message) from None
        except yaml.YAMLError as exc:  # e.g. unprintable characters, refused by the reader
            raise InventoryError(f"invalid YAML: {exc}") from None


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    parts = [p.strip() for p in value.replace(";", ",").replace("|", ",").split(",")]
    return tuple(dict.fromkeys(p for p in parts if p))


def _int(row: dict[str, str], key: str, default: int, lo: int, hi: int) -> int:
    raw = (row.get(key) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{key}: {raw!r} is not a number") from None
    if not lo <= value <= hi:
        raise ValidationError(f"{key}: {value} is not in {lo}..{hi}")
    return value


def _csv_device(row: dict[str, str]) -> DeviceSpec:
    name = (row.get("name") or "").strip()
    host = (row.get("host") or "").strip()
    platform = (row.get("platform") or "").strip()
    if not name or not host or not platform:
        raise ValidationError("name, host and platform are required")
    check_device_name(name)
    creds = [Credential(username="", name=c) for c in _split(row.get("credentials"))]
    username = (row.get("username") or "").strip()
    if username:
        creds.insert(
            0,
            Credential(
                username=username,
                password=row.get("password") or None,
                enable_secret=row.get("enable_secret") or None,
            ),
        )
    policy = (row.get("host_key_policy") or "accept-new").strip()
    if policy not in _HOST_KEY_POLICIES:
        raise ValidationError(f"host_key_policy: expected one of {', '.join(_HOST_KEY_POLICIES)}")
    return DeviceSpec(
        name=name,
        host=host,
        platform=normalize_platform(platform),
        port=_int(row, "port", 22, 1, 65535),
        credentials=tuple(creds),
        max_sessions=_int(row, "max_sessions", 2, 1, 10_000),
        groups=_split(row.get("groups")),
        tags=_split(row.get("tags")),
        host_key_policy=policy,  # type: ignore[arg-type]
        data=_csv_data(row),
    )


def _data_column(header: str) -> bool:
    """``data.KEY`` (or ``data.a.b``): a template variable of the device."""
    parts = header.split(".")
    return len(parts) > 1 and parts[0] == "data" and all(p.strip() for p in parts[1:])


def _csv_data(row: dict[str, str]) -> dict[str, Any]:
    """The ``data.*`` columns of a row as the device's data (dots nest; empty: absent)."""
    data: dict[str, Any] = {}
    for key, value in row.items():
        if not _data_column(key) or not (value or "").strip():
            continue
        *path, leaf = key.split(".")[1:]
        node = data
        for part in path:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value.strip()
    return data


def parse_csv(text: str) -> Parsed:
    """A header row, then one device per row (see ``CSV_FIELDS``; ``data.KEY`` columns
    become the device's data, the template variables)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InventoryError("csv: the document is empty (expected a header row)")
    unknown = [h for h in header if h not in CSV_FIELDS and not _data_column(h)]
    if unknown:
        raise InventoryError(
            f"csv: unknown column(s) {', '.join(unknown)} (known: {', '.join(CSV_FIELDS)})"
        )
    missing = [h for h in ("name", "host", "platform") if h not in header]
    if missing:
        raise InventoryError(f"csv: missing column(s) {', '.join(missing)}")
    reader.fieldnames = header
    specs: list[DeviceSpec] = []
    errors: list[ImportRow] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        if None in row:
            errors.append(ImportRow(name=f"line {line}", action="error", error="too many fields"))
            continue
        clean = {k: (v or "") for k, v in row.items()}
        if not any(v.strip() for v in clean.values()):
            continue
        label = clean.get("name", "").strip() or f"line {line}"
        try:
            spec = _csv_device(clean)
        except ValidationError as exc:
            errors.append(ImportRow(name=label, action="error", error=f"line {line}: {exc}"))
            continue
        if spec.name in seen:
            errors.append(
                ImportRow(name=label, action="error", error=f"line {line}: duplicate name")
            )
            continue
        seen.add(spec.name)
        specs.append(spec)
    return Parsed(specs, errors)
