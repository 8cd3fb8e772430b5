"""``netfleet jobs submit|list|show|cancel|rerun|logs``: jobs on a server or the database.

On a server (``--url``/``--token``, the default, see ``netfleet.cli.remote``) or on
the database (``--db``), through ``netfleet.cli.backend``. Exit codes: 0 on success,
2 for bad input or a request refused (4xx), 1 otherwise (3 when the database fails);
with ``--wait``, 1 when the job did not succeed on every device.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from netfleet.cli import common, jobs_output
from netfleet.cli.backend import Backend, DbOption, TokenOption, UrlOption, call
from netfleet.cli.change_opts import (
    ChecksOption,
    ConfirmTimeoutOption,
    RollbackOption,
    TemplateOption,
    VarOption,
    change_fields,
)
from netfleet.cli.common import (
    ConfigLinesOption,
    FilterOption,
    GroupsOption,
    OutputOption,
    WaitTimeoutOption,
    check_output,
    config_lines,
    fail,
    print_json,
)
from netfleet.cli.remote import EXIT_FAILED, RemoteError
from netfleet.core.errors import InputError

jobs_app = typer.Typer(help="Submit and follow jobs on a netfleet server.", no_args_is_help=True)

JobArg = Annotated[int, typer.Argument(help="Job id.", min=1)]


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")


def parse_rollout(text: str) -> Any:
    """The ``--rollout`` JSON object (validated by the server)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise fail(f"--rollout: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise fail('--rollout: expected a JSON object such as {"canary": 1}')
    return value


def parse_strategy(text: str) -> dict[str, Any]:
    """The job options for ``--failure-strategy TEXT``."""
    try:
        name, n = common.parse_strategy(text)
    except InputError as exc:
        raise fail(exc.message) from None
    if name == "abort_after_n":
        return {"failure_strategy": name, "failure_n": n}
    return {"failure_strategy": name}


def parse_run_at(text: str, now: datetime | None = None) -> str:
    """ISO 8601 (naive = UTC) or ``+N[s|m|h|d]`` from now; returned as ISO 8601 UTC."""
    now = now or datetime.now(UTC)
    m = re.fullmatch(r"\+(\d+(?:\.\d+)?)([smhd]?)", text.strip())
    if m:
        unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return (now + timedelta(seconds=float(m.group(1)) * unit)).isoformat()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--run-at {text!r}: expected ISO 8601 (2026-01-31T02:00:00Z) or +30s") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat()


def build_body(
    *,
    devices: list[str],
    groups: list[str],
    filter_: str | None,
    commands: list[str],
    config_file: Path | None,
    options: dict[str, Any],
    name: str | None,
    change: dict[str, Any] | None = None,
    config: list[str] | None = None,
) -> dict[str, Any]:
    """The ``POST /api/v1/jobs`` body; bad input raises a typer exit (code 2)."""
    change = change or {}
    templated = "template" in change
    configured = bool(config) or config_file is not None
    if sum((bool(commands), configured, templated)) != 1:
        raise fail(
            "give one of: commands (-c), configuration (--config LINE, --config-file) or --template"
        )
    if not (devices or groups or filter_):
        raise fail("name the targets: -d DEVICE, -g GROUP and/or --filter EXPR")
    try:
        config = config_lines(config or [], config_file)
    except InputError as exc:
        raise fail(exc.message) from None
    targets: dict[str, Any] = {"devices": devices, "groups": groups}
    if filter_:
        targets["filter"] = filter_
    body: dict[str, Any] = {"targets": targets, "options": options, **change}
    if not templated:
        body["commands" if commands else "config"] = commands or config
    if name:
        body["name"] = name
    return body


def wait_for(remote: Backend, job_id: int, timeout: float | None, poll: float = 0.25) -> Any:
    """Poll until the job has finished, or halted (a rollout over its failure budget waits
    for a person: ``jobs resume`` or ``jobs cancel``) with no task running; its detail.
    ``RemoteError`` after ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.05
    while True:
        job = remote.get(f"/jobs/{job_id}", outputs="false")
        halted = job["state"] == "halted" and not job["counts"]["running"]
        if job["finished_at"] is not None or halted:
            return remote.get(f"/jobs/{job_id}")
        if deadline is not None and time.monotonic() >= deadline:
            c = job["counts"]
            raise RemoteError(
                f"job {job_id} still {job['state']} after {timeout:g} s "
                f"({c['succeeded'] + c['failed'] + c['cancelled']} of {c['total']} tasks done)"
            )
        time.sleep(delay)
        delay = min(delay * 2, poll)


@jobs_app.command("submit")
def submit(
    device: Annotated[list[str], typer.Option("-d", "--device", help="Target device.")] = [],  # noqa: B006
    group: GroupsOption = [],  # noqa: B006
    filter_: FilterOption = None,
    command: Annotated[list[str], typer.Option("-c", "--command", help="A command.")] = [],  # noqa: B006
    config: ConfigLinesOption = [],  # noqa: B006
    config_file: Annotated[
        Path | None, typer.Option("--config-file", help="Push the lines of this file.")
    ] = None,
    template: TemplateOption = None,
    var: VarOption = [],  # noqa: B006
    checks: ChecksOption = None,
    rollback: RollbackOption = False,
    confirm_timeout: ConfirmTimeoutOption = None,
    name: Annotated[str | None, typer.Option("--name", help="A label for the job.")] = None,
    failure_strategy: Annotated[
        str, typer.Option("--failure-strategy", help="continue | abort_first | abort_after_n:N")
    ] = "continue",
    priority: Annotated[
        int, typer.Option("--priority", min=-1000, max=1000, help="Higher runs first.")
    ] = 0,
    run_at: Annotated[
        str | None, typer.Option("--run-at", help="Not before: ISO 8601 or +30s / +5m.")
    ] = None,
    parse: Annotated[str | None, typer.Option("--parse", help="Parse with: textfsm.")] = None,
    max_attempts: Annotated[
        int | None, typer.Option("--max-attempts", min=1, max=100, help="Attempts per device.")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", min=0.001, help="Per-command seconds.")
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Save the config afterwards.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Config: show changes only.")] = False,
    push_diff: Annotated[
        str | None,
        typer.Option(
            "--push-diff",
            help="Config pushes on IOS-like platforms: always (default; without a backup it "
            "reads show running-config first), backup (from the latest backup only) or off.",
        ),
    ] = None,
    allow_privileged: Annotated[
        bool,
        typer.Option(
            "--allow-privileged-commands",
            help="Admins only: commands may configure, save, reload, erase, copy, commit.",
        ),
    ] = False,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Same key, same job.")
    ] = None,
    rollout: Annotated[
        str | None,
        typer.Option(
            "--rollout",
            help='Staged rollout as JSON: \'{"canary": 1, "batches": ["10%", "100%"], '
            '"max_failures": "5%", "pause_s": 60}\'.',
        ),
    ] = None,
    emergency: Annotated[
        bool, typer.Option("--emergency", help="Admins: start outside change windows (audited).")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Wait and print the results.")] = False,
    outputs: Annotated[
        bool, typer.Option("--outputs/--no-outputs", help="With --wait: print command outputs.")
    ] = True,
    wait_timeout: WaitTimeoutOption = None,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Queue a job on the server (and with --wait, print its results when it finishes)."""
    check_output(output)
    if parse not in (None, "textfsm"):
        raise fail(f"--parse {parse!r}: the only parser is textfsm")
    change = change_fields(
        template=template,
        variables=var,
        checks=checks,
        rollback=rollback,
        confirm_timeout=confirm_timeout,
    )
    if (save or dry_run or change or push_diff) and not (config or config_file or template):
        raise fail(
            "--save, --dry-run, --push-diff, --checks and --rollback apply to config jobs only"
        )
    if push_diff not in (None, "always", "backup", "off"):
        raise fail(f"--push-diff {push_diff!r}: use always, backup or off")
    options: dict[str, Any] = parse_strategy(failure_strategy)
    extra = {
        "priority": priority or None,
        "run_at": parse_run_at(run_at) if run_at else None,
        "parse": parse,
        "max_attempts": max_attempts,
        "command_timeout_s": timeout,
        "save": save or None,
        "dry_run": dry_run or None,
        "push_diff": push_diff,
        "allow_privileged_commands": allow_privileged or None,
        "idempotency_key": idempotency_key,
        "rollout": parse_rollout(rollout) if rollout else None,
        "emergency": emergency or None,
    }
    options.update({k: v for k, v in extra.items() if v is not None})
    body = build_body(
        devices=device,
        groups=group,
        filter_=filter_,
        commands=command,
        config_file=config_file,
        options=options,
        name=name,
        change=change,
        config=config,
    )

    def go(remote: Backend) -> Any:
        job = remote.post("/jobs", body)
        if not wait:
            return job
        if output == "table":
            typer.echo(f"job {job['id']}: {job['counts']['total']} task(s) queued; waiting ...")
        return wait_for(remote, int(job["id"]), wait_timeout)

    job = call(url, token, db, go)
    if output == "json":
        print_json(job)
    elif wait:
        jobs_output.show_job(job, outputs=outputs)
        if job["state"] == "halted":
            typer.echo(
                f"job {job['id']} halted: the rollout's failure budget was exceeded; "
                f"'netfleet jobs resume {job['id']}' goes on, 'netfleet jobs cancel "
                f"{job['id']}' stops it",
                err=True,
            )
    else:
        when = f", not before {job['run_at']}" if job.get("run_at") else ""
        held = job["state"] in ("awaiting_approval", "awaiting_window", "halted")
        status = job["state"].replace("_", " ") if held else "queued"
        typer.echo(f"job {job['id']}: {job['counts']['total']} task(s) {status}{when}")
    if wait and job["state"] != "succeeded":
        raise typer.Exit(EXIT_FAILED)


@jobs_app.command("list")
def list_(
    state: Annotated[
        list[str], typer.Option("--state", help="queued, running, succeeded, partial, ...")
    ] = [],  # noqa: B006
    device: Annotated[str | None, typer.Option("--device", help="Jobs with this device.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 20,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """List recent jobs, newest first."""
    check_output(output)
    page = call(
        url, token, db, lambda r: r.get("/jobs", state=state or None, device=device, limit=limit)
    )
    if output == "json":
        print_json(page)
    else:
        jobs_output.job_list(page["items"])


@jobs_app.command("show")
def show(
    job_id: JobArg,
    outputs: Annotated[
        bool, typer.Option("--outputs/--no-outputs", help="Print each command's output.")
    ] = True,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Show a job: its state, a table of tasks and each command's output."""
    check_output(output)
    job = call(url, token, db, lambda r: r.get(f"/jobs/{job_id}", outputs=str(outputs).lower()))
    if output == "json":
        print_json(job)
    else:
        jobs_output.show_job(job, outputs=outputs)


@jobs_app.command("cancel")
def cancel(
    job_id: JobArg, url: UrlOption = None, token: TokenOption = None, db: DbOption = None
) -> None:
    """Cancel a job: queued tasks at once, running ones at their next heartbeat."""
    job = call(url, token, db, lambda r: r.post(f"/jobs/{job_id}/cancel"))
    typer.echo(f"job {job_id}: cancel requested ({job['state']})")


@jobs_app.command("rerun")
def rerun(
    job_id: JobArg, url: UrlOption = None, token: TokenOption = None, db: DbOption = None
) -> None:
    """Submit a new job with the same targets, commands and options."""
    job = call(url, token, db, lambda r: r.post(f"/jobs/{job_id}/rerun"))
    typer.echo(f"job {job['id']}: rerun of job {job_id}, {job['counts']['total']} task(s) queued")


@jobs_app.command("logs")
def logs(
    job_id: JobArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Stream new events until the job finishes.")
    ] = False,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Print a job's events (connected, command, retry ...); --follow streams them live."""
    check_output(output)

    def go(remote: Backend) -> str:
        job = remote.get(f"/jobs/{job_id}", outputs="false")
        devices = {int(t["id"]): t["device"] for t in job["tasks"]}
        printer = jobs_output.EventPrinter(devices, as_json=output == "json")
        if not follow:
            after = 0
            while True:
                page = remote.get(f"/jobs/{job_id}/events", after=after, limit=1000)
                for event in page["items"]:
                    printer.event(event)
                if not page["items"]:
                    return str(page["job_state"])
                after = page["next_after"]
        state = str(job["state"])
        for kind, data in remote.events(job_id):
            if kind == "end":
                state = str(data.get("state") or state)
            elif kind == "state":
                state = str(data.get("state") or state)
                printer.state(data)
            else:
                printer.event(data)
        return state

    state = call(url, token, db, go)
    if output == "table":
        typer.echo(f"job {job_id}: {state}", err=True)
