"""Platform files shipped with netfleet for emulators and devices with quirks.

Load one with ``netfleet.platforms.load_platform_file(contrib.path("fakenos"))`` or by
naming the file in ``NETFLEET_PLATFORM_FILES``. See ``docs/platforms.md``.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def available() -> list[str]:
    """Names of the shipped platform files (without ``.yaml``)."""
    return sorted(p.stem for p in HERE.glob("*.yaml"))


def path(name: str) -> Path:
    """The shipped platform file ``name`` (``fakenos``, ``fake_switches``)."""
    candidate = HERE / f"{name}.yaml"
    if not candidate.is_file():
        from netfleet.core.errors import PlatformFileError

        raise PlatformFileError(
            f"no shipped platform file {name!r}; available: {', '.join(available())}"
        )
    return candidate
