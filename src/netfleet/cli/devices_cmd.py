"""``netfleet devices list|show|add|delete|import``: the inventory, on a server or the database.

On a server (``--url``/``--token``, the default) or on the database (``--db``),
through ``netfleet.cli.backend``. Exit codes: 0 on success, 2 for bad input or a
request refused, 1 otherwise (and for an import with failed rows), 3 when the database
fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from netfleet.cli.backend import Backend, DbOption, TokenOption, UrlOption, call
from netfleet.cli.common import OutputOption, check_output, console, fail, print_json, when
from netfleet.cli.remote import EXIT_FAILED, seg
from netfleet.cli.safe_text import escape

devices_app = typer.Typer(help="Devices stored on a netfleet server.", no_args_is_help=True)
NameArg = Annotated[str, typer.Argument(help="Device name.")]


def register(app: typer.Typer) -> None:
    app.add_typer(devices_app, name="devices")


def all_devices(remote: Backend, limit: int, **filters: Any) -> list[dict[str, Any]]:
    """Up to ``limit`` devices, following the server's pages."""
    items: list[dict[str, Any]] = []
    cursor: int | None = None
    while len(items) < limit:
        page = remote.get("/devices", limit=min(1000, limit - len(items)), cursor=cursor, **filters)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return items


@devices_app.command("list")
def list_(
    group: Annotated[list[str], typer.Option("-g", "--group", help="Member of.")] = [],  # noqa: B006
    tag: Annotated[list[str], typer.Option("--tag", help="Tagged with.")] = [],  # noqa: B006
    platform: Annotated[str | None, typer.Option("--platform")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Glob, e.g. 'edge-*'.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1_000_000)] = 1000,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """List devices by name."""
    check_output(output)
    items = call(
        url,
        token,
        db,
        lambda r: all_devices(
            r, limit, group=group or None, tag=tag or None, platform=platform, name=name
        ),
    )
    if output == "json":
        print_json(items)
        return
    table = Table("name", "platform", "address", "groups", "tags", "credentials")
    for d in items:
        table.add_row(
            escape(d["name"]),
            d["platform"],
            f"{d['host']}:{d['port']}",
            escape(", ".join(d["groups"])),
            escape(", ".join(d["tags"])),
            escape(", ".join(d["credentials"])),
        )
    table.caption = f"{len(items)} device(s)"
    console().print(table)


@devices_app.command("show")
def show(
    name: NameArg,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Show one device (credential names and usernames only, never secrets)."""
    check_output(output)
    device = call(url, token, db, lambda r: r.get(f"/devices/{seg(name)}"))
    if output == "json":
        print_json(device)
        return
    table = Table(show_header=False, title=f"device {escape(name)}")
    for key, value in device.items():
        if key.endswith("_at") and isinstance(value, (int, float)):
            value = when(value) + " UTC"
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        table.add_row(key, escape("-" if value is None or value == "" else str(value)))
    console().print(table)


@devices_app.command("add")
def add(
    name: NameArg,
    host: Annotated[str, typer.Option("--host", help="Address or DNS name.")],
    platform: Annotated[str, typer.Option("--platform", help="e.g. cisco_ios, arista_eos.")],
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 22,
    credential: Annotated[
        list[str], typer.Option("--credential", help="Stored credential name (in order).")
    ] = [],  # noqa: B006
    group: Annotated[list[str], typer.Option("-g", "--group")] = [],  # noqa: B006
    tag: Annotated[list[str], typer.Option("--tag")] = [],  # noqa: B006
    max_sessions: Annotated[int, typer.Option("--max-sessions", min=1, max=10_000)] = 2,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace the device if it exists.")
    ] = False,
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Add a device (credentials by name: see `netfleet credentials add`)."""
    body: dict[str, Any] = {
        "host": host,
        "port": port,
        "platform": platform,
        "credentials": credential,
        "groups": group,
        "tags": tag,
        "max_sessions": max_sessions,
    }

    def go(r: Backend) -> Any:
        if replace:
            return r.put(f"/devices/{seg(name)}", body)
        return r.post("/devices", {"name": name, **body})

    device = call(url, token, db, go)
    typer.echo(
        f"device {device['name']}: {device['platform']} at {device['host']}:{device['port']}"
    )


@devices_app.command("delete")
def delete(
    name: NameArg, url: UrlOption = None, token: TokenOption = None, db: DbOption = None
) -> None:
    """Delete a device (not while it has queued or running tasks)."""
    call(url, token, db, lambda r: r.delete(f"/devices/{seg(name)}"))
    typer.echo(f"deleted device {name}")


def import_body(file: Path, fmt: str | None) -> dict[str, Any]:
    """The ``POST /devices/import`` body for a netfleet YAML, Nornir inventory or CSV file."""
    path = file.expanduser()
    if fmt is None:
        if path.is_dir() or path.name in ("hosts.yaml", "hosts.yml"):
            fmt = "nornir"
        elif path.suffix.lower() == ".csv":
            fmt = "csv"
        else:
            fmt = "netfleet"
    if fmt not in ("netfleet", "nornir", "csv"):
        raise fail(f"--format {fmt!r}: expected netfleet, nornir or csv")

    def read(p: Path, required: bool = True) -> str | None:
        try:
            return p.read_text(encoding="utf-8")
        except FileNotFoundError:
            if required:
                raise fail(f"{p}: file not found") from None
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"{p}: cannot read: {exc}") from None

    if fmt == "netfleet":
        return {"format": fmt, "text": read(path), "filename": str(file)}
    if fmt == "csv":
        return {"format": fmt, "text": read(path)}
    folder = path if path.is_dir() else path.parent
    hosts = path / "hosts.yaml" if path.is_dir() else path
    return {
        "format": "nornir",
        "hosts": read(hosts),
        "groups": read(folder / "groups.yaml", required=False),
        "defaults": read(folder / "defaults.yaml", required=False),
    }


@devices_app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="netfleet YAML, Nornir hosts.yaml/dir or CSV.")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="netfleet | nornir | csv (default: guessed).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print the summary only.")] = False,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Create or update the devices of FILE (with their credentials) on the server."""
    check_output(output)
    body = import_body(file, fmt)
    result = call(url, token, db, lambda r: r.post("/devices/import", body))
    if output == "json":
        print_json(result)
    else:
        for row in result["rows"]:
            if row["action"] == "error":
                typer.echo(f"error: {row['name']}: {row['error']}", err=True)
            elif not quiet:
                typer.echo(f"{row['action']:9} {row['name']}")
        typer.echo(
            f"{len(result['rows'])} device(s): {result['created']} created, "
            f"{result['updated']} updated, {result['unchanged']} unchanged, "
            f"{result['errors']} failed"
        )
    if result["errors"]:
        raise typer.Exit(EXIT_FAILED)
