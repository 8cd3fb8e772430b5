"""``netfleet backup run|history|show|diff|grep|status|export-git``: configuration backups.

On a server (``--url``/``--token``) or the database (``--db``), through
``netfleet.cli.backend`` and the ``/api/v1`` routes of ``netfleet.api.routes_configs``.
``export-git DIR`` writes a git repository on this machine (one file per device, one
commit per version) from the versions the server returns. Exit codes as for ``jobs``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from netfleet.cli.backend import Backend, DbOption, TokenOption, UrlOption, call
from netfleet.cli.common import (
    FilterOption,
    GroupsOption,
    OutputOption,
    WaitTimeoutOption,
    check_output,
    console,
    fail,
    print_json,
    when,
)
from netfleet.cli.jobs_cmd import wait_for
from netfleet.cli.remote import EXIT_FAILED, seg
from netfleet.cli.safe_text import clean, escape
from netfleet.configs.gitexport import ConfigExport, GitExport
from netfleet.core.errors import GitExportError

backup_app = typer.Typer(help="Configuration backups: run, history, diffs, search.")
DeviceArg = Annotated[str, typer.Argument(help="Device name.")]


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup", no_args_is_help=True)


@backup_app.command("run")
def run(
    devices: Annotated[list[str] | None, typer.Argument(help="Devices to back up.")] = None,
    device: Annotated[
        list[str], typer.Option("-d", "--device", help="A device (as with jobs submit).")
    ] = [],  # noqa: B006
    group: GroupsOption = [],  # noqa: B006
    filter_: FilterOption = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait and print each device's result.")
    ] = False,
    wait_timeout: WaitTimeoutOption = None,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Back up the configuration of the devices (a job; --wait prints the results)."""
    check_output(output)
    names = [*(devices or []), *device]
    if not (names or group or filter_):
        raise fail("name the targets: DEVICE... (or -d DEVICE), -g GROUP and/or --filter EXPR")
    targets: dict[str, Any] = {"devices": names, "groups": group}
    if filter_:
        targets["filter"] = filter_

    def go(remote: Backend) -> Any:
        job = remote.post("/backups", {"targets": targets})
        if not wait:
            return job
        if output == "table":
            typer.echo(f"job {job['id']}: backing up {job['counts']['total']} device(s) ...")
        return wait_for(remote, int(job["id"]), wait_timeout)

    job = call(url, token, db, go)
    if output == "json":
        print_json(job)
    elif not wait:
        typer.echo(f"job {job['id']}: backing up {job['counts']['total']} device(s)")
    else:
        for task in job["tasks"]:
            results = task.get("results") or []
            detail = task.get("error") or (results[0]["output"] if results else "")
            typer.echo(f"{clean(task['device'])}: {task['state']}: {clean(detail)}")
    if wait and job["state"] != "succeeded":
        raise typer.Exit(EXIT_FAILED)


@backup_app.command("history")
def history(
    device: DeviceArg,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000)] = 50,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """A device's configuration versions, newest first."""
    check_output(output)
    page = call(url, token, db, lambda r: r.get(f"/devices/{seg(device)}/configs", limit=limit))
    if output == "json":
        print_json(page)
        return
    from rich.table import Table

    table = Table("version", "created (UTC)", "size", "+", "-", "job", "sha256")
    for v in page["items"]:
        table.add_row(
            str(v["version"]),
            when(v["created_at"]),
            str(v["size"]),
            str(v["added"]),
            str(v["removed"]),
            str(v["job_id"] or "-"),
            v["sha256"][:12],
        )
    console().print(table)


@backup_app.command("show")
def show(
    device: DeviceArg,
    version: Annotated[str, typer.Argument(help="Version number or 'latest'.")] = "latest",
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Print one configuration version (default: the latest)."""
    check_output(output)
    found = call(url, token, db, lambda r: r.get(f"/devices/{seg(device)}/configs/{seg(version)}"))
    if output == "json":
        print_json(found)
        return
    text = clean(found["text"])
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@backup_app.command("diff")
def diff(
    device: DeviceArg,
    from_: Annotated[str | None, typer.Argument(metavar="FROM", help="Older version.")] = None,
    to: Annotated[str | None, typer.Argument(help="Newer version (default: latest).")] = None,
    hierarchical: Annotated[
        bool, typer.Option("--hierarchical", help="Changed lines under their parents.")
    ] = False,
    color: Annotated[
        bool | None, typer.Option("--color/--no-color", help="Default: on a terminal.")
    ] = None,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """The diff between two versions (default: the latest against the one before)."""
    check_output(output)
    params: dict[str, Any] = {"format": "hierarchical" if hierarchical else "unified"}
    if from_ is not None:
        params["from"] = from_
    if to is not None:
        params["to"] = to
    found = call(url, token, db, lambda r: r.get(f"/devices/{seg(device)}/configs/diff", **params))
    if output == "json":
        print_json(found)
        return
    colour = sys.stdout.isatty() if color is None else color
    if found["from"] == found["to"] and from_ is None:
        typer.echo(
            f"{clean(device)}: version {found['to']} is the oldest stored; nothing before it"
        )
        return
    if not found["diff"]:
        typer.echo(f"{clean(device)}: versions {found['from']} and {found['to']} do not differ")
        return
    for line in found["diff"].splitlines():
        text = clean(line)
        if colour and line.startswith(("+++", "---")):
            text = typer.style(text, bold=True)
        elif colour and line.startswith("+"):
            text = typer.style(text, fg="green")
        elif colour and line.startswith("-"):
            text = typer.style(text, fg="red")
        elif colour and line.startswith("@@"):
            text = typer.style(text, fg="cyan")
        typer.echo(text, color=colour)


@backup_app.command("grep")
def grep(
    pattern: Annotated[str, typer.Argument(help="Substring (or with -E an RE2 regex).")],
    regex: Annotated[bool, typer.Option("-E", "--regex", help="PATTERN is a regex.")] = False,
    device: Annotated[list[str], typer.Option("-d", "--device", help="Only these.")] = [],  # noqa: B006
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, max=100_000)] = None,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Search the latest configurations of all devices: device, line number, line."""
    check_output(output)
    params: dict[str, Any] = {"q": pattern, "regex": "true" if regex else "false"}
    if device:
        params["device"] = device
    if limit is not None:
        params["limit"] = limit
    found = call(url, token, db, lambda r: r.get("/configs/search", **params))
    if output == "json":
        print_json(found)
        return
    for hit in found["items"]:
        typer.echo(f"{clean(hit['device'])}:{hit['line']}:{clean(hit['text'])}")
    if found["truncated"]:
        typer.echo(f"(only the first {len(found['items'])} matches shown)", err=True)
    if not found["items"]:
        raise typer.Exit(EXIT_FAILED)


@backup_app.command("status")
def status(
    all_: Annotated[bool, typer.Option("--all", help="List healthy devices too.")] = False,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Devices whose last backup failed, is stale, or never ran."""
    check_output(output)
    found = call(
        url, token, db, lambda r: r.get("/backups/status", all="true" if all_ else "false")
    )
    if output == "json":
        print_json(found)
        return
    counts = found["counts"]
    typer.echo(
        f"{counts['ok']} ok, {counts['failed']} failed, {counts['stale']} stale, "
        f"{counts['never']} never backed up (stale after {found['stale_after_s'] / 3600:g} h)"
    )
    if not found["items"]:
        return
    from rich.table import Table

    table = Table("device", "status", "last good (UTC)", "version", "error")
    for item in found["items"]:
        table.add_row(
            escape(item["device"]),
            item["status"],
            when(item["last_ok_at"]),
            str(item["latest_version"] or "-"),
            escape(item["error"] or ""),
        )
    console().print(table)


def _export_device(remote: Backend, repo: GitExport, device: str) -> int:
    """Commit the versions of ``device`` that the repository does not have yet."""
    versions: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if cursor is not None:
            params["cursor"] = cursor
        page = remote.get(f"/devices/{seg(device)}/configs", **params)
        versions.extend(page["items"])
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    current = repo.current(device)
    texts: list[tuple[dict[str, Any], str]] = []
    for v in versions:  # newest first: stop at the version the repository has
        text = remote.get(f"/devices/{seg(device)}/configs/{v['version']}")["text"]
        if text == current:
            break
        texts.append((v, text))
    items = [
        ConfigExport(
            device=device,
            text=text,
            author="netfleet backup",
            message=f"{device}: configuration version {v['version']}",
            job=None if v["job_id"] is None else str(v["job_id"]),
            when=v["created_at"],
        )
        for v, text in reversed(texts)
    ]
    return len(repo.export(items))


@backup_app.command("export-git")
def export_git(
    directory: Annotated[Path, typer.Argument(help="Git repository (created if missing).")],
    device: Annotated[list[str], typer.Option("-d", "--device", help="Only these.")] = [],  # noqa: B006
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Write every device's versions into a git repository (one commit per version);
    run again later to add only the new ones."""
    check_output(output)

    def go(remote: Backend) -> dict[str, int]:
        names = device or [
            item["device"]
            for item in remote.get("/backups/status", all="true")["items"]
            if item["latest_version"] is not None
        ]
        try:
            with GitExport(directory) as repo:
                made = {name: _export_device(remote, repo, name) for name in names}
        except GitExportError as exc:
            raise fail(exc.message) from None
        return made

    made = call(url, token, db, go)
    if output == "json":
        print_json({"directory": str(directory), "commits": made})
        return
    total = sum(made.values())
    typer.echo(f"{directory}: {total} commit(s) for {len(made)} device(s)")
