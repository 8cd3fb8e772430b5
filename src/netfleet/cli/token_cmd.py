"""``netfleet token create|list|revoke``: API tokens, on the database or a server.

``--url``/``--token`` with an admin token (also from ``NETFLEET_URL``/``NETFLEET_TOKEN``
or the CLI config file), or else ``--db`` (the default: the ``database.url`` setting; see
``netfleet.cli.backend``). Exit codes: 0 on success, 2 for bad
input (unknown role, duplicate name, unknown token), 3 when the database cannot be
opened, 1 when the server cannot be reached.
"""

from __future__ import annotations

from typing import Annotated

import typer

from netfleet.cli.backend import DbOption, TokenOption, UrlOption, call
from netfleet.cli.remote import seg

token_app = typer.Typer(
    help="Manage API tokens (on a server with --url or NETFLEET_URL, or the database).",
    no_args_is_help=True,
)


@token_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. ci-bot.")],
    role: Annotated[str, typer.Option("--role", help="viewer, operator or admin.")] = "viewer",
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Create a token and print it (it is shown only this once)."""
    body = {"name": name, "role": role}
    created = call(url, token, db, lambda b: b.post("/tokens", body), default="local")
    typer.echo(created["token"])
    typer.echo(f"created token {created['name']!r} with role {created['role']}", err=True)


@token_app.command("list")
def list_(db: DbOption = None, url: UrlOption = None, token: TokenOption = None) -> None:
    """List tokens (names, roles, last use; never the tokens)."""
    records = call(url, token, db, lambda b: b.get("/tokens"), default="local")["items"]
    typer.echo(f"{'NAME':<24} {'ROLE':<9} {'STATE':<8} LAST USED")
    for r in records:
        state = "revoked" if r["revoked"] else "active"
        used = "-" if r["last_used_at"] is None else _when(r["last_used_at"])
        typer.echo(f"{r['name']:<24} {r['role']:<9} {state:<8} {used}")


@token_app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    db: DbOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
) -> None:
    """Revoke a token: it stops working at once (within seconds on a running server)."""
    call(url, token, db, lambda b: b.delete(f"/tokens/{seg(name)}"), default="local")
    typer.echo(f"revoked token {name!r}")


def _when(epoch: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
