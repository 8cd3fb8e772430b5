"""``netfleet credentials list|add|delete|group-default``: login credentials stored on a
running server, and the groups' default credentials.

Secrets never go on the command line (where ``ps`` and shell history would see
them): the password is prompted for with hidden input, or read from stdin
(``--password-stdin``) or from an environment variable (``--password-env VAR``);
the enable secret likewise (``--ask-enable-secret``, ``--enable-secret-env``).
The store keeps them encrypted and never returns them. On a server (``--url``/
``--token``, the default) or on the database (``--db``), through ``netfleet.cli.backend``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from netfleet.cli.backend import DbOption, TokenOption, UrlOption, call
from netfleet.cli.common import OutputOption, check_output, console, fail, print_json, when
from netfleet.cli.remote import seg
from netfleet.cli.safe_text import escape

credentials_app = typer.Typer(
    help="Login credentials stored (encrypted) on a netfleet server.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(credentials_app, name="credentials")


@credentials_app.command("list")
def list_(
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """List credentials: names, usernames and which secrets are set (never the secrets)."""
    check_output(output)
    items = call(url, token, db, lambda r: r.get("/credentials"))["items"]
    if output == "json":
        print_json(items)
        return
    table = Table("name", "username", "password", "private key", "enable secret", "updated (UTC)")
    for c in items:
        table.add_row(
            escape(c["name"]),
            escape(c["username"]),
            "set" if c["has_password"] else "-",
            "set" if c["has_private_key"] else ("agent" if c["use_agent"] else "-"),
            "set" if c["has_enable_secret"] else "-",
            when(c["updated_at"]),
        )
    console().print(table)


def _from_env(var: str, option: str) -> str:
    value = os.environ.get(var)
    if not value:
        raise fail(f"{option} {var}: the environment variable is not set or empty")
    return value


def _prompt(label: str) -> str:
    if not sys.stdin.isatty():
        raise fail(
            f"{label}: no terminal to ask on; use --password-stdin or --password-env VAR"
            if label == "password"
            else f"{label}: no terminal to ask on; use --enable-secret-env VAR"
        )
    value: str = typer.prompt(label.capitalize(), hide_input=True, confirmation_prompt=True)
    return value


def read_secrets(
    *,
    password_stdin: bool,
    password_env: str | None,
    no_password: bool,
    ask_enable_secret: bool,
    enable_secret_env: str | None,
) -> dict[str, str]:
    """The secrets to send, from stdin, the environment or hidden prompts."""
    if sum((password_stdin, password_env is not None, no_password)) > 1:
        raise fail("choose one of --password-stdin, --password-env and --no-password")
    if ask_enable_secret and enable_secret_env:
        raise fail("choose one of --ask-enable-secret and --enable-secret-env")
    out: dict[str, str] = {}
    if password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise fail("--password-stdin: stdin is empty")
        out["password"] = line
    elif password_env is not None:
        out["password"] = _from_env(password_env, "--password-env")
    elif not no_password:
        out["password"] = _prompt("password")
    if enable_secret_env:
        out["enable_secret"] = _from_env(enable_secret_env, "--enable-secret-env")
    elif ask_enable_secret:
        out["enable_secret"] = _prompt("enable secret")
    return out


@credentials_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. lab-admin.")],
    username: Annotated[str, typer.Option("--username", "-u", help="Login user.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
    password_env: Annotated[
        str | None, typer.Option("--password-env", help="Read the password from this variable.")
    ] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Key or agent authentication only.")
    ] = False,
    ask_enable_secret: Annotated[
        bool, typer.Option("--ask-enable-secret", help="Prompt for an enable secret.")
    ] = False,
    enable_secret_env: Annotated[
        str | None, typer.Option("--enable-secret-env", help="Enable secret from this variable.")
    ] = None,
    private_key_file: Annotated[
        Path | None, typer.Option("--private-key-file", help="An OpenSSH/PEM private key file.")
    ] = None,
    use_agent: Annotated[bool, typer.Option("--use-agent", help="Use the SSH agent.")] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace (rotate) an existing credential.")
    ] = False,
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Store a credential; devices refer to it by name (password prompted, hidden)."""
    body: dict[str, Any] = {"username": username, "use_agent": use_agent}
    if private_key_file is not None:
        try:
            body["private_key"] = private_key_file.expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"--private-key-file {private_key_file}: cannot read: {exc}") from None
    # With a key file, the password is optional: only asked for with an explicit option.
    key_only = private_key_file is not None and not password_stdin and password_env is None
    body.update(
        read_secrets(
            password_stdin=password_stdin,
            password_env=password_env,
            no_password=no_password or key_only or (use_agent and not password_stdin),
            ask_enable_secret=ask_enable_secret,
            enable_secret_env=enable_secret_env,
        )
    )
    record = call(
        url,
        token,
        db,
        lambda r: (
            r.put(f"/credentials/{seg(name)}", body)
            if replace
            else r.post("/credentials", {"name": name, **body})
        ),
    )
    secrets = [
        label
        for label, key in (
            ("password", "has_password"),
            ("private key", "has_private_key"),
            ("enable secret", "has_enable_secret"),
        )
        if record[key]
    ]
    verb = "replaced" if replace else "stored"
    typer.echo(
        f"{verb} credential {record['name']} (user {record['username']}; "
        f"{', '.join(secrets) or 'no secrets'})"
    )


@credentials_app.command("delete")
def delete(
    name: Annotated[str, typer.Argument(help="Credential name.")],
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """Delete a credential (not while a device uses it)."""
    call(url, token, db, lambda r: r.delete(f"/credentials/{seg(name)}"))
    typer.echo(f"deleted credential {name}")


@credentials_app.command("group-default")
def group_default(
    group: Annotated[str | None, typer.Argument(help="Group name (none: list defaults).")] = None,
    credential: Annotated[
        str | None, typer.Argument(help="Stored credential to make the group's default.")
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Remove the group's default credential.")
    ] = False,
    output: OutputOption = "table",
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = None,
) -> None:
    """A group's default credential: used by its devices that name none of their own
    (a device in several groups: the first of its groups with a default)."""
    check_output(output)
    if group is None:
        if remove or credential is not None:
            raise fail("name the group")
        items = call(url, token, db, lambda r: r.get("/group-credentials"))["items"]
        if output == "json":
            print_json(items)
            return
        table = Table("group", "credential", "username", "devices", "updated (UTC)")
        for g in items:
            table.add_row(
                escape(g["group"]),
                escape(g["credential"]),
                escape(g["username"]),
                str(g["devices"]),
                when(g["updated_at"]),
            )
        console().print(table)
        return
    if remove:
        if credential is not None:
            raise fail("--remove takes the group only")
        call(url, token, db, lambda r: r.delete(f"/group-credentials/{seg(group)}"))
        typer.echo(f"removed the default credential of group {group}")
        return
    if credential is None:
        raise fail("name the credential (or --remove)")
    body = {"credential": credential}
    record = call(url, token, db, lambda r: r.put(f"/group-credentials/{seg(group)}", body))
    if output == "json":
        print_json(record)
        return
    typer.echo(
        f"group {record['group']}: default credential {record['credential']} "
        f"(user {record['username']}; {record['devices']} device(s) in the group)"
    )
