"""Prompts pinned to a hostname: a cache of pinned platforms, and the host part after a rename."""

from __future__ import annotations

from netfleet.platforms import CompiledPlatform

_PINNED: dict[tuple[int, str], CompiledPlatform] = {}
_PINNED_MAX = 8192


def pin(platform: CompiledPlatform, host: str) -> CompiledPlatform:
    """``platform.pinned(host)``, cached for many more hostnames than the registry keeps."""
    key = (id(platform), host)
    hit = _PINNED.get(key)
    if hit is None or hit.spec is not platform.spec:
        if len(_PINNED) >= _PINNED_MAX:
            _PINNED.pop(next(iter(_PINNED)))
        hit = _PINNED[key] = platform.pinned(host)
    return hit


def renamed(learned: str, name: str) -> str:
    """The prompt's host part after a rename to ``name``: an IOS-XR node prefix
    (``RP/0/RP0/CPU0:``), a Junos user (``admin@``) and an ASA context (``/ctx1``) stay
    as they were."""
    node, colon, rest = learned.rpartition(":")
    user, at, rest = rest.rpartition("@")
    _, slash, context = rest.partition("/")
    return f"{node}{colon}{user}{at}{name}{slash}{context}"
