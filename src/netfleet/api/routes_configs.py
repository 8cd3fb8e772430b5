"""Configuration backups: run them, read each device's versions and diffs, search the
latest configurations, and list failed or stale backups.

``POST /backups`` needs the operator role (a backup only reads); the rest is viewer.
An admin may read a version's unmasked text (``raw=true``) when ``[masking] keep_raw``
kept one, and export every device's history into ``[backup] git_dir``
(``POST /backups/export-git``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from netfleet.api.auth import Admin, Operator, Viewer
from netfleet.api.backup_export import export_history
from netfleet.api.context import context, store_of
from netfleet.api.problems import ProblemException, responses
from netfleet.api.schemas_jobs import JobSummary
from netfleet.jobs.model import JobOptions, JobSpec, Targets, parse_job_spec
from netfleet.store.sql.configs import ConfigVersion
from netfleet.store.sql.configs_status import BackupState

router = APIRouter(tags=["backups"])

DeviceName = Annotated[str, Path(min_length=1, max_length=255, description="Device name")]
Version = Annotated[
    str, Path(min_length=1, max_length=12, description="A version number or 'latest'")
]


class BackupSubmit(BaseModel):
    """Back up the configuration of the targeted devices (one job, a task per device)."""

    model_config = ConfigDict(extra="forbid")

    targets: Targets
    options: JobOptions = Field(default_factory=lambda: JobOptions())
    name: str | None = Field(None, max_length=255)

    def to_spec(self) -> JobSpec:
        return parse_job_spec(
            {
                "targets": self.targets.model_dump(),
                "options": self.options.model_dump(exclude_unset=True),
                "name": self.name or "backup",
                "backup": True,
            }
        )


class VersionOut(BaseModel):
    version: int
    created_at: float
    sha256: str
    size: int
    added: int
    removed: int
    job_id: int | None

    @classmethod
    def of(cls, v: ConfigVersion) -> VersionOut:
        return cls(**v.summary())


class VersionPage(BaseModel):
    items: list[VersionOut]
    next_cursor: int | None = Field(None, description="Pass back as `cursor` (older versions).")


class VersionText(VersionOut):
    device: str
    platform: str
    text: str


class DiffOut(BaseModel):
    device: str
    from_version: int = Field(alias="from")
    to_version: int = Field(alias="to")
    added: int
    removed: int
    format: str
    diff: str

    model_config = ConfigDict(populate_by_name=True)


class SearchHitOut(BaseModel):
    device: str
    version: int
    line: int
    text: str


class SearchOut(BaseModel):
    items: list[SearchHitOut]
    truncated: bool = Field(description="More lines matched than `limit`.")


BackupHealth = Literal["ok", "failed", "stale", "never"]


class BackupStatusOut(BaseModel):
    device: str
    status: BackupHealth
    last_attempt_at: float | None
    last_ok_at: float | None
    error: str | None
    job_id: int | None
    latest_version: int | None


class BackupStatusPage(BaseModel):
    stale_after_s: float
    counts: dict[str, int]
    items: list[BackupStatusOut]


@router.post(
    "/backups",
    response_model=JobSummary,
    status_code=201,
    summary="Back up the targets' configurations (a job)",
    responses=responses(403, 422),
)
async def submit_backup(request: Request, _: Operator, body: BackupSubmit) -> JobSummary:
    job = await store_of(request).jobs.submit(body.to_spec())
    request.state.audit = {"job_id": job.id, "kind": "backup", "tasks": job.counts.total}
    return JobSummary.of(job)


class GitExportOut(BaseModel):
    git_dir: str
    devices: int = Field(description="Devices with stored versions.")
    commits: int = Field(description="Commits made: versions the repository did not have.")


@router.post(
    "/backups/export-git",
    response_model=GitExportOut,
    summary="Commit every device's versions missing from the [backup] git_dir repository",
    responses=responses(403, 409),
)
async def export_git(request: Request, _: Admin) -> GitExportOut:
    directory = context(request).settings.backup.git_dir
    if directory is None:
        raise ProblemException(
            409, "no git repository configured: set [backup] git_dir to export to it"
        )
    report = await export_history(store_of(request), directory)
    request.state.audit = {"kind": "backup-export-git", "commits": report.commits}
    return GitExportOut(git_dir=str(directory), devices=report.devices, commits=report.commits)


def _health(state: BackupState, now: float, stale_s: float) -> BackupHealth:
    if state.attempt_at is None and state.latest_version is None:
        return "never"
    if state.ok is False:
        return "failed"
    if state.ok_at is None or now - state.ok_at > stale_s:
        return "stale"
    return "ok"


@router.get(
    "/backups/status",
    response_model=BackupStatusPage,
    summary="Devices whose last backup failed or is older than [backup] stale_hours",
)
async def backup_status(
    request: Request,
    _: Viewer,
    all: Annotated[bool, Query(description="List healthy devices too.")] = False,
) -> BackupStatusPage:
    store = store_of(request)
    stale_s = context(request).settings.backup.stale_hours * 3600.0
    now = await store.now()
    counts = {"ok": 0, "failed": 0, "stale": 0, "never": 0}
    items = []
    for state in await store.configs.status():
        health = _health(state, now, stale_s)
        counts[health] += 1
        if all or health != "ok":
            items.append(
                BackupStatusOut(
                    device=state.device,
                    status=health,
                    last_attempt_at=state.attempt_at,
                    last_ok_at=state.ok_at,
                    error=state.error,
                    job_id=state.job_id,
                    latest_version=state.latest_version,
                )
            )
    return BackupStatusPage(stale_after_s=stale_s, counts=counts, items=items)


@router.get(
    "/devices/{name}/configs",
    response_model=VersionPage,
    summary="A device's configuration versions, newest first",
    responses=responses(404),
)
async def list_configs(
    request: Request,
    _: Viewer,
    name: DeviceName,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[int | None, Query(ge=1, le=2**31)] = None,
) -> VersionPage:
    items = await store_of(request).configs.list(name, limit=limit, before=cursor)
    more = len(items) == limit and items[-1].version > 1
    return VersionPage(
        items=[VersionOut.of(v) for v in items],
        next_cursor=items[-1].version if more else None,
    )


@router.get(
    "/devices/{name}/configs/diff",
    response_model=DiffOut,
    summary="The diff between two versions (to: latest; from: the version before to)",
    responses=responses(404),
)
async def diff_configs(
    request: Request,
    _: Viewer,
    name: DeviceName,
    from_: Annotated[str | None, Query(alias="from", max_length=12)] = None,
    to: Annotated[str | None, Query(max_length=12)] = None,
    format: Annotated[Literal["unified", "hierarchical"], Query()] = "unified",
) -> Any:
    old, new, diff = await store_of(request).configs.diff(
        name, from_, to, hierarchical=format == "hierarchical"
    )
    return DiffOut(
        device=name,
        from_version=old.version,
        to_version=new.version,
        added=diff.added,
        removed=diff.removed,
        format=format,
        diff=diff.text,
    ).model_dump(by_alias=True)


@router.get(
    "/devices/{name}/configs/{version}",
    response_model=VersionText,
    summary="One configuration version's text ('latest' is a version)",
    responses=responses(403, 404),
)
async def get_config(
    request: Request,
    principal: Viewer,
    name: DeviceName,
    version: Version,
    raw: Annotated[bool, Query(description="Admins: the unmasked text, if kept.")] = False,
) -> VersionText:
    configs = store_of(request).configs
    found = await configs.get(name, version)
    text = found.text or ""
    if raw:
        if not principal.allows("admin"):
            raise ProblemException(403, "raw configuration texts need the admin role")
        kept = configs.raw_text(found)
        if kept is None:
            raise ProblemException(
                404, f"no raw text kept for {name} version {found.version} ([masking] keep_raw)"
            )
        text = kept
    return VersionText(**found.summary(), device=found.device, platform=found.platform, text=text)


@router.get(
    "/configs/search",
    response_model=SearchOut,
    summary="Lines of the latest configurations that match (substring or RE2 regex)",
    responses=responses(422),
)
async def search_configs(
    request: Request,
    _: Viewer,
    q: Annotated[str, Query(min_length=1, max_length=1024)],
    regex: Annotated[bool, Query()] = False,
    device: Annotated[list[str] | None, Query(description="Only these devices.")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> SearchOut:
    cap = context(request).settings.backup.max_search_results
    hits, truncated = await store_of(request).configs.search(
        q, regex=regex, limit=min(limit or cap, cap), devices=device
    )
    return SearchOut(
        items=[
            SearchHitOut(device=h.device, version=h.version, line=h.line, text=h.text) for h in hits
        ],
        truncated=truncated,
    )
