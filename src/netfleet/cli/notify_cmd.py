"""``netfleet notify``: notification rules, on the database or a server.

``add | list | test | delete | log``. ``--db`` (the default: the ``database.url``
setting) or ``--url``/``--token`` (see ``netfleet.cli.backend``). A rule's secret is
write-only: give it as a secret reference (``--secret env:HOOK_KEY``, stored as the
reference and resolved when sending) or on standard input (``--secret-stdin``), not
as a literal on the command line where other users can read it. Exit codes: 0, 1
when a test delivery failed, 2 for bad input, 3 when the database fails.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from netfleet.cli.backend import DbOption, TokenOption, UrlOption, call
from netfleet.cli.common import EXIT_BAD_INPUT
from netfleet.cli.remote import seg

notify_app = typer.Typer(
    name="notify",
    help="Notification rules: webhooks, Slack and email on job, task and fleet events.",
    no_args_is_help=True,
)
NameArg = Annotated[str, typer.Argument(help="Rule name.")]
EXIT_NOT_DELIVERED = 1


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


@notify_app.command("add")
def add_cmd(
    name: NameArg,
    kind: Annotated[str, typer.Option(help="webhook, slack or email.")] = "webhook",
    event: Annotated[
        list[str],
        typer.Option(
            "--event",
            "-e",
            help="job.failed, job.partial, job.succeeded, "
            "task.failed, config.changed, backup.stale, rollout.halted, "
            "approval.requested, worker.down (repeat).",
        ),
    ] = [],  # noqa: B006
    target_url: Annotated[
        str | None, typer.Option("--to-url", help="webhook/slack: the URL to POST to.")
    ] = None,
    secret: Annotated[
        str | None, typer.Option(help="Webhook key or SMTP password: a reference (env:NAME).")
    ] = None,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the secret from standard input.")
    ] = False,
    device: Annotated[list[str], typer.Option(help="Device name glob (repeat).")] = [],  # noqa: B006
    group: Annotated[list[str], typer.Option(help="Group glob (repeat).")] = [],  # noqa: B006
    schedule: Annotated[list[str], typer.Option(help="Schedule name glob.")] = [],  # noqa: B006
    job_name: Annotated[list[str], typer.Option(help="Job name glob.")] = [],  # noqa: B006
    error_kind: Annotated[
        list[str], typer.Option(help="task.failed: only these error kinds.")
    ] = [],  # noqa: B006
    smtp_host: Annotated[str | None, typer.Option(help="email: SMTP server.")] = None,
    smtp_port: Annotated[int, typer.Option(help="email: SMTP port.")] = 587,
    smtp_security: Annotated[str, typer.Option(help="email: starttls, tls or none.")] = "starttls",
    smtp_user: Annotated[str | None, typer.Option(help="email: AUTH user.")] = None,
    sender: Annotated[str | None, typer.Option(help="email: From address.")] = None,
    to: Annotated[list[str], typer.Option(help="email: recipient (repeat).")] = [],  # noqa: B006
    replace: Annotated[bool, typer.Option(help="Replace a rule of that name.")] = False,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a rule (events and filters, and where to deliver)."""
    if secret_stdin:
        if secret is not None:
            typer.echo("error: give --secret or --secret-stdin, not both", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)
        secret = sys.stdin.readline().rstrip("\r\n") or None
    body: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "events": event,
        "url": target_url,
        "secret": secret,
        "devices": device,
        "groups": group,
        "schedules": schedule,
        "job_names": job_name,
        "task_error_kinds": error_kind,
    }
    if kind == "email" and smtp_host:
        body["smtp"] = {
            "host": smtp_host,
            "port": smtp_port,
            "security": smtp_security,
            "username": smtp_user,
            "sender": sender or "",
            "recipients": to,
        }
    params = {"replace": "true"} if replace else {}
    rule = call(url, token, db, lambda b: b.post("/notifications", body, **params), default="local")
    typer.echo(f"rule {rule['name']}: {rule['kind']} on {', '.join(rule['events'])}")


@notify_app.command("list")
def list_cmd(db: DbOption = None, url: UrlOption = None, token: TokenOption = None) -> None:
    """List the rules (secrets are never shown)."""
    items = call(url, token, db, lambda b: b.get("/notifications"), default="local")["items"]
    if not items:
        typer.echo("no notification rules")
    for r in items:
        where = r.get("url") or ", ".join((r.get("smtp") or {}).get("recipients", []))
        filters = " ".join(f"{k}={','.join(v)}" for k, v in sorted(r["filters"].items()))
        state = "" if r["enabled"] else " (disabled)"
        typer.echo(
            f"{r['name']:20} {r['kind']:8} {','.join(r['events']):30} {where} "
            f"{filters} [{r['origin']}]{state}".rstrip()
        )


@notify_app.command("test")
def send_test(
    name: NameArg, db: DbOption = None, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Send a test event to the rule now and print what happened."""
    result = call(
        url, token, db, lambda b: b.post(f"/notifications/{seg(name)}/test", {}), default="local"
    )
    status = f" ({result['status']})" if result.get("status") else ""
    if result["delivered"]:
        typer.echo(f"delivered{status}: {result['reason']} [{result['delivery_id']}]")
        return
    typer.echo(f"error: not delivered, {result['outcome']}{status}: {result['reason']}", err=True)
    raise typer.Exit(EXIT_NOT_DELIVERED)


@notify_app.command("delete")
def delete_cmd(
    name: NameArg, db: DbOption = None, url: UrlOption = None, token: TokenOption = None
) -> None:
    """Delete a rule with its queued deliveries and log."""
    call(url, token, db, lambda b: b.delete(f"/notifications/{seg(name)}"), default="local")
    typer.echo(f"deleted rule {name}")


@notify_app.command("log")
def log_cmd(
    name: NameArg,
    limit: Annotated[int, typer.Option(help="Lines, newest first.")] = 50,
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """A rule's delivery log: every attempt, newest first."""
    path = f"/notifications/{seg(name)}/deliveries"
    items = call(url, token, db, lambda b: b.get(path, limit=limit), default="local")["items"]
    for a in items:
        status = a["status"] if a["status"] is not None else "-"
        typer.echo(
            f"{_when(a['at'])}  {a['delivery_id'][:12]}  #{a['attempt']:<2} {a['outcome']:10} "
            f"{status!s:>4}  {a['event_type']:16} {a['reason']}"
        )
