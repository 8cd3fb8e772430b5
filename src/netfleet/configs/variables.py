"""Template variables of a device: defaults < group vars (in group order) < device vars.

Mappings merge key by key, recursively; any other value (lists included) replaces the
one before it. Inputs are never modified.

>>> merge_vars({"ntp": {"servers": ["a"], "source": "lo0"}}, {"ntp": {"servers": ["b"]}})
{'ntp': {'servers': ['b'], 'source': 'lo0'}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netfleet.core.merge import merge_vars
from netfleet.core.models import DeviceSpec

__all__ = ["device_vars", "merge_vars"]


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
