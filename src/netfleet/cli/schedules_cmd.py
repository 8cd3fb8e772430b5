"""``netfleet schedules``: one-time and cron schedules, on the database or a server.

``add | list | show | pause | resume | delete | preview``. Schedules are addressed by
name or id. ``--db`` (the default: the ``database.url`` setting) or ``--url``/``--token``
(see ``netfleet.cli.backend``). Every error prints one ``error:`` line and exits with
code 2 (3 when the database cannot be used, 1 when the server cannot be reached).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from netfleet.cli.backend import DbOption, TokenOption, UrlOption, call, fail
from netfleet.cli.common import ConfigLinesOption, config_lines
from netfleet.cli.remote import seg
from netfleet.core.errors import InputError, NetfleetError

if TYPE_CHECKING:
    from netfleet.jobs.schedule import Schedule, ScheduleSpec


schedules_app = typer.Typer(
    name="schedules",
    help="One-time and cron schedules: each firing creates exactly one job.",
    no_args_is_help=True,
)

RefArg = Annotated[str, typer.Argument(help="Schedule name or id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(schedules_app, name="schedules")


def _when(value: datetime | None, tz: str = "UTC") -> str:
    if value is None:
        return "-"
    from netfleet.jobs.cron import zone

    return value.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _body(spec: ScheduleSpec) -> dict[str, Any]:
    """The ``POST /schedules`` body of a validated spec."""
    return {
        "name": spec.name,
        "cron": spec.expression,
        "at": _iso(spec.at),
        "timezone": spec.timezone,
        "job": spec.job_template.model_dump(mode="json", exclude_defaults=True),
        "enabled": spec.enabled,
        "start_at": _iso(spec.start_at),
        "end_at": _iso(spec.end_at),
        "misfire_policy": spec.misfire_policy,
        "misfire_window_s": spec.misfire_window_s,
        "overlap": spec.overlap,
    }


def _schedule(data: dict[str, Any]) -> Schedule:
    """A schedule as the API shows it, back in its typed form (for printing)."""
    from netfleet.jobs.schedule import Schedule, build_schedule

    def dt(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    spec = build_schedule(
        name=data["name"],
        job_template=data["job"],
        cron=data["cron"],
        at=data["at"],
        timezone=data["timezone"],
        enabled=data["enabled"],
        start_at=data["start_at"],
        end_at=data["end_at"],
        misfire_policy=data["misfire_policy"],
        misfire_window_s=data["misfire_window_s"],
        overlap=data["overlap"],
        now=datetime.fromtimestamp(0, UTC),  # stored already: past times are fine
    )
    created = datetime.fromisoformat(data["created_at"])
    updated = datetime.fromisoformat(data["updated_at"])
    return Schedule(
        id=int(data["id"]),
        spec=spec,
        next_fire_at=dt(data["next_fire_at"]),
        last_fire_at=dt(data["last_fire_at"]),
        created_at=created,
        updated_at=updated,
    )


def _one(url: str | None, token: str | None, db: str | None, fn: Any) -> Schedule:
    """Run ``fn(backend)`` (a call answering one schedule) on the named backend."""
    return _schedule(call(url, token, db, fn, default="local"))


def _template(
    devices: list[str],
    groups: list[str],
    filter_: str | None,
    commands: list[str],
    config: list[str],
    config_file: Path | None,
    template_file: Path | None,
) -> dict[str, Any]:
    if template_file is not None:
        try:
            data = json.loads(template_file.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"--template {template_file}: {exc}") from None
        if not isinstance(data, dict):
            raise InputError(f"--template {template_file}: expected a JSON object (a job)")
        return data
    config = config_lines(config, config_file)
    targets: dict[str, Any] = {"devices": devices, "groups": groups}
    if filter_:
        targets["filter"] = filter_
    return {"targets": targets, "commands": commands, "config": config}


def _backup_template(job: dict[str, Any]) -> dict[str, Any]:
    """``job`` as a backup job (``--backup``): targets only, no commands or config."""
    if job.get("commands") or job.get("config"):
        raise InputError("--backup takes targets only, no --command or --config")
    job = {k: v for k, v in job.items() if k not in ("commands", "config")}
    job.setdefault("name", "backup")
    return {**job, "backup": True}


@schedules_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A unique schedule name.")],
    cron: Annotated[
        str | None,
        typer.Option("--cron", help="Cron: 5 fields, 6 with leading seconds, or @daily etc."),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="One time, ISO 8601 (naive = in --tz).")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Berlin.")] = "UTC",
    device: Annotated[list[str], typer.Option("--device", "-d", help="Target device.")] = [],  # noqa: B006
    group: Annotated[list[str], typer.Option("--group", "-g", help="Target group.")] = [],  # noqa: B006
    filter_: Annotated[
        str | None, typer.Option("--filter", help="Filter, e.g. 'platform=cisco_ios tag=lab'.")
    ] = None,
    command: Annotated[list[str], typer.Option("--command", "-c", help="Show command.")] = [],  # noqa: B006
    config: ConfigLinesOption = [],  # noqa: B006
    config_file: Annotated[
        Path | None, typer.Option("--config-file", help="Config lines from a file.")
    ] = None,
    template: Annotated[
        Path | None, typer.Option("--template", help="The whole job as a JSON file.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="Not before (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Not after (ISO 8601).")] = None,
    misfire: Annotated[
        str, typer.Option("--misfire", help="skip | run_latest | backfill.")
    ] = "skip",
    misfire_window: Annotated[
        float, typer.Option("--misfire-window", help="Backfill window in seconds.")
    ] = 60.0,
    overlap: Annotated[str, typer.Option("--overlap", help="skip | queue.")] = "queue",
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    backup: Annotated[
        bool, typer.Option("--backup", help="Back up the targets' configurations.")
    ] = False,
    allow_privileged: Annotated[
        bool,
        typer.Option(
            "--allow-privileged-commands",
            help="The job's commands may configure, save, reload, erase, copy, commit.",
        ),
    ] = False,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a schedule (a one-time --at or a recurring --cron) with a job template."""
    from netfleet.jobs.policy import check_job_policy
    from netfleet.jobs.schedule import build_schedule

    try:
        job = _template(device, group, filter_, command, config, config_file, template)
        if allow_privileged:
            job["options"] = {**job.get("options", {}), "allow_privileged_commands": True}
        if backup:
            job = _backup_template(job)
        spec = build_schedule(
            name=name,
            cron=cron,
            at=at,
            timezone=tz,
            job_template=job,
            enabled=not paused,
            start_at=start,
            end_at=end,
            misfire_policy=misfire,
            misfire_window_s=misfire_window,
            overlap=overlap,
        )
        check_job_policy(spec.job_template, admin=True, what="a schedule")
    except NetfleetError as exc:
        raise fail(exc) from None
    body = _body(spec)
    _print_details(_one(url, token, db, lambda b: b.post("/schedules", body)))


@schedules_app.command("list")
def list_(db: DbOption = None, url: UrlOption = None, token: TokenOption = None) -> None:
    """List schedules with their next fire time."""
    page = call(url, token, db, lambda b: b.get("/schedules"), default="local")
    items = [_schedule(item) for item in page["items"]]
    table = Table("id", "name", "when", "tz", "state", "next fire", "last fire")
    for s in items:
        table.add_row(
            str(s.id),
            s.name,
            s.spec.expression or _when(s.spec.at, s.spec.timezone),
            s.spec.timezone,
            _state(s),
            _when(s.next_fire_at, s.spec.timezone),
            _when(s.last_fire_at, s.spec.timezone),
        )
    Console().print(table)


def _state(s: Schedule) -> str:
    if s.finished:
        return "finished"
    return "enabled" if s.enabled else "paused"


def _print_details(s: Schedule, upcoming: list[datetime] | None = None) -> None:
    spec = s.spec
    table = Table(show_header=False, title=f"schedule {s.name} (id {s.id})")
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        ("kind", spec.kind),
        ("cron" if spec.kind == "cron" else "at", spec.expression or _when(spec.at, spec.timezone)),
        ("time zone", spec.timezone),
        ("state", _state(s)),
        (
            "start / end",
            f"{_when(spec.start_at, spec.timezone)} / {_when(spec.end_at, spec.timezone)}",
        ),
        ("misfire", f"{spec.misfire_policy} (window {spec.misfire_window_s:g} s)"),
        ("overlap", spec.overlap),
        ("next fire", _when(s.next_fire_at, spec.timezone)),
        ("last fire", _when(s.last_fire_at, spec.timezone)),
        ("job", json.dumps(spec.job_template.model_dump(mode="json", exclude_defaults=True))),
    ]
    for key, value in rows:
        table.add_row(key, value)
    for i, when in enumerate(upcoming or [], start=1):
        table.add_row(f"upcoming {i}", _when(when, spec.timezone))
    Console().print(table)


@schedules_app.command("show")
def show(
    ref: RefArg,
    upcoming: Annotated[int, typer.Option("--upcoming", "-n", min=0, max=1000)] = 5,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Show one schedule and its next fire times."""
    from netfleet.jobs.schedule import fire_after

    s = _one(url, token, db, lambda b: b.get(f"/schedules/{seg(ref)}"))
    times: list[datetime] = []
    cursor = s.next_fire_at
    if cursor is not None and s.enabled:
        times.append(cursor)
        while len(times) < upcoming and (cursor := fire_after(s.spec, cursor)) is not None:
            times.append(cursor)
    _print_details(s, times[:upcoming])


@schedules_app.command("pause")
def pause(
    ref: RefArg, db: DbOption = None, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Pause a schedule (no firings until resumed)."""
    s = _one(url, token, db, lambda b: b.post(f"/schedules/{seg(ref)}/pause"))
    typer.echo(f"paused schedule {s.name} (id {s.id})")


@schedules_app.command("resume")
def resume(
    ref: RefArg, db: DbOption = None, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Resume a paused schedule from now (firings during the pause are not run)."""
    s = _one(url, token, db, lambda b: b.post(f"/schedules/{seg(ref)}/resume"))
    typer.echo(
        f"resumed schedule {s.name} (id {s.id}); next fire {_when(s.next_fire_at, s.spec.timezone)}"
    )


@schedules_app.command("delete")
def delete(
    ref: RefArg, db: DbOption = None, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Delete a schedule (jobs it created are kept)."""
    call(url, token, db, lambda b: b.delete(f"/schedules/{seg(ref)}"), default="local")
    typer.echo(f"deleted schedule {ref}")


@schedules_app.command("preview")
def preview_cmd(
    expression: Annotated[str, typer.Argument(help="Cron expression, e.g. '30 2 * * *'.")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone.")] = "UTC",
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=1000)] = 10,
    after: Annotated[
        str | None, typer.Option("--after", help="Start after this time (ISO 8601).")
    ] = None,
) -> None:
    """Print the next fire times of a cron expression in a time zone (no database)."""
    from netfleet.jobs.cron import preview

    try:
        start = datetime.fromisoformat(after) if after else datetime.now(UTC)
    except ValueError:
        raise fail(InputError(f"--after {after!r}: not an ISO 8601 date/time")) from None
    try:
        times = preview(expression, tz, count, after=start)
    except NetfleetError as exc:
        raise fail(exc) from None
    table = Table("#", f"local ({tz})", "UTC")
    for i, when in enumerate(times, start=1):
        table.add_row(str(i), _when(when, tz), when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))
    Console().print(table)
