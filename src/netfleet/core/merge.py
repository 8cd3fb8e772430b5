"""Merging variable layers: mappings merge key by key, recursively; any other value
(lists included) replaces the one before it. Inputs are never modified.

>>> merge_vars({"ntp": {"servers": ["a"], "source": "lo0"}}, {"ntp": {"servers": ["b"]}})
{'ntp': {'servers': ['b'], 'source': 'lo0'}}
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


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
