"""``netfleet schedules``: one-time and cron schedules on the configured database.

``add | list | show | pause | resume | delete | preview``. Schedules are addressed by
name or id. Every error prints one ``error:`` line and exits with code 2 (3 when the
database cannot be reached).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from netfleet.cli.local_store import DbOption, fail, run_on_store
from netfleet.core.errors import InputError, NetfleetError

if TYPE_CHECKING:
    from netfleet.jobs.schedule import Schedule


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
    if config_file is not None:
        try:
            config = [*config, *config_file.read_text().splitlines()]
        except OSError as exc:
            raise InputError(f"--config-file {config_file}: {exc.strerror or exc}") from None
    targets: dict[str, Any] = {"devices": devices, "groups": groups}
    if filter_:
        targets["filter"] = filter_
    return {"targets": targets, "commands": commands, "config": config}


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
    config: Annotated[list[str], typer.Option("--config", help="Config line.")] = [],  # noqa: B006
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
    allow_privileged: Annotated[
        bool,
        typer.Option(
            "--allow-privileged-commands",
            help="The job's commands may configure, save, reload, erase, copy, commit.",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Create a schedule (a one-time --at or a recurring --cron) with a job template."""
    from netfleet.jobs.policy import check_job_policy
    from netfleet.jobs.schedule import build_schedule
    from netfleet.store import schedules as sql

    try:
        job = _template(device, group, filter_, command, config, config_file, template)
        if allow_privileged:
            job["options"] = {**job.get("options", {}), "allow_privileged_commands": True}
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
    created = run_on_store(db, lambda store: sql.create_schedule(store, spec))
    _print_details(created)


@schedules_app.command("list")
def list_(db: DbOption = None) -> None:
    """List schedules with their next fire time."""
    from netfleet.store import schedules as sql

    items = run_on_store(db, sql.list_schedules)
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
) -> None:
    """Show one schedule and its next fire times."""
    from netfleet.jobs.schedule import fire_after, schedule_ref
    from netfleet.store import schedules as sql

    s = run_on_store(db, lambda store: sql.get_schedule(store, schedule_ref(ref)))
    times: list[datetime] = []
    cursor = s.next_fire_at
    if cursor is not None and s.enabled:
        times.append(cursor)
        while len(times) < upcoming and (cursor := fire_after(s.spec, cursor)) is not None:
            times.append(cursor)
    _print_details(s, times[:upcoming])


@schedules_app.command("pause")
def pause(ref: RefArg, db: DbOption = None) -> None:
    """Pause a schedule (no firings until resumed)."""
    from netfleet.jobs.schedule import schedule_ref
    from netfleet.store import schedules as sql

    s = run_on_store(db, lambda store: sql.set_enabled(store, schedule_ref(ref), False))
    typer.echo(f"paused schedule {s.name} (id {s.id})")


@schedules_app.command("resume")
def resume(ref: RefArg, db: DbOption = None) -> None:
    """Resume a paused schedule from now (firings during the pause are not run)."""
    from netfleet.jobs.schedule import schedule_ref
    from netfleet.store import schedules as sql

    s = run_on_store(db, lambda store: sql.set_enabled(store, schedule_ref(ref), True))
    typer.echo(
        f"resumed schedule {s.name} (id {s.id}); next fire {_when(s.next_fire_at, s.spec.timezone)}"
    )


@schedules_app.command("delete")
def delete(ref: RefArg, db: DbOption = None) -> None:
    """Delete a schedule (jobs it created are kept)."""
    from netfleet.jobs.schedule import schedule_ref
    from netfleet.store import schedules as sql

    run_on_store(db, lambda store: sql.delete_schedule(store, schedule_ref(ref)))
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
