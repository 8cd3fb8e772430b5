"""``netfleet token create|list|revoke``: API tokens, directly on the database.

Exit codes: 0 on success, 2 for bad input (unknown role, duplicate name, unknown
token), 3 when the database cannot be opened.
"""

from __future__ import annotations

from typing import Annotated

import typer

from netfleet.cli.local_store import DbOption, run_on_store

token_app = typer.Typer(help="Manage API tokens (directly on the database).", no_args_is_help=True)


@token_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. ci-bot.")],
    role: Annotated[str, typer.Option("--role", help="viewer, operator or admin.")] = "viewer",
    db: DbOption = None,
) -> None:
    """Create a token and print it (it is shown only this once)."""
    record, token = run_on_store(db, lambda store: store.tokens.create(name, role))
    typer.echo(token)
    typer.echo(f"created token {record.name!r} with role {record.role}", err=True)


@token_app.command("list")
def list_(db: DbOption = None) -> None:
    """List tokens (names, roles, last use; never the tokens)."""
    records = run_on_store(db, lambda store: store.tokens.list())
    typer.echo(f"{'NAME':<24} {'ROLE':<9} {'STATE':<8} LAST USED")
    for r in records:
        state = "revoked" if r.revoked_at is not None else "active"
        used = "-" if r.last_used_at is None else _when(r.last_used_at)
        typer.echo(f"{r.name:<24} {r.role:<9} {state:<8} {used}")


@token_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    db: DbOption = None,
) -> None:
    """Revoke a token: it stops working at once (within seconds on a running server)."""
    run_on_store(db, lambda store: store.tokens.revoke(name))
    typer.echo(f"revoked token {name!r}")


def _when(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
