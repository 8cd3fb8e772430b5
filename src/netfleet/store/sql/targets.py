"""Target resolution: the devices a job runs on (by name, group and filter).

Every function runs inside a transaction the caller opened on ``conn``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from netfleet.core.errors import InventoryError, UnknownPlatform, ValidationError
from netfleet.core.inventory import parse_filter
from netfleet.core.inventory_yaml import normalize_platform
from netfleet.core.models import DeviceSpec
from netfleet.jobs.model import MAX_DEVICES_PER_JOB, JobSpec
from netfleet.store.schema import devices
from netfleet.store.sql import sources
from netfleet.store.sql.devices import check_platform, ids_by_name, label_filter


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:10])
    return shown + (f" (+{len(names) - 10} more)" if len(names) > 10 else "")


def resolve_targets(conn: Connection, spec: JobSpec) -> list[tuple[int, str]]:
    """(device id, name) for every targeted device, in name order; ``ValidationError``
    naming unknown devices or groups, a bad filter, or an empty or oversized result."""
    t = spec.targets
    chosen: dict[int, str] = {}
    if t.devices:
        found = ids_by_name(conn, t.devices)
        missing = [n for n in t.devices if n not in found]
        if missing:
            raise ValidationError(f"targets.devices: unknown device(s) {_listing(missing)}")
        chosen.update({i: n for n, i in found.items()})
    if t.groups:
        rows = conn.execute(
            sa.select(devices.c.id, devices.c.name, devices.c.groups).where(
                label_filter("group", t.groups)
            )
        )
        seen: set[str] = set()
        for r in rows:
            chosen[r.id] = r.name
            seen.update(r.groups)
        missing = [g for g in t.groups if g not in seen]
        if missing:
            raise ValidationError(f"targets.groups: unknown group(s) {_listing(missing)}")
    if t.filter:
        terms = _filter_terms(t.filter)
        # Labels are JSON columns: decode them only when a term looks at them.
        labels = any(term.key in ("group", "tag") for term in terms)
        columns = [devices.c.id, devices.c.name, devices.c.host, devices.c.platform]
        if labels:
            columns += [devices.c.groups, devices.c.tags]
        query = sa.select(*columns)
        pool: list[Any] = []
        if t.devices or t.groups:
            for chunk in _chunks(list(chosen), 900):
                pool += conn.execute(query.where(devices.c.id.in_(chunk))).all()
        else:
            pool = list(conn.execute(query))
        chosen = {}
        for entry in pool:
            candidate = DeviceSpec(
                name=entry.name,
                host=entry.host,
                platform=entry.platform,
                groups=tuple(entry.groups) if labels else (),
                tags=tuple(entry.tags) if labels else (),
            )
            if all(term.matches(candidate) for term in terms):
                chosen[entry.id] = entry.name
    chosen = _enabled(conn, chosen, t.devices)
    if not chosen:
        if t.filter:
            _check_filter_platforms(_filter_terms(t.filter))
        raise ValidationError("targets: no device matches")
    if len(chosen) > MAX_DEVICES_PER_JOB:
        raise ValidationError(
            f"targets: {len(chosen)} devices match; a job may target at most {MAX_DEVICES_PER_JOB}"
        )
    return sorted(chosen.items(), key=lambda item: item[1])


def _enabled(conn: Connection, chosen: dict[int, str], named: Sequence[str]) -> dict[int, str]:
    """``chosen`` without devices disabled by an inventory sync; ``ValidationError`` if
    the job names one of them."""
    disabled = {int(i) for i in conn.execute(sources.disabled_devices()).scalars()}
    if not disabled or disabled.isdisjoint(chosen):
        return chosen
    wanted = set(named)
    off = [n for i, n in chosen.items() if i in disabled and n in wanted]
    if off:
        raise ValidationError(
            f"targets.devices: device(s) {_listing(sorted(off))} are disabled "
            "(gone from their inventory source)"
        )
    return {i: n for i, n in chosen.items() if i not in disabled}


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _filter_terms(text: str) -> list[Any]:
    """The inventory filter language (``netfleet.core.inventory``): ``platform=cisco_*
    group=core,edge tag!=lab name=edge-*``; all terms must match."""
    try:
        return parse_filter(text)
    except InventoryError as exc:
        raise ValidationError(f"targets.filter: {exc.message}") from None


_GLOB = frozenset("*?[")


def _check_filter_platforms(terms: Sequence[Any]) -> None:
    """``ValidationError`` naming a platform in ``platform=...`` that netfleet does not know
    (called when a filter matched nothing, so the user learns why)."""
    for term in terms:
        if term.key != "platform" or term.negate:
            continue
        for value in term.values:
            if _GLOB & set(value):
                continue
            try:
                check_platform(normalize_platform(value))
            except UnknownPlatform as exc:
                raise ValidationError(f"targets.filter: {exc.message}") from None


def target_specs(conn: Connection, spec: JobSpec) -> list[DeviceSpec]:
    """The targeted devices (identity, labels and ``data``; no credentials), by name: what
    a config template is rendered with."""
    ids = [device_id for device_id, _ in resolve_targets(conn, spec)]
    query = sa.select(
        devices.c.name,
        devices.c.host,
        devices.c.platform,
        devices.c.groups,
        devices.c.tags,
        devices.c.options,
    )
    rows: list[Any] = []
    for chunk in _chunks(ids, 900):
        rows += conn.execute(query.where(devices.c.id.in_(chunk))).all()
    out = [
        DeviceSpec(
            name=r.name,
            host=r.host,
            platform=r.platform,
            groups=tuple(r.groups),
            tags=tuple(r.tags),
            data=dict(r.options or {}),
        )
        for r in rows
    ]
    return sorted(out, key=lambda d: d.name)


def check_change(conn: Connection, spec: JobSpec) -> None:
    """For template or rollback jobs: ``ValidationError`` unless the template renders for
    every target and every target's platform can roll back (nothing is stored then)."""
    from netfleet.jobs.changes import check_rollback
    from netfleet.jobs.render import render_targets

    if spec.template is None and spec.rollback is None:
        return
    targets = target_specs(conn, spec)
    if spec.rollback is not None and spec.rollback.enabled:
        check_rollback((d.name, d.platform) for d in targets)
    if spec.template is not None:
        render_targets(spec, targets)
