"""``netfleet serve``: the REST API with embedded workers and the scheduler.

Exit codes: 0 after a clean shutdown, 2 for bad settings or options (including an
unauthenticated non-loopback bind, or a port in use), 3 when the database fails
for good. Started while the database is unreachable, the service waits for it
(retrying with backoff, logging once per interval); a signal while it waits exits 0.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from netfleet.cli.backend import EXIT_BAD_INPUT, EXIT_STORE, DbOption


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        db: DbOption = None,
        host: Annotated[
            str | None,
            typer.Option("--host", help="Listen address (default: service.host, 127.0.0.1)."),
        ] = None,
        port: Annotated[
            int | None,
            typer.Option(
                "--port", min=0, max=65535, help="Port (default: service.port, 8080; 0 = any)."
            ),
        ] = None,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                min=0,
                max=64,
                help="In-process workers sharing one session pool; 0 = API only.",
            ),
        ] = 1,
    ) -> None:
        """Serve the REST API (/api/v1, docs at /api/docs) with embedded workers."""
        from netfleet.api.service import ServeOptions, check_bind
        from netfleet.api.service import serve as run_service
        from netfleet.cli.worker_cmd import exit_cleanly_if_stopped_while_starting
        from netfleet.core.errors import ConfigurationError, InputError, NetfleetError
        from netfleet.core.logging import configure_logging
        from netfleet.core.secretref import configure_secrets
        from netfleet.core.settings import load_settings
        from netfleet.web import mount_dashboard

        try:
            settings = load_settings()
            if db:
                settings.database.url = db
            options = ServeOptions(
                host=host or settings.service.host,
                port=settings.service.port if port is None else port,
                workers=workers,
            )
            check_bind(settings, options.host)
        except ConfigurationError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        configure_logging(settings.log)
        configure_secrets(settings.secrets)
        logging.getLogger("alembic").setLevel(logging.WARNING)
        exit_cleanly_if_stopped_while_starting()

        def announce(line: str) -> None:
            typer.echo(line)

        from netfleet.core.collector import fewer_collections

        try:
            with fewer_collections():
                asyncio.run(
                    run_service(settings, options, announce=announce, configure_app=mount_dashboard)
                )
        except InputError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except NetfleetError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_STORE) from None
