"""From a rule as written (API body or ``[[notifications.rules]]``) to what is stored.

``rule_parts(spec)`` checks the rule (known events, what its kind needs) and splits
it into the ``match`` (events and filters, see ``notify.Rule``), the ``target``
(where, without secrets) and the ``secret``: the webhook's HMAC key, the Slack
webhook URL (its path is the credential) or the SMTP password. ``shown_url`` is a
URL safe to display (no query, no user info; for Slack, no path either).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError as PydanticValidationError

from netfleet.core.errors import ValidationError
from netfleet.core.settings_integrations import NotificationRuleSettings
from netfleet.integrations.notify import Rule

_FILTERS = ("task_error_kinds", "devices", "groups", "schedules", "job_names")


@dataclass(frozen=True, slots=True)
class RuleParts:
    kind: str
    match: dict[str, Any]
    target: dict[str, Any]
    secret: str | None = field(repr=False)


def _check_url(name: str, url: str | None) -> str:
    if not url:
        raise ValidationError(f"notification rule {name!r}: url is required")
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 literal
        ok = False
    if not ok:
        raise ValidationError(f"notification rule {name!r}: url must be http(s)://host/...")
    return url


def shown_url(url: str, *, path: bool = True) -> str:
    """``scheme://host[:port]/path`` of ``url`` (no credentials, no query); without
    ``path``, ``/…`` in its place (a Slack webhook's path is its credential)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(invalid URL)"
    return f"{parts.scheme}://{host}{port}{parts.path if path else '/…'}"


def match_rule(name: str, match: dict[str, Any]) -> Rule:
    """The stored ``match`` as a ``Rule``; ``ValidationError`` naming the problem."""
    try:
        return Rule(name=name, **match)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rule'}: {e['msg']}" for e in exc.errors()
        )
        raise ValidationError(f"notification rule {name!r}: {problems}") from None


def rule_parts(spec: NotificationRuleSettings) -> RuleParts:
    """Check ``spec`` and split it (see the module docstring)."""
    match: dict[str, Any] = {"events": list(spec.events)}
    match.update({f: list(getattr(spec, f)) for f in _FILTERS if getattr(spec, f)})
    match_rule(spec.name, match)
    if spec.kind == "webhook":
        url = _check_url(spec.name, spec.url)
        if not spec.secret:
            raise ValidationError(
                f"notification rule {spec.name!r}: a webhook needs a secret (the HMAC key)"
            )
        return RuleParts("webhook", match, {"url": url}, spec.secret)
    if spec.kind == "slack":
        url = _check_url(spec.name, spec.url or spec.secret)
        return RuleParts("slack", match, {"url": shown_url(url, path=False)}, url)
    if spec.smtp is None:
        raise ValidationError(f"notification rule {spec.name!r}: an email rule needs smtp")
    if spec.smtp.username and not spec.secret:
        raise ValidationError(
            f"notification rule {spec.name!r}: smtp.username is set but no secret (password)"
        )
    target = spec.smtp.model_dump()
    return RuleParts("email", match, target, spec.secret)
