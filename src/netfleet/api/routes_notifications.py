"""``/api/v1/notifications``: rules that deliver events to webhooks, Slack and email.

A rule's secret (webhook HMAC key, Slack webhook URL, SMTP password; each may be a
secret reference) is write-only: responses say ``has_secret`` only, and a URL is
shown without query or user info (a Slack URL without its path, the credential).
``POST .../{name}/test`` sends one test event through the same delivery path the
workers use, and answers what happened; every attempt (tests included) is in the
rule's delivery log, ``GET .../{name}/deliveries``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from netfleet.api.auth import Admin, Operator, Viewer
from netfleet.api.context import context, store_of
from netfleet.api.problems import responses
from netfleet.core.errors import Conflict, StoreError
from netfleet.core.logging import register_secret
from netfleet.core.settings_integrations import NotificationRuleSettings
from netfleet.integrations.notify_rules import rule_parts, shown_url
from netfleet.store.records_integrations import AttemptRecord, NewRule, RuleRecord
from netfleet.worker.notify_loop import deliver

router = APIRouter(tags=["notifications"])
TEST_EVENT = "notification.test"


class RuleOut(BaseModel):
    """A rule without its secret."""

    name: str
    kind: str
    events: list[str]
    filters: dict[str, list[str]] = Field(description="devices, groups, schedules, ...")
    url: str | None = Field(
        None, description="webhook: without query or user info; slack: host only."
    )
    smtp: dict[str, Any] | None = None
    has_secret: bool
    enabled: bool
    origin: str = Field(description="api, or settings ([[notifications.rules]]).")
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, r: RuleRecord) -> RuleOut:
        filters = {k: list(v) for k, v in r.match.items() if k != "events"}
        url = r.target.get("url")
        return cls(
            name=r.name,
            kind=r.kind,
            events=list(r.match.get("events", [])),
            filters=filters,
            url=shown_url(url, path=r.kind != "slack") if isinstance(url, str) else None,
            smtp=dict(r.target) if r.kind == "email" else None,
            has_secret=r.has_secret,
            enabled=r.enabled,
            origin=r.origin,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )


class RuleList(BaseModel):
    items: list[RuleOut]


class AttemptOut(BaseModel):
    delivery_id: str = Field(description="The idempotency id, the same on every retry.")
    event_type: str
    at: float
    attempt: int
    outcome: str = Field(description="delivered, retryable or permanent.")
    status: int | None = Field(None, description="HTTP status or SMTP reply code.")
    reason: str
    duration_ms: float

    @classmethod
    def of(cls, a: AttemptRecord) -> AttemptOut:
        return cls(
            delivery_id=a.delivery_key,
            event_type=a.event_type,
            at=a.at,
            attempt=a.attempt,
            outcome=a.outcome,
            status=a.status,
            reason=a.reason,
            duration_ms=round(a.duration_ms, 3),
        )


class AttemptList(BaseModel):
    items: list[AttemptOut]


class TestResult(BaseModel):
    delivered: bool
    outcome: str
    status: int | None
    reason: str
    delivery_id: str


@router.post(
    "/notifications",
    response_model=RuleOut,
    status_code=201,
    summary="Create a notification rule (its secret is write-only)",
    responses=responses(409),
)
async def create_rule(
    request: Request, _: Admin, body: NotificationRuleSettings, replace: bool = False
) -> RuleOut:
    parts = rule_parts(body)
    register_secret(parts.secret)
    store = store_of(request)
    if replace:
        existing = {r.name: r for r in await store.notifications.list()}.get(body.name)
        if existing is not None and existing.origin == "settings":
            raise Conflict(f"rule {body.name!r} comes from the settings; change it there")
    rule = NewRule(
        name=body.name,
        kind=parts.kind,  # type: ignore[arg-type]
        match=parts.match,
        target=parts.target,
        secret=parts.secret,
        enabled=body.enabled,
    )
    record = await store.notifications.create(rule, replace=replace)
    request.state.audit = {"notification": body.name}
    return RuleOut.of(record)


@router.get("/notifications", response_model=RuleList, summary="List notification rules")
async def list_rules(request: Request, _: Viewer) -> RuleList:
    return RuleList(items=[RuleOut.of(r) for r in await store_of(request).notifications.list()])


@router.get(
    "/notifications/{name}",
    response_model=RuleOut,
    summary="Show a notification rule",
    responses=responses(404),
)
async def get_rule(request: Request, _: Viewer, name: str) -> RuleOut:
    return RuleOut.of(await store_of(request).notifications.get(name))


@router.delete(
    "/notifications/{name}",
    status_code=204,
    summary="Delete a notification rule with its queue and log",
    responses=responses(404, 409),
)
async def delete_rule(request: Request, _: Admin, name: str) -> Response:
    store = store_of(request)
    record = await store.notifications.get(name)
    if record.origin == "settings":
        raise Conflict(f"rule {name!r} comes from the settings; remove it there")
    await store.notifications.delete(name)
    request.state.audit = {"notification": name}
    return Response(status_code=204)


@router.post(
    "/notifications/{name}/test",
    response_model=TestResult,
    summary="Send a test event to a rule now, and say what happened",
    responses=responses(404),
)
async def test_rule(request: Request, principal: Operator, name: str) -> TestResult:
    ctx = context(request)
    store = ctx.store
    record = await store.notifications.get(name)
    payload = {
        "rule": name,
        "message": f"test delivery from netfleet, asked by {principal.name}",
    }
    delivery_id = await store.notifications.enqueue_direct(record.id, TEST_EVENT, payload)
    claimed = await store.notifications.claim(
        f"api-test-{delivery_id}",
        lease_s=ctx.settings.notifications.lease_seconds,
        limit=1,
        only=delivery_id,
    )
    if not claimed:  # pragma: no cover - a worker took it in between
        raise StoreError("the test delivery was taken by a worker; see the delivery log")
    settings = ctx.settings.notifications.model_copy(update={"max_attempts": 1})
    result = await deliver(store, claimed[0], settings, owner=f"api-test-{delivery_id}")
    return TestResult(
        delivered=result.delivered,
        outcome=result.outcome,
        status=result.status,
        reason=result.reason,
        delivery_id=claimed[0].delivery_key,
    )


@router.get(
    "/notifications/{name}/deliveries",
    response_model=AttemptList,
    summary="A rule's delivery log, newest first",
    responses=responses(404),
)
async def delivery_log(
    request: Request,
    _: Viewer,
    name: str,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> AttemptList:
    store = store_of(request)
    record = await store.notifications.get(name)
    log = await store.notifications.log(record.id, limit=limit)
    return AttemptList(items=[AttemptOut.of(a) for a in log])
