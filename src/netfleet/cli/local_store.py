"""Commands that work directly on the database (``--db``): open it, run, close it.

Every error prints one ``error:`` line. Exit codes: 2 for bad input (including an
unknown or duplicate name), 3 when the database cannot be opened or used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from netfleet.core.errors import Conflict, InputError, NetfleetError, NotFound

if TYPE_CHECKING:
    from netfleet.core.settings import Settings
    from netfleet.store import SqlStore

EXIT_BAD_INPUT = 2
EXIT_STORE = 3
T = TypeVar("T")

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: the database.url setting).")
]


def fail(exc: NetfleetError) -> typer.Exit:
    """Print ``exc`` as one line; the exit for its kind (2 bad input, 3 the database)."""
    typer.echo(f"error: {exc}", err=True)
    bad_input = isinstance(exc, InputError | NotFound | Conflict)
    return typer.Exit(EXIT_BAD_INPUT if bad_input else EXIT_STORE)


def run_on_store(
    db: str | None, fn: Callable[[SqlStore], Awaitable[T]], *, settings: Settings | None = None
) -> T:
    """Run ``fn`` on the database ``db`` (default: the ``database.url`` setting of
    ``settings``, loaded when not given)."""
    from netfleet.core.settings import load_settings
    from netfleet.store import open_store

    async def main() -> T:
        loaded = settings or load_settings()
        store = await open_store(db or loaded.database.url, settings=loaded)
        try:
            return await fn(store)
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except NetfleetError as exc:
        raise fail(exc) from None
