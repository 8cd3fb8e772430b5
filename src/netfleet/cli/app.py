"""The ``netfleet`` Typer application: the root command and its sub-commands."""

from __future__ import annotations

import typer

from netfleet import __version__

ACCESS_RULE = (
    "Run commands and configuration on fleets of network devices over SSH.\n\n"
    "One access rule: the commands on stored data (jobs, devices, credentials, backup, "
    "schedules, windows, inventory, notify, token) each take --url URL [--token TOKEN] (a "
    "running server, over the REST API) or --db URL (the database directly), with the same "
    "options and the same output. Without either, they all use the server that "
    "NETFLEET_URL, NETFLEET_TOKEN or ~/.netfleet/cli.toml names; when nothing names one, "
    "jobs, devices, credentials and backup go to http://127.0.0.1:8080, and schedules, "
    "windows, inventory, notify and token to the database (database.url).\n\n"
    "The exceptions: the processes serve, worker, demo and sim, and run, which works on "
    "devices straight from an inventory file."
)
"""The root help; CONTRIBUTING.md states the same rule."""

app = typer.Typer(
    name="netfleet",
    help=ACCESS_RULE,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"netfleet {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """netfleet: network automation at fleet scale."""


def _register() -> None:
    # Each sub-command lives in its own module; register it here.
    from netfleet.cli import sim_cmd

    sim_cmd.register(app)
    from netfleet.cli import run_cmd

    run_cmd.register(app)
    from netfleet.cli import worker_cmd

    worker_cmd.register(app)
    from netfleet.cli import schedules_cmd

    schedules_cmd.register(app)
    from netfleet.cli import inventory_cmd

    inventory_cmd.register(app)
    from netfleet.cli import notify_cmd

    notify_cmd.register(app)
    from netfleet.cli import serve_cmd, token_cmd

    serve_cmd.register(app)
    token_cmd.register(app)
    from netfleet.cli import credentials_cmd, demo_cmd, devices_cmd, jobs_cmd

    demo_cmd.register(app)
    jobs_cmd.register(app)
    devices_cmd.register(app)
    credentials_cmd.register(app)
    from netfleet.cli import backup_cmd

    backup_cmd.register(app)
    from netfleet.cli import changes_cmd

    changes_cmd.register(app)


_register()


def main() -> None:
    """Console entry point."""
    app()
