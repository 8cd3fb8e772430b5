"""Template variables of a device: defaults < group vars (in group order) < device vars.

Mappings merge key by key, recursively; any other value (lists included) replaces the
one before it. Inputs are never modified.

>>> merge_vars({"ntp": {"servers": ["a"], "source": "lo0"}}, {"ntp": {"servers": ["b"]}})
{'ntp': {'servers': ['b'], 'source': 'lo0'}}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from netfleet.core.models import DeviceSpec


def merge_vars(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge ``layers`` left to right (later ones win); ``None`` layers are skipped."""
    out: dict[str, Any] = {}
    for layer in layers:
        if layer:
            _merge_into(out, layer)
    return out


def _merge_into(target: dict[str, Any], layer: Mapping[str, Any]) -> None:
    for key, value in layer.items():
        old = target.get(key)
        if isinstance(value, Mapping) and isinstance(old, dict):
            _merge_into(old, value)
        elif isinstance(value, Mapping):
            fresh: dict[str, Any] = {}
            _merge_into(fresh, value)
            target[key] = fresh
        else:
            target[key] = copy.deepcopy(value)


def device_vars(
    device: DeviceSpec,
    *,
    defaults: Mapping[str, Any] | None = None,
    group_vars: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The merged variables of ``device``: ``defaults``, then the vars of each of its
    groups in the device's group order, then its own ``data``."""
    groups: Sequence[Mapping[str, Any] | None] = [
        (group_vars or {}).get(group) for group in device.groups
    ]
    return merge_vars(defaults, *groups, device.data)
