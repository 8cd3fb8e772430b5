"""Safe changes on the command line: ``netfleet jobs approve|reject|resume|gate ID`` and
``netfleet windows list|show|set|delete|check``.

Like the other store-backed commands they take ``--url``/``--token`` (a server) or
``--db`` (the database). Approving needs an admin token other than the submitter's.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from netfleet.cli.backend import Backend, DbOption, TokenOption, UrlOption, call
from netfleet.cli.common import OutputOption, check_output, fail, print_json
from netfleet.cli.jobs_cmd import JobArg, jobs_app

windows_app = typer.Typer(
    help="Change windows: when config jobs may start (allowed periods, blackouts).",
    no_args_is_help=True,
)
NameArg = Annotated[str, typer.Argument(help="Window name.")]


def register(app: typer.Typer) -> None:
    app.add_typer(windows_app, name="windows")


def _gate_line(gate: dict[str, Any]) -> str:
    state = gate["state"]
    parts = [f"job {gate['job_id']}: {gate.get('job_state') or state}"]
    if gate["batches"]:
        parts.append(
            f"rollout batch {gate['batches_released']} of {len(gate['batches'])}, "
            f"{gate['tasks_released']} of {sum(gate['batches'])} task(s) released"
        )
    if gate["decision"]:
        parts.append(f"{gate['decision']} by {gate['decided_by']}")
    elif gate["needs_approval"]:
        parts.append(f"submitted by {gate['submitted_by'] or 'unknown'}")
    if gate["reason"]:
        parts.append(gate["reason"])
    return "; ".join(parts)


def _show_gate(gate: dict[str, Any], output: str) -> None:
    if output == "json":
        print_json(gate)
    else:
        typer.echo(_gate_line(gate))


@jobs_app.command("approve")
def approve(
    job_id: JobArg,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Approve a job awaiting approval (an admin other than its submitter)."""
    check_output(output)
    _show_gate(call(url, token, db, lambda r: r.post(f"/jobs/{job_id}/approve")), output)


@jobs_app.command("reject")
def reject(
    job_id: JobArg,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the audit log).")] = "",
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Reject a job awaiting approval: it is cancelled."""
    check_output(output)
    gate = call(url, token, db, lambda r: r.post(f"/jobs/{job_id}/reject", {"reason": reason}))
    _show_gate(gate, output)


@jobs_app.command("resume")
def resume(
    job_id: JobArg,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Resume a halted rollout (the failures so far no longer count)."""
    check_output(output)
    _show_gate(call(url, token, db, lambda r: r.post(f"/jobs/{job_id}/resume")), output)


@jobs_app.command("gate")
def gate(
    job_id: JobArg,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Show what holds a job back: approval, change window, rollout progress."""
    check_output(output)
    _show_gate(call(url, token, db, lambda r: r.get(f"/jobs/{job_id}/gate")), output)


# --- windows ----------------------------------------------------------------------


def _window_line(w: dict[str, Any]) -> str:
    when = w["weekly"] or (
        f"cron {w['cron']!r} for {w['duration_minutes']} min"
        if w["cron"]
        else f"{w['start']} .. {w['end']}"
    )
    state = "open now" if w["open_now"] else f"next opening {w['next_opening'] or 'never'}"
    off = "" if w["enabled"] else " (disabled)"
    scope = ", ".join([*(f"group {g}" for g in w.get("groups") or ()), *(w.get("devices") or ())])
    scope = f" for {scope}" if scope else ""
    return f"{w['name']}: {w['kind']} {when} {w['timezone']}{scope}, {w['policy']}; {state}{off}"


@windows_app.command("list")
def list_(
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """List change windows with their next opening."""
    check_output(output)
    windows = call(url, token, db, lambda r: r.get("/change-windows"), default="local")
    if output == "json":
        print_json(windows)
        return
    for w in windows:
        typer.echo(_window_line(w))
    if not windows:
        typer.echo("no change windows: config jobs may start at any time")


@windows_app.command("show")
def show(
    name: NameArg,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Show one window and its next opening."""
    check_output(output)
    w = call(url, token, db, lambda r: r.get(f"/change-windows/{name}"), default="local")
    print_json(w) if output == "json" else typer.echo(_window_line(w))


@windows_app.command("set")
def set_(
    name: NameArg,
    weekly: Annotated[
        str | None, typer.Option("--weekly", help="'sat 22:00-sun 06:00' or '01:00-03:00'.")
    ] = None,
    cron: Annotated[str | None, typer.Option("--cron", help="Openings, e.g. '0 1 * * *'.")] = None,
    duration: Annotated[
        int | None, typer.Option("--duration-minutes", min=1, help="With --cron.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="A fixed period: ISO 8601.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="With --start.")] = None,
    blackout: Annotated[
        bool, typer.Option("--blackout", help="No config changes in this period.")
    ] = False,
    timezone: Annotated[str, typer.Option("--timezone", help="IANA time zone.")] = "UTC",
    refuse: Annotated[
        bool, typer.Option("--refuse", help="Outside: refuse config jobs instead of queueing.")
    ] = False,
    disabled: Annotated[bool, typer.Option("--disabled", help="Store it, not in force.")] = False,
    description: Annotated[str, typer.Option("--description")] = "",
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="Govern only jobs touching this group (repeatable)."),
    ] = None,
    device: Annotated[
        list[str] | None,
        typer.Option("--device", help="Govern only jobs touching these devices (glob)."),
    ] = None,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Create or replace a change window."""
    check_output(output)
    if sum(x is not None for x in (weekly, cron, start)) != 1:
        raise fail("give exactly one of --weekly, --cron (with --duration-minutes), --start/--end")
    body = {
        "kind": "blackout" if blackout else "allow",
        "timezone": timezone,
        "weekly": weekly,
        "cron": cron,
        "duration_minutes": duration,
        "start": start,
        "end": end,
        "policy": "refuse" if refuse else "wait",
        "enabled": not disabled,
        "description": description,
        "groups": list(group or []),
        "devices": list(device or []),
    }

    def go(r: Backend) -> Any:
        return r.put(f"/change-windows/{name}", body)

    w = call(url, token, db, go, default="local")
    print_json(w) if output == "json" else typer.echo(_window_line(w))


@windows_app.command("delete")
def delete(
    name: NameArg, url: UrlOption = None, token: TokenOption = None, db: DbOption = None
) -> None:
    """Delete a change window."""
    call(url, token, db, lambda r: r.delete(f"/change-windows/{name}"), default="local")
    typer.echo(f"change window {name!r} deleted")


@windows_app.command("check")
def check(
    at: Annotated[str | None, typer.Option("--at", help="ISO 8601 time; default now.")] = None,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """May a config change start now (or --at)? Exit 1 if not, naming the next opening."""
    check_output(output)
    params = {"at": at} if at else {}
    verdict = call(
        url, token, db, lambda r: r.get("/change-windows/verdict", **params), default="local"
    )
    if output == "json":
        print_json(verdict)
    elif verdict["allowed"]:
        typer.echo(f"config changes may start at {verdict['at']}")
    else:
        typer.echo(f"not allowed at {verdict['at']}: {verdict['reason']}")
    if not verdict["allowed"]:
        raise typer.Exit(1)
