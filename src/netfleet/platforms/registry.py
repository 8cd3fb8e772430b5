"""The platform registry: built-in platforms, user platform files, compiled regexes.

Built-ins and the files named in ``NETFLEET_PLATFORM_FILES`` (``os.pathsep``-separated)
are loaded lazily on first access. Every registered spec is validated and compiled once.
"""

from __future__ import annotations

import difflib
import importlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

from netfleet.core.errors import PlatformFileError, UnknownPlatform
from netfleet.platforms.compiled import CompiledPlatform, SpecError, compile_spec
from netfleet.platforms.platform_file import read_platform_file
from netfleet.platforms.spec import PlatformSpec

ENV_VAR = "NETFLEET_PLATFORM_FILES"

BUILTIN_MODULES = (
    "cisco_ios",
    "cisco_xe",
    "cisco_nxos",
    "cisco_xr",
    "cisco_asa",
    "arista_eos",
    "juniper_junos",
    "linux",
)

ALIASES: dict[str, str] = {
    # Ansible ``ansible_network_os`` names (collections, then the older short names).
    "cisco.ios.ios": "cisco_ios",
    "cisco.iosxr.iosxr": "cisco_xr",
    "cisco.nxos.nxos": "cisco_nxos",
    "cisco.asa.asa": "cisco_asa",
    "arista.eos.eos": "arista_eos",
    "junipernetworks.junos.junos": "juniper_junos",
    "ios": "cisco_ios",
    "iosxr": "cisco_xr",
    "nxos": "cisco_nxos",
    "asa": "cisco_asa",
    "eos": "arista_eos",
    "junos": "juniper_junos",
}
"""Other tools' platform names accepted for netfleet's (a registered name wins)."""

_lock = threading.RLock()
_specs: dict[str, PlatformSpec] = {}
_compiled: dict[int, CompiledPlatform] = {}
"""Registered specs, keyed by ``id(spec)``; the entry holds the spec, so the id stays unique."""
_adhoc: OrderedDict[int, CompiledPlatform] = OrderedDict()
"""Unregistered specs passed to ``compiled``; bounded, oldest dropped first."""
_MAX_ADHOC = 256
_user_order: list[str] = []
_builtins_loaded = False
_env_loaded = False


def get_platform(name: str) -> PlatformSpec:
    """The spec registered under ``name``; raises ``UnknownPlatform`` listing known ones."""
    spec = find_platform(name)
    if spec is None:
        names = known_platforms()
        close = difflib.get_close_matches(name.lower(), [*names, *ALIASES], n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        known = ", ".join(names)
        raise UnknownPlatform(f"unknown platform {name!r}{hint}; known platforms: {known}")
    return spec


def find_platform(name: str) -> PlatformSpec | None:
    """The spec registered under ``name`` (or an alias in ``ALIASES``), or None."""
    registry = _registry()
    spec = registry.get(name)
    if spec is None and name in ALIASES:
        spec = registry.get(ALIASES[name])
    return spec


def known_platforms() -> list[str]:
    """Names of every registered platform, sorted."""
    return sorted(_registry())


def register_platform(spec: PlatformSpec) -> CompiledPlatform:
    """Validate, compile and register ``spec`` (replacing one of the same name).

    Raises ``PlatformFileError`` naming the platform and the invalid field.
    """
    _registry()
    return _register(spec, source=f"platform {spec.name!r}", user=True)


def compiled(spec: PlatformSpec | str) -> CompiledPlatform:
    """The compiled regexes of ``spec`` (or of the platform named so), computed once."""
    if isinstance(spec, str):
        spec = get_platform(spec)
    entry = _compiled.get(id(spec)) or _adhoc.get(id(spec))
    if entry is not None and entry.spec is spec:
        return entry
    return _register(spec, source=f"platform {spec.name!r}", user=False, store=False)


def load_platform_file(path: str | os.PathLike[str]) -> list[PlatformSpec]:
    """Register every platform in the YAML file at ``path``; returns them.

    Raises ``PlatformFileError`` naming the file and the field. Nothing is registered
    unless the whole file is valid.
    """
    _registry()
    return _load_file(Path(path))


def detect_platform(version_output: str = "", banner: str = "") -> str | None:
    """The platform whose version patterns (else banner patterns) match, or None.

    User platforms are tried first (latest registered first), then built-ins.
    """
    order = _detection_order()
    for text, kind in ((version_output, "version"), (banner, "banner")):
        if not text:
            continue
        for spec in order:
            patterns = getattr(compiled(spec), kind)
            if any(p.search(text) for p in patterns):
                return spec.name
    return None


def reset_registry() -> None:
    """Forget user platforms and reload built-ins and env files on next access (tests)."""
    global _builtins_loaded, _env_loaded
    with _lock:
        _specs.clear()
        _compiled.clear()
        _adhoc.clear()
        _user_order.clear()
        _builtins_loaded = False
        _env_loaded = False


# --- internals ---------------------------------------------------------------------


def _registry() -> dict[str, PlatformSpec]:
    if _builtins_loaded and _env_loaded:
        return _specs
    with _lock:
        _load_builtins()
        _load_env_files()
    return _specs


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for module_name in BUILTIN_MODULES:
        module = importlib.import_module(f"netfleet.platforms.{module_name}")
        spec = module.SPEC
        assert isinstance(spec, PlatformSpec)
        _register(spec, source=f"built-in platform {module_name!r}", user=False)
    _builtins_loaded = True


def _load_env_files() -> None:
    global _env_loaded
    if _env_loaded:
        return
    raw = os.environ.get(ENV_VAR, "")
    for part in raw.split(os.pathsep):
        if not part.strip():
            continue
        try:
            _load_file(Path(part.strip()))
        except PlatformFileError as exc:
            raise PlatformFileError(f"{ENV_VAR}: {exc.message}") from None
    _env_loaded = True


def _load_file(path: Path) -> list[PlatformSpec]:
    with _lock:
        specs = read_platform_file(path, _specs.get)
        checked = []
        for spec in specs:
            try:
                checked.append((spec, compile_spec(spec)))
            except SpecError as exc:
                raise PlatformFileError(
                    f"{path}: platform {spec.name!r}: field {exc.field}: {exc.problem}"
                ) from None
        for spec, result in checked:
            _store(spec, result, user=True)
        return specs


def _register(
    spec: PlatformSpec, *, source: str, user: bool, store: bool = True
) -> CompiledPlatform:
    try:
        result = compile_spec(spec)
    except SpecError as exc:
        raise PlatformFileError(f"{source}: field {exc.field}: {exc.problem}") from None
    with _lock:
        if store:
            _store(spec, result, user=user)
        else:
            _adhoc[id(spec)] = result
            while len(_adhoc) > _MAX_ADHOC:
                _adhoc.popitem(last=False)
    return result


def _store(spec: PlatformSpec, result: CompiledPlatform, *, user: bool) -> None:
    old = _specs.get(spec.name)
    if old is not None:
        _compiled.pop(id(old), None)
    _specs[spec.name] = spec
    _compiled[id(spec)] = result
    if spec.name in _user_order:
        _user_order.remove(spec.name)
    if user:
        _user_order.append(spec.name)


def _detection_order() -> list[PlatformSpec]:
    specs = _registry()
    with _lock:
        users = [specs[n] for n in reversed(_user_order) if n in specs]
        builtins = [specs[n] for n in BUILTIN_MODULES if n in specs and n not in _user_order]
    return users + builtins
