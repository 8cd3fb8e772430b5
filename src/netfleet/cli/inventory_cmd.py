"""``netfleet inventory import FILE``: load an inventory into the store.

Exit codes: 0 when every device was stored, 1 when some rows failed (the
report lists them), 2 for a bad file or settings, 3 when the database fails.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from netfleet.store.interface import ImportRow

EXIT_ROWS_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_STORE = 3


def register(app: typer.Typer) -> None:
    inventory = typer.Typer(help="Manage the device inventory in the store.", no_args_is_help=True)
    app.add_typer(inventory, name="inventory")

    @inventory.command("import")
    def import_cmd(
        file: Annotated[
            Path, typer.Argument(help="netfleet/simulator YAML, or a Nornir hosts.yaml/dir.")
        ],
        db: Annotated[
            str | None,
            typer.Option("--db", help="Database URL (default: the database.url setting)."),
        ] = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="Print the summary only.")
        ] = False,
    ) -> None:
        """Create or update the devices (and their credentials) of FILE in the store."""
        from netfleet.core.errors import InputError, NetfleetError

        try:
            rows = asyncio.run(_import(file, db))
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except NetfleetError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_STORE) from None
        counts = {
            a: sum(1 for r in rows if r.action == a)
            for a in ("created", "updated", "unchanged", "error")
        }
        for row in rows:
            if row.action == "error":
                typer.echo(f"error: {row.name}: {row.error}", err=True)
            elif not quiet:
                typer.echo(f"{row.action:9} {row.name}")
        typer.echo(
            f"{len(rows)} device(s): {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['error']} failed"
        )
        if counts["error"]:
            raise typer.Exit(EXIT_ROWS_FAILED)


async def _import(file: Path, db: str | None) -> list[ImportRow]:
    from netfleet.client import Netfleet
    from netfleet.core.settings import load_settings

    settings = load_settings()
    async with Netfleet(db, settings=settings) as nf:
        report = await nf.import_inventory(file)
    return list(report.rows)
