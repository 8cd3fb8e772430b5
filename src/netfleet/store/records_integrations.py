"""Records of the integrations' tables (``schema_integrations``): what
``store.notifications`` and ``store.sources`` take and return.

Secrets are write-only: records carry ``has_secret`` flags; only the delivery
queue's claim (``ClaimedDelivery``) and the source sync (``SourceRecord.token``,
read with ``with_token=True``) see the decrypted value, never the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

RuleKind = Literal["webhook", "slack", "email"]
RuleOrigin = Literal["api", "settings"]
DeliveryState = Literal["pending", "delivered", "failed"]
AttemptOutcome = Literal["delivered", "retryable", "permanent"]


@dataclass(frozen=True, slots=True)
class NewRule:
    """A rule to store. ``match`` and ``target`` are JSON (validated by the caller);
    ``secret`` is the webhook key or SMTP password (or a secret reference), or None."""

    name: str
    kind: RuleKind
    match: dict[str, Any]
    target: dict[str, Any]
    secret: str | None = field(default=None, repr=False)
    enabled: bool = True
    origin: RuleOrigin = "api"


@dataclass(frozen=True, slots=True)
class RuleRecord:
    """A stored rule, without its secret."""

    id: int
    name: str
    kind: RuleKind
    match: dict[str, Any]
    target: dict[str, Any]
    has_secret: bool
    enabled: bool
    origin: RuleOrigin
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """An event waiting to be fanned out to the rules."""

    id: int
    at: float
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One (rule, event) pair the fan-out decided to deliver."""

    rule_id: int
    event_id: int
    event_type: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery leased to one sender, with what it needs to send."""

    id: int
    rule_id: int
    rule_name: str
    kind: RuleKind
    target: dict[str, Any]
    secret: str | None = field(repr=False)
    delivery_key: str
    event_type: str
    payload: dict[str, Any]
    attempt: int
    """This attempt's number (1 for the first)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt at a claimed delivery did, to record."""

    outcome: AttemptOutcome
    status: int | None
    reason: str
    duration_ms: float
    retry_in_s: float | None
    """Try again after this long; None: done (delivered, or failed for good)."""


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    rule_id: int
    delivery_key: str
    event_type: str
    state: DeliveryState
    attempts: int
    next_at: float
    last_error: str | None
    created_at: float
    finished_at: float | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One line of a rule's delivery log."""

    id: int
    delivery_id: int
    delivery_key: str
    event_type: str
    at: float
    attempt: int
    outcome: AttemptOutcome
    status: int | None
    reason: str
    duration_ms: float


@dataclass(frozen=True, slots=True)
class NewSource:
    """A NetBox/Nautobot source to store; ``config`` is ``SourceConfig`` JSON without
    the token, ``token`` the API token or a secret reference (stored encrypted)."""

    name: str
    kind: str
    config: dict[str, Any]
    token: str = field(repr=False)
    interval_s: float | None = None


@dataclass(frozen=True, slots=True)
class SourceRecord:
    id: int
    name: str
    kind: str
    config: dict[str, Any]
    interval_s: float | None
    next_sync_at: float | None
    last_sync_at: float | None
    created_at: float
    updated_at: float
    token: str | None = field(default=None, repr=False)
    """Only with ``with_token=True`` (the sync itself)."""


@dataclass(frozen=True, slots=True)
class SourceDevice:
    """A device a source brought in, with its stored spec (secrets blanked)."""

    name: str
    disabled: bool
    record: Any
    """The ``DeviceRecord``."""


@dataclass(frozen=True, slots=True)
class SyncReportRecord:
    id: int
    source: str
    started_at: float
    finished_at: float
    ok: bool
    summary: str
    error: str | None
    requests: int
    report: dict[str, Any]
