"""``netfleet worker``: claim and run queued tasks until SIGTERM/SIGINT.

Exit codes: 0 after a clean shutdown (first signal: drain; second: stop now),
2 for bad settings or options (a malformed ``--db`` URL included), 3 when the
database cannot be opened or fails for good.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from netfleet.core.settings import Settings
    from netfleet.worker.service import ServeOptions

EXIT_BAD_INPUT = 2
EXIT_STORE = 3


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        db: Annotated[
            str | None,
            typer.Option("--db", help="Database URL (default: the database.url setting)."),
        ] = None,
        concurrency: Annotated[
            int | None,
            typer.Option("--concurrency", "-c", min=1, help="Tasks run at once."),
        ] = None,
        no_scheduler: Annotated[
            bool,
            typer.Option("--no-scheduler", help="Do not fire schedules in this worker."),
        ] = False,
        worker_id: Annotated[
            str | None,
            typer.Option("--id", help="Worker id (default: host-pid-random)."),
        ] = None,
    ) -> None:
        """Run a worker: claim queued tasks, run them on pooled sessions, report results."""
        from netfleet.core.errors import ConfigurationError, InputError, NetfleetError
        from netfleet.core.logging import configure_logging
        from netfleet.core.settings import load_settings
        from netfleet.worker.service import ServeOptions

        try:
            settings = load_settings()
        except ConfigurationError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if db:
            settings.database.url = db
        configure_logging(settings.log)
        options = ServeOptions(
            concurrency=concurrency,
            scheduler=False if no_scheduler else None,
            worker_id=worker_id,
        )
        try:
            asyncio.run(_main(settings, options))
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except NetfleetError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_STORE) from None


async def _main(settings: Settings, options: ServeOptions) -> None:
    from netfleet.store import open_store
    from netfleet.worker.service import serve

    store = await open_store(settings.database.url, settings=settings)
    try:
        await serve(store, settings, options)
    finally:
        await store.close()
