"""``netfleet worker``: claim and run queued tasks until SIGTERM/SIGINT.

Exit codes: 0 after a clean shutdown (first signal: drain; second: stop now),
2 for bad settings or options (a malformed ``--db`` URL included), 3 when the
database fails for good. A worker started while its database is unreachable
waits for it (retrying with backoff, logging once per interval); a signal while
it waits exits 0.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from netfleet.cli.backend import DbOption, fail
from netfleet.core.errors import NetfleetError


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        db: DbOption = None,
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
        from netfleet.core.logging import configure_logging
        from netfleet.core.secretref import configure_secrets
        from netfleet.core.settings import load_settings
        from netfleet.worker.process import ServeOptions, serve
        from netfleet.worker.startup import open_waiting

        exit_cleanly_if_stopped_while_starting()
        try:
            settings = load_settings()
        except NetfleetError as exc:
            raise fail(exc) from None
        if db:
            settings.database.url = db
        configure_logging(settings.log)
        configure_secrets(settings.secrets)
        options = ServeOptions(
            concurrency=concurrency,
            scheduler=False if no_scheduler else None,
            worker_id=worker_id,
        )

        async def main() -> None:
            store = await open_waiting(settings)
            try:
                await serve(store, settings, options)
            finally:
                await store.close()

        from netfleet.core.collector import fewer_collections

        try:
            with fewer_collections():
                asyncio.run(main())
        except NetfleetError as exc:
            raise fail(exc) from None


def exit_cleanly_if_stopped_while_starting() -> None:
    """SIGTERM/SIGINT before the worker (or service) runs (it claims nothing yet) exit 0,
    as a drain would; once it runs, its own handlers drain it."""
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
