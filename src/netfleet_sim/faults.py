"""Per-device fault injection and run-time overrides of timing settings.

A device's :class:`Faults` are changed with :func:`apply_fault_changes`, which
validates a mapping of changes (from the Python API, the ``--fault`` flag or
the control interface) and raises :class:`FaultError` naming the bad field.

Fields:

- ``hang_on``: a regular expression; a command matching it (``re.search``)
  never answers, and the session ignores all further input.
- ``drop_mid_output``: ``True`` drops the TCP connection after half of a
  command's output; an integer ``N`` drops it after ``N`` characters of any
  output longer than ``N``.
- ``refuse_auth``: every authentication attempt fails.
- ``refuse_sessions``: new TCP connections are accepted and closed at once,
  before the SSH version exchange.
- ``deny``: a regular expression; a command matching it is refused as a TACACS+
  server refuses it (``Command authorization failed.``) and not run.
- ``line_delay_ms``: output is sent one line at a time, this long apart (a slow
  device; a line that looks like the prompt is then followed by a pause).
- ``prompt_motd``: a prompt-like line (``core-sw1#``) that ends the MOTD, sent in
  a write of its own a moment before the real prompt.
- ``cr_pager``: the pager erases its prompt with carriage return, blanks and
  carriage return (NX-OS, ASA, Junos) instead of backspaces.
- ``login_level``: ``user`` or ``privileged``: the level a login lands at on
  IOS-like platforms (default: the platform's own; user EXEC on IOS, XE, ASA, EOS).
- ``config_host_len``: IOS-like configuration prompts show at most this many
  hostname characters (0, the default: the full hostname).
- ``failover``: IOS-like prompts carry this failover unit/state, as an ASA pair
  does (``failover=pri/act`` -> ``fw/pri/act#``).
- ``volatile_config``: IOS-like ``show running-config`` carries lines that change on
  every call although nothing was configured, as real devices print them: the time of
  the last change and of the last save, an ``ntp clock-period`` drift value, and so the
  ``Current configuration`` size.
- ``truncate_config``: IOS-like ``show running-config`` stops after this many lines,
  then the prompt (a device that cut its output short; 0, the default: whole).
- ``latency_ms``, ``jitter_ms``, ``login_delay_ms``, ``bytes_per_second``,
  ``max_sessions``, ``exec_timeout_s``: override the simulator-wide settings for
  this device (``None`` = default; they apply to new reads, logins and sessions).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from netfleet_sim.errors import SimulatorError


class FaultError(SimulatorError):
    """A fault setting is unknown or has an invalid value."""


@dataclass(frozen=True, slots=True)
class Faults:
    """The faults and timing overrides of one device (immutable; replace to change)."""

    hang_on: re.Pattern[str] | None = None
    drop_mid_output: bool | int = False
    refuse_auth: bool = False
    refuse_sessions: bool = False
    latency_ms: float | None = None
    jitter_ms: float | None = None
    login_delay_ms: float | None = None
    bytes_per_second: int | None = None
    max_sessions: int | None = None
    exec_timeout_s: float | None = None
    deny: re.Pattern[str] | None = None
    line_delay_ms: float | None = None
    prompt_motd: str | None = None
    cr_pager: bool = False
    login_level: str | None = None
    config_host_len: int | None = None
    failover: str | None = None
    volatile_config: bool = False
    truncate_config: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable view (``hang_on`` as its pattern text)."""
        return {
            "hang_on": self.hang_on.pattern if self.hang_on else None,
            "drop_mid_output": self.drop_mid_output,
            "refuse_auth": self.refuse_auth,
            "refuse_sessions": self.refuse_sessions,
            "latency_ms": self.latency_ms,
            "jitter_ms": self.jitter_ms,
            "login_delay_ms": self.login_delay_ms,
            "bytes_per_second": self.bytes_per_second,
            "max_sessions": self.max_sessions,
            "exec_timeout_s": self.exec_timeout_s,
            "deny": self.deny.pattern if self.deny else None,
            "line_delay_ms": self.line_delay_ms,
            "prompt_motd": self.prompt_motd,
            "cr_pager": self.cr_pager,
            "login_level": self.login_level,
            "config_host_len": self.config_host_len,
            "failover": self.failover,
            "volatile_config": self.volatile_config,
            "truncate_config": self.truncate_config,
        }

    def drop_point(self, output_len: int) -> int | None:
        """After how many characters of an output this long the connection drops, if at all."""
        drop = self.drop_mid_output
        if drop is False or output_len == 0:
            return None
        if drop is True:
            return output_len // 2
        return drop if output_len > drop else None


FAULT_FIELDS = frozenset(Faults.__dataclass_fields__)


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on", "false", "no", "0"):
        return value.lower() in ("true", "yes", "1", "on")
    raise FaultError(f"fault {name!r} must be true or false, got {value!r}")


def _number(name: str, value: Any, *, integer: bool = False) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = int(value) if integer else float(value)
        except ValueError:
            raise FaultError(f"fault {name!r} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"fault {name!r} must be a number, got {value!r}")
    if value < 0:
        raise FaultError(f"fault {name!r} must not be negative, got {value!r}")
    if integer:
        if int(value) != value:
            raise FaultError(f"fault {name!r} must be a whole number, got {value!r}")
        return int(value)
    return float(value)


def _drop(value: Any) -> bool | int:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and not value.isdigit():
        return _bool("drop_mid_output", value)
    number = _number("drop_mid_output", value, integer=True)
    return False if number is None else int(number)


def _pattern(value: Any, name: str = "hang_on") -> re.Pattern[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        raise FaultError(f"fault {name!r} must be a regular expression string, got {value!r}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise FaultError(f"fault {name!r} is not a valid regular expression: {exc}") from None


_LOGIN_LEVELS = ("user", "privileged")
_TEXT_RE = re.compile(r"[\w.\-/:@#>()$ ]{1,80}\Z")


def _text(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _TEXT_RE.match(value):
        raise FaultError(f"fault {name!r} must be a short line of text, got {value!r}")
    return value


def apply_fault_changes(faults: Faults, changes: Mapping[str, Any]) -> Faults:
    """Return ``faults`` with ``changes`` applied; FaultError on unknown keys or bad values."""
    unknown = sorted(set(changes) - FAULT_FIELDS)
    if unknown:
        known = ", ".join(sorted(FAULT_FIELDS))
        raise FaultError(f"unknown fault {unknown[0]!r} (known: {known})")
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in ("hang_on", "deny"):
            values[name] = _pattern(value, name)
        elif name in ("prompt_motd", "failover"):
            values[name] = _text(name, value)
        elif name == "login_level":
            if value not in (None, "", *_LOGIN_LEVELS):
                raise FaultError(f"fault 'login_level' must be user or privileged, got {value!r}")
            values[name] = value or None
        elif name in ("config_host_len", "truncate_config"):
            number = _number(name, value, integer=True)
            values[name] = number or None
        elif name == "drop_mid_output":
            values[name] = _drop(value)
        elif name in ("refuse_auth", "refuse_sessions", "cr_pager", "volatile_config"):
            values[name] = _bool(name, value)
        elif name in ("bytes_per_second", "max_sessions"):
            number = _number(name, value, integer=True)
            if number == 0 and name == "max_sessions":
                raise FaultError("fault 'max_sessions' must be at least 1")
            values[name] = number or None
        elif name == "exec_timeout_s":
            timeout = _number(name, value)
            values[name] = timeout or None
        else:
            values[name] = _number(name, value)
    return replace(faults, **values)


_SPEC_SPLIT = re.compile(r",(?=\s*\w+\s*(?:=|,|$))")


def parse_fault_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Parse ``[DEVICE_GLOB:]key=value[,key=value...]`` (a bare ``key`` means ``key=true``).

    Returns the device glob (``*`` when omitted) and the changes, validated.
    """
    glob, sep, rest = spec.partition(":")
    if not sep or "=" in glob:
        glob, rest = "*", spec
    changes: dict[str, Any] = {}
    for item in _SPEC_SPLIT.split(rest):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        changes[key.strip()] = value if eq else "true"
    if not changes:
        raise FaultError(f"fault spec {spec!r} names no fault (expected [DEVICE:]key=value)")
    apply_fault_changes(Faults(), changes)
    return glob.strip() or "*", changes
