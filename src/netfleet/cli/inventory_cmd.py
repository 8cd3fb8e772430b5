"""``netfleet inventory import FILE``: load an inventory into the store;
``netfleet inventory sync NAME``: sync a NetBox/Nautobot source now (and
``source-add``, ``sources``, ``source-delete`` to manage them; see
``netfleet.api.routes_sources``).

``--db`` (the default: the ``database.url`` setting) or ``--url``/``--token`` (see
``netfleet.cli.backend``); the file is checked here first, then imported like
``netfleet devices import``. Exit codes: 0 when every device was stored, 1 when some
rows failed (the report lists them), 2 for a bad file or settings, 3 when the
database fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netfleet.cli.backend import DbOption, TokenOption, UrlOption, call, fail
from netfleet.core.errors import NetfleetError

EXIT_ROWS_FAILED = 1


def register(app: typer.Typer) -> None:
    inventory = typer.Typer(help="Manage the device inventory in the store.", no_args_is_help=True)
    app.add_typer(inventory, name="inventory")
    register_sources(inventory)

    @inventory.command("import")
    def import_cmd(
        file: Annotated[
            Path, typer.Argument(help="netfleet/simulator YAML, or a Nornir hosts.yaml/dir.")
        ],
        db: DbOption = None,
        url: UrlOption = None,
        token: TokenOption = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="Print the summary only.")
        ] = False,
    ) -> None:
        """Create or update the devices (and their credentials) of FILE in the store."""
        from netfleet.cli.devices_cmd import import_body
        from netfleet.core.inventory import load_inventory

        try:
            load_inventory(file)  # a bad file fails before the database opens
        except NetfleetError as exc:
            raise fail(exc) from None
        body = import_body(file, None)
        result = call(url, token, db, lambda b: b.post("/devices/import", body), default="local")
        rows = result["rows"]
        counts = {
            a: sum(1 for r in rows if r["action"] == a)
            for a in ("created", "updated", "unchanged", "error")
        }
        for row in rows:
            if row["action"] == "error":
                typer.echo(f"error: {_row_error(row['name'], row['error'] or '')}", err=True)
            elif not quiet:
                typer.echo(f"{row['action']:9} {row['name']}")
        typer.echo(
            f"{len(rows)} device(s): {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['error']} failed"
        )
        if counts["error"]:
            raise typer.Exit(EXIT_ROWS_FAILED)


def register_sources(inventory: typer.Typer) -> None:
    """The NetBox/Nautobot source commands under ``netfleet inventory``."""

    @inventory.command("sync")
    def sync_cmd(
        name: Annotated[str, typer.Argument(help="Source name.")],
        db: DbOption = None,
        url: UrlOption = None,
        token: TokenOption = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Summary only.")] = False,
    ) -> None:
        """Sync source NAME now: print what was added, updated, disabled and skipped, and why.
        Exit 1 when the source could not be read (nothing was changed)."""
        from netfleet.cli.remote import seg

        path = f"/inventory/sources/{seg(name)}/sync"
        report = call(url, token, db, lambda b: b.post(path, {}), default="local")
        if not report["ok"]:
            typer.echo(f"error: {report['error']}", err=True)
            raise typer.Exit(EXIT_ROWS_FAILED)
        if not quiet:
            for action in ("added", "updated", "removed", "skipped"):
                for row in report[action]:
                    typer.echo(f"{action:8} {row['name']}: {row['reason']}")
        typer.echo(f"{name}: {report['summary']} ({report['requests']} request(s))")

    @inventory.command("sources")
    def sources_cmd(db: DbOption = None, url: UrlOption = None, token: TokenOption = None) -> None:
        """List the inventory sources (tokens are never shown)."""
        items = call(url, token, db, lambda b: b.get("/inventory/sources"), default="local")
        for s in items["items"]:
            every = f"every {s['interval_seconds']:.0f}s" if s["interval_seconds"] else "on demand"
            typer.echo(f"{s['name']:20} {s['kind']:9} {s['config']['url']}  {every}")

    @inventory.command("source-add")
    def source_add_cmd(
        name: Annotated[str, typer.Argument(help="Source name.")],
        source_url: Annotated[str, typer.Option("--source-url", help="NetBox/Nautobot URL.")],
        api_token: Annotated[
            str, typer.Option("--api-token", help="A secret reference (env:NAME) or the token.")
        ],
        kind: Annotated[str, typer.Option(help="netbox or nautobot.")] = "netbox",
        site: Annotated[list[str], typer.Option(help="Filter (repeat).")] = [],  # noqa: B006
        role: Annotated[list[str], typer.Option(help="Filter (repeat).")] = [],  # noqa: B006
        tag: Annotated[list[str], typer.Option(help="Filter (repeat).")] = [],  # noqa: B006
        status: Annotated[list[str], typer.Option(help="Filter (repeat).")] = [],  # noqa: B006
        platform_map: Annotated[list[str], typer.Option(help="SLUG=PLATFORM (repeat).")] = [],  # noqa: B006
        credential: Annotated[
            list[str], typer.Option(help="Stored credential for new devices (repeat).")
        ] = [],  # noqa: B006
        interval: Annotated[
            float | None, typer.Option(help="Also sync every this many seconds.")
        ] = None,
        db: DbOption = None,
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        """Add a NetBox or Nautobot source."""
        mapping = dict(item.partition("=")[::2] for item in platform_map)
        body = {
            "name": name,
            "kind": kind,
            "url": source_url,
            "token": api_token,
            "filters": {"site": site, "role": role, "tag": tag, "status": status},
            "platform_map": mapping,
            "credentials": credential,
            "interval_seconds": interval,
        }
        call(url, token, db, lambda b: b.post("/inventory/sources", body), default="local")
        typer.echo(f"source {name} added; run `netfleet inventory sync {name}`")

    @inventory.command("source-delete")
    def source_delete_cmd(
        name: Annotated[str, typer.Argument(help="Source name.")],
        db: DbOption = None,
        url: UrlOption = None,
        token: TokenOption = None,
    ) -> None:
        """Delete a source; its devices stay, managed by hand."""
        from netfleet.cli.remote import seg

        call(url, token, db, lambda b: b.delete(f"/inventory/sources/{seg(name)}"), default="local")
        typer.echo(f"deleted source {name}")


def _row_error(name: str, error: str) -> str:
    """The row's error, naming the device once."""
    return error if name in error else f"{name}: {error}"
