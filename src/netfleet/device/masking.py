"""The redactor a session masks device text with: platform rules plus known secret values."""

from __future__ import annotations

from netfleet.core.models import DeviceSpec
from netfleet.core.redact import Redactor
from netfleet.platforms.secrets import redactor_for


def maskable(spec: DeviceSpec, values: list[str | None]) -> list[str]:
    """The secret values to mask by value: a password equal to a login name is not
    secret (the device prints its users' names: prompts, ``whoami``, ``show users``)."""
    names = {c.username for c in spec.credentials}
    return [v for v in values if v and v not in names]


def session_redactor(platform: str, spec: DeviceSpec, *extra: str | None) -> Redactor:
    """A redactor for ``spec``'s device: its credentials' secrets and ``extra`` values
    (the enable secret, secrets resolved from references at login)."""
    known = [v for c in spec.credentials for v in c.secrets()]
    return redactor_for(platform, maskable(spec, [*known, *extra]))
