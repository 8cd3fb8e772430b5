"""Plan an inventory sync: compare netfleet's devices of one source with upstream.

Plain data in, plain data out (no store): ``plan_sync(current, upstream, skipped)``
returns a ``SyncReport`` of devices to add, to update (with the fields that
changed), to disable (gone upstream or filtered out: disabled, not deleted, so
their history stays) and skipped (each with its reason). Credentials are not
compared (upstream has none; netfleet keeps its own). A device skipped upstream
that netfleet already has is left as it is and reported as skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from netfleet.core.models import DeviceSpec
from netfleet.integrations.netbox import Skipped

Action = Literal["add", "update", "disable", "skip"]
_COMPARED = ("host", "port", "platform", "groups", "tags", "data")


@dataclass(frozen=True, slots=True)
class CurrentDevice:
    """A device netfleet has from this source, and whether it is disabled."""

    spec: DeviceSpec
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class SyncChange:
    """One line of the report."""

    name: str
    action: Action
    reason: str
    fields: tuple[str, ...] = ()
    """The fields that differ (updates)."""
    spec: DeviceSpec | None = None
    """The device to write (add/update)."""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action, "reason": self.reason,
                "fields": list(self.fields)}  # fmt: skip


@dataclass(slots=True)
class SyncReport:
    added: list[SyncChange] = field(default_factory=list)
    updated: list[SyncChange] = field(default_factory=list)
    removed: list[SyncChange] = field(default_factory=list)
    skipped: list[SyncChange] = field(default_factory=list)
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": [c.to_dict() for c in self.added],
            "updated": [c.to_dict() for c in self.updated],
            "removed": [c.to_dict() for c in self.removed],
            "skipped": [c.to_dict() for c in self.skipped],
            "unchanged": self.unchanged,
        }

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} "
            f"disabled, {len(self.skipped)} skipped, {self.unchanged} unchanged"
        )


def _differences(old: DeviceSpec, new: DeviceSpec) -> tuple[str, ...]:
    return tuple(f for f in _COMPARED if getattr(old, f) != getattr(new, f))


def plan_sync(
    current: Iterable[CurrentDevice],
    upstream: Iterable[DeviceSpec],
    skipped: Iterable[Skipped] = (),
    *,
    source: str = "upstream",
) -> SyncReport:
    """What a sync of ``source`` changes (see the module docstring)."""
    have = {c.spec.name: c for c in current}
    report = SyncReport()
    seen: set[str] = set()
    for spec in upstream:
        seen.add(spec.name)
        old = have.get(spec.name)
        if old is None:
            report.added.append(SyncChange(spec.name, "add", f"new in {source}", spec=spec))
            continue
        # Keep what netfleet owns: credentials, session limits, policies.
        merged = DeviceSpec(
            name=spec.name,
            host=spec.host,
            platform=spec.platform,
            port=old.spec.port if spec.port == 22 else spec.port,
            credentials=old.spec.credentials,
            max_sessions=old.spec.max_sessions,
            groups=spec.groups,
            tags=spec.tags,
            jump_host=old.spec.jump_host,
            host_key_policy=old.spec.host_key_policy,
            legacy_algorithms=old.spec.legacy_algorithms,
            data=spec.data,
        )
        fields = _differences(old.spec, merged)
        if old.disabled:
            reason = f"back in {source}: enabled again"
            report.updated.append(SyncChange(spec.name, "update", reason, fields, merged))
        elif fields:
            reason = f"changed in {source}: {', '.join(fields)}"
            report.updated.append(SyncChange(spec.name, "update", reason, fields, merged))
        else:
            report.unchanged += 1
    for skip in skipped:
        seen.add(skip.name)
        kept = " (kept as it is)" if skip.name in have else ""
        report.skipped.append(SyncChange(skip.name, "skip", skip.reason + kept))
    for name, old in have.items():
        if name not in seen and not old.disabled:
            reason = f"no longer in {source} (or filtered out): disabled, not deleted"
            report.removed.append(SyncChange(name, "disable", reason, spec=old.spec))
    return report
