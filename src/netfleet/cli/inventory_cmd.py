"""``netfleet inventory import FILE``: load an inventory into the store.

Exit codes: 0 when every device was stored, 1 when some rows failed (the
report lists them), 2 for a bad file or settings, 3 when the database fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from netfleet.cli.local_store import DbOption, fail, run_on_store
from netfleet.core.errors import NetfleetError

EXIT_ROWS_FAILED = 1


def register(app: typer.Typer) -> None:
    inventory = typer.Typer(help="Manage the device inventory in the store.", no_args_is_help=True)
    app.add_typer(inventory, name="inventory")

    @inventory.command("import")
    def import_cmd(
        file: Annotated[
            Path, typer.Argument(help="netfleet/simulator YAML, or a Nornir hosts.yaml/dir.")
        ],
        db: DbOption = None,
        quiet: Annotated[
            bool, typer.Option("--quiet", "-q", help="Print the summary only.")
        ] = False,
    ) -> None:
        """Create or update the devices (and their credentials) of FILE in the store."""
        from netfleet.core.inventory import load_inventory

        try:
            devices = load_inventory(file).devices  # a bad file fails before the database opens
        except NetfleetError as exc:
            raise fail(exc) from None
        rows = run_on_store(db, lambda store: store.devices.import_many(devices)).rows
        counts = {
            a: sum(1 for r in rows if r.action == a)
            for a in ("created", "updated", "unchanged", "error")
        }
        for row in rows:
            if row.action == "error":
                typer.echo(f"error: {_row_error(row.name, row.error or '')}", err=True)
            elif not quiet:
                typer.echo(f"{row.action:9} {row.name}")
        typer.echo(
            f"{len(rows)} device(s): {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['error']} failed"
        )
        if counts["error"]:
            raise typer.Exit(EXIT_ROWS_FAILED)


def _row_error(name: str, error: str) -> str:
    """The row's error, naming the device once."""
    return error if name in error else f"{name}: {error}"
