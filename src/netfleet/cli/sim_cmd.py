"""``netfleet sim``: the built-in device simulator (delegates to ``netfleet_sim``)."""

from __future__ import annotations

import sys

import typer


def register(app: typer.Typer) -> None:
    @app.command(
        "sim",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def sim(ctx: typer.Context) -> None:
        """Serve simulated network devices over SSH on loopback (see `netfleet sim --help`)."""
        from netfleet_sim.cli import main as sim_main

        sys.exit(sim_main(list(ctx.args)))
