"""New job: the form (operators: commands; admins: config, templates, schedules), its
preview without JavaScript, and the small JSON reads the page uses while typing.

``POST /ui/jobs/new`` with ``action=preview`` re-renders the form with the matched
devices and the next firings; ``action=submit`` submits through the same validation,
command policy and ``store.jobs.submit`` as the API (``store.schedules.create`` for
a schedule). A repeated submit of the same form (double click, reload) returns the
job already created: the idempotency key is the form's nonce plus its content.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from netfleet.core.errors import (
    CommandNotAllowed,
    Conflict,
    Forbidden,
    NotFound,
    ValidationError,
)
from netfleet.jobs.model import JobSpec, Targets
from netfleet.jobs.policy import check_job_policy, job_permission
from netfleet.store.sql.pages import TargetPreview
from netfleet.web import params
from netfleet.web.auth import PageError, audit_action, check_post, require_user
from netfleet.web.context import User, dashboard
from netfleet.web.jobform import FormError, JobDraft, firings, templates_supported
from netfleet.web.render import SECURITY_HEADERS, page
from netfleet.web.timezones import user_zone, zone_names

router = APIRouter()
CurrentUser = Annotated[User, Depends(require_user)]

PREVIEW_NAMES = 50


def _json(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=SECURITY_HEADERS)


async def _groups(request: Request) -> list[tuple[str, int]]:
    board = dashboard(request)
    groups = board.cached("groups")
    if not isinstance(groups, list):
        groups = await board.store.devices.groups()
        board.remember("groups", groups)
    return groups


async def _preview(request: Request, targets: Targets) -> TargetPreview:
    return await dashboard(request).store.pages.preview_targets(targets, limit=PREVIEW_NAMES)


def _firing_texts(expression: str, timezone: str) -> list[str]:
    return [f.strftime("%a %Y-%m-%d %H:%M %Z") for f in firings(expression, timezone)]


async def _form_page(
    request: Request,
    user: User,
    draft: JobDraft,
    *,
    nonce: str,
    error: FormError | None = None,
    status: int = 200,
    previewed: bool = False,
) -> Response:
    preview: TargetPreview | None = None
    schedule_preview: list[str] = []
    schedule_error = ""
    if previewed or error is not None:
        try:
            preview = await _preview(request, draft.targets())
        except FormError as exc:
            preview = TargetPreview(0, (), exc.message)
        if draft.when == "cron" and draft.cron.strip():
            try:
                schedule_preview = _firing_texts(draft.cron, draft.timezone)
            except FormError as exc:
                schedule_error = exc.message
    return page(
        request,
        "job_new.html",
        {
            "draft": draft,
            "nonce": nonce,
            "error": error,
            "preview": preview,
            "preview_limit": PREVIEW_NAMES,
            "schedule_preview": schedule_preview,
            "schedule_error": schedule_error,
            "groups": await _groups(request),
            "zones": zone_names(),
            "admin": user.allows("admin"),
            "templates": templates_supported(),
        },
        user=user,
        status=status,
    )


def _prefill(request: Request) -> JobDraft:
    """A draft from query parameters (links such as "run a job on this device")."""
    q = request.query_params
    draft = JobDraft.from_form(q, q.getlist)
    if "timezone" not in q:
        draft.timezone = user_zone(request)
    return draft


@router.get("/jobs/new")
async def new_job_form(request: Request, user: CurrentUser) -> Response:
    if not user.allows("operator"):
        return page(
            request,
            "error.html",
            {
                "status": 403,
                "message": "starting jobs needs the operator role; you are signed in as "
                f"{user.role}",
            },
            user=user,
            status=403,
        )
    return await _form_page(request, user, _prefill(request), nonce=secrets.token_urlsafe(16))


def _idempotency_key(nonce: str, spec: JobSpec) -> str:
    content = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
    return "ui-" + hashlib.sha256(f"{nonce}\n{content}".encode()).hexdigest()[:40]


@router.post("/jobs/new")
async def submit_job(request: Request, user: CurrentUser) -> Response:
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "operator")
    draft = JobDraft.from_form(form, form.getlist)
    raw_nonce = form.get("nonce")
    nonce = raw_nonce if isinstance(raw_nonce, str) and 0 < len(raw_nonce) <= 64 else ""
    nonce = nonce or secrets.token_urlsafe(16)
    if form.get("action") != "submit":
        return await _form_page(request, user, draft, nonce=nonce, previewed=True)
    try:
        if draft.when == "cron":
            return await _create_schedule(request, user, draft)
        spec = draft.spec()
        check_job_policy(spec, admin=user.allows("admin"))
        options = spec.options.model_copy(update={"idempotency_key": _idempotency_key(nonce, spec)})
        job = await board.store.jobs.submit(
            spec.model_copy(update={"options": options}), submitted_by=user.name
        )
    except FormError as exc:
        return await _form_page(request, user, draft, nonce=nonce, error=exc, status=422)
    except Forbidden as exc:
        await audit_action(request, user, 403, {"refused": exc.message})
        err = FormError("kind", exc.message)
        return await _form_page(request, user, draft, nonce=nonce, error=err, status=403)
    except (CommandNotAllowed, ValidationError) as exc:
        err = FormError(_field_of(exc.message), exc.message)
        return await _form_page(request, user, draft, nonce=nonce, error=err, status=422)
    await audit_action(
        request,
        user,
        201,
        {"job_id": job.id, "kind": job_permission(spec), "tasks": job.counts.total},
    )
    return RedirectResponse(board.url(f"/jobs/{job.id}?notice=submitted"), status_code=303)


async def _create_schedule(request: Request, user: User, draft: JobDraft) -> Response:
    board = dashboard(request)
    if not user.allows("admin"):
        raise Forbidden("schedules need the admin role; run the job now or at a time")
    spec = draft.schedule()
    check_job_policy(spec.job_template, admin=True, what="a schedule")
    try:
        schedule = await board.store.schedules.create(spec)
    except Conflict as exc:
        raise FormError("schedule_name", exc.message) from None
    await audit_action(request, user, 201, {"schedule_id": schedule.id, "schedule": schedule.name})
    return RedirectResponse(board.url("/schedules?notice=created"), status_code=303)


def _field_of(message: str) -> str:
    """The form field an API error message names (``targets.devices: ...``)."""
    head = message.removeprefix("invalid job: ").split(":", 1)[0].split(".")[0].split("[")[0]
    fields = ("targets", "commands", "config", "template", "vars", "checks", "rollback")
    return head if head in fields else "job"


@router.post("/jobs/{job_id}/apply")
async def apply_dry_run(request: Request, user: CurrentUser, job_id: int) -> Response:
    """Submit a finished dry run again for real (same targets, lines, checks, rollback).
    Applying the same dry run twice gives the job already created."""
    board = dashboard(request)
    form = await request.form()
    check_post(request, form, user, "operator")
    try:
        old = await board.store.jobs.get(job_id, tasks=False, outputs=False)
    except NotFound:
        raise PageError(404, f"job {job_id} not found") from None
    if not old.spec.options.dry_run or not old.finished:
        raise PageError(409, f"job {job_id} is not a finished dry run")
    options = old.spec.options.model_copy(
        update={"dry_run": False, "run_at": None, "idempotency_key": f"ui-apply-{job_id}"}
    )
    spec = old.spec.model_copy(update={"options": options, "name": old.spec.name})
    try:
        check_job_policy(spec, admin=user.allows("admin"))
    except Forbidden as exc:
        raise PageError(403, exc.message) from None
    try:
        job = await board.store.jobs.submit(spec, submitted_by=user.name)
    except ValidationError as exc:
        raise PageError(422, exc.message) from None
    await audit_action(
        request, user, 201, {"job_id": job.id, "applied_dry_run": job_id, "kind": "config"}
    )
    return RedirectResponse(board.url(f"/jobs/{job.id}?notice=submitted"), status_code=303)


@router.get("/targets/preview")
async def targets_preview(request: Request, user: CurrentUser) -> Response:
    """JSON for the form: ``{"count", "devices": [first names], "more", "error"}``."""
    q = request.query_params
    draft = JobDraft.from_form(q, q.getlist)
    try:
        targets = draft.targets()
    except FormError as exc:
        return _json({"count": 0, "devices": [], "more": 0, "error": exc.message})
    found = await _preview(request, targets)
    return _json(
        {
            "count": found.count,
            "devices": list(found.names),
            "more": max(0, found.count - len(found.names)),
            "error": found.error,
        }
    )


@router.get("/schedules/preview")
async def schedule_preview(request: Request, user: CurrentUser) -> Response:
    """JSON for the form: the next firings of ``cron`` in ``timezone``, as local times."""
    expression = params.text(request, "cron")
    timezone = params.text(request, "timezone") or "UTC"
    if not expression:
        return _json({"firings": [], "error": None})
    try:
        return _json({"firings": _firing_texts(expression, timezone), "error": None})
    except FormError as exc:
        return _json({"firings": [], "error": exc.message})
