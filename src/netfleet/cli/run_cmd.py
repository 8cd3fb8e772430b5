"""``netfleet run``: run commands or push configuration on inventory devices, right now.

Everything the user gave is checked before any device is contacted (inventory,
filter, platforms, config file, options); bad input prints one ``error:`` line
and exits with code 2. Exit code 1 means at least one device failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from netfleet.cli.change_opts import (
    ChecksOption,
    ConfirmTimeoutOption,
    RollbackOption,
    TemplateOption,
    VarOption,
    change_fields,
)
from netfleet.cli.common import ConfigLinesOption, config_lines, parse_strategy
from netfleet.core.errors import InputError, NetfleetError
from netfleet.core.models import DeviceSpec, FailureStrategyName
from netfleet.core.settings import Settings

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
DEFAULT_CONCURRENCY = 200
"""Devices handled at once. One asyncio task and at most one session per device, so a few
hundred cost little memory; logins in flight stay capped by ``pool.max_concurrent_logins``
(64), so AAA servers see no more than that, while slow devices' command time overlaps."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A validated ``netfleet run`` invocation."""

    devices: list[DeviceSpec]
    commands: list[str]
    config: list[str]
    failure_strategy: FailureStrategyName
    failure_n: int
    parse: str | None
    output: str
    """``table``, ``json`` or ``dir``."""
    output_dir: Path | None
    concurrency: int
    timeout: float | None
    save: bool
    dry_run: bool
    allow_privileged: bool = False
    plans: dict[str, Any] | None = None
    """Safe change (template, checks, rollback): each device's ``ChangePlan``."""


def _output(text: str) -> tuple[str, Path | None]:
    if text in ("table", "json"):
        return text, None
    if text.startswith("dir:") and len(text) > 4:
        return "dir", Path(text[4:]).expanduser()
    raise InputError(f"-o {text!r}: expected table, json or dir:PATH")


def validate(
    *,
    inventory: Path,
    filter_expr: str | None,
    commands: list[str],
    config_file: Path | None,
    failure_strategy: str,
    parse: str | None,
    output: str,
    concurrency: int,
    timeout: float | None,
    save: bool,
    dry_run: bool,
    allow_privileged: bool = False,
    change: dict[str, Any] | None = None,
    inline_config: list[str] | None = None,
) -> RunRequest:
    """Check every input; raise an ``InputError`` naming the problem. ``change``: the
    template/vars/checks/rollback job fields (rendered here for every device)."""
    from netfleet.core.inventory import load_inventory
    from netfleet.jobs.model import control_character_problem
    from netfleet.jobs.policy import check_commands
    from netfleet.platforms import get_platform

    change = change or {}
    configured = bool(inline_config) or config_file is not None
    if sum((bool(commands), configured, "template" in change)) != 1:
        raise InputError(
            "give one of: commands (-c), configuration (--config LINE, --config-file) or "
            "--template, not both"
        )
    if any(not c.strip() for c in commands):
        raise InputError("-c: commands must not be blank")
    for index, command in enumerate(commands):
        problem = control_character_problem(index, command)
        if problem is not None:
            raise InputError(f"-c: {problem}")
    if not allow_privileged:
        check_commands(commands, admin=True)
    if (save or dry_run or change) and not (configured or "template" in change):
        raise InputError("--save, --dry-run, --checks and --rollback apply to config only")
    if concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    if timeout is not None and timeout <= 0:
        raise InputError("--timeout must be positive")
    if parse not in (None, "textfsm"):
        raise InputError(f"--parse {parse!r}: the only parser is textfsm")
    strategy, n = parse_strategy(failure_strategy)
    out, out_dir = _output(output)
    config = config_lines(inline_config or [], config_file)
    devices = load_inventory(inventory).filter(filter_expr)
    for spec in devices:
        try:
            get_platform(spec.platform)
        except NetfleetError as exc:
            raise InputError(f"device {spec.name}: {exc.message}") from None
    plans = _plans(devices, config, change) if change else None
    return RunRequest(
        plans=plans,
        devices=devices,
        commands=list(commands),
        config=config,
        failure_strategy=strategy,
        failure_n=n,
        parse=parse,
        output=out,
        output_dir=out_dir,
        concurrency=concurrency,
        timeout=timeout,
        save=save,
        dry_run=dry_run,
        allow_privileged=allow_privileged,
    )


def _plans(devices: list[DeviceSpec], config: list[str], change: dict[str, Any]) -> dict[str, Any]:
    """Each device's change plan; ``InputError`` if the template fails for any device or
    a device's platform cannot roll back (nothing is sent then)."""
    from netfleet.jobs.changes import check_rollback
    from netfleet.jobs.model import parse_job_spec
    from netfleet.jobs.policy import check_check_commands
    from netfleet.jobs.render import change_plan, render_targets

    if not devices:
        return {}
    body = {"targets": {"devices": [d.name for d in devices]}, **change}
    if "template" not in change:
        body["config"] = config
    spec = parse_job_spec(body)
    check_check_commands(spec)
    if spec.rollback is not None and spec.rollback.enabled:
        check_rollback((d.name, d.platform) for d in devices)
    render_targets(spec, devices)
    plans = {}
    for device in devices:
        plan = change_plan(spec, device)
        assert plan is not None
        plans[device.name] = plan
    return plans


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """``core.collector.fewer_collections`` with the run's modules imported first
    (~10 % less CPU on 1,000 devices)."""
    import netfleet.jobs.execute
    import netfleet.pool  # noqa: F401  (imported before freezing)
    from netfleet.core.collector import fewer_collections

    with fewer_collections():
        yield


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        inventory: Annotated[
            Path,
            typer.Option("-i", "--inventory", help="Inventory YAML, Nornir hosts.yaml or its dir."),
        ],
        filter_expr: Annotated[
            str | None,
            typer.Option("--filter", help="e.g. 'name=core-*', 'group=dc1 and platform=eos'."),
        ] = None,
        command: Annotated[
            list[str] | None, typer.Option("-c", "--command", help="A command (repeatable).")
        ] = None,
        config: ConfigLinesOption = [],  # noqa: B006
        config_file: Annotated[
            Path | None, typer.Option("--config-file", help="Push the lines in this file.")
        ] = None,
        save: Annotated[bool, typer.Option("--save", help="Save the config afterwards.")] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show changes only.")] = False,
        allow_privileged: Annotated[
            bool,
            typer.Option(
                "--allow-privileged-commands",
                help="Commands may configure, save, reload, erase, copy or commit.",
            ),
        ] = False,
        concurrency: Annotated[
            int,
            typer.Option(
                "--concurrency",
                help="Devices at once (logins in flight: pool.max_concurrent_logins).",
            ),
        ] = DEFAULT_CONCURRENCY,
        failure_strategy: Annotated[
            str,
            typer.Option("--failure-strategy", help="continue | abort_first | abort_after_n:N"),
        ] = "continue",
        parse: Annotated[str | None, typer.Option("--parse", help="Parse with: textfsm.")] = None,
        timeout: Annotated[
            float | None, typer.Option("--timeout", help="Per-command seconds.")
        ] = None,
        output: Annotated[
            str, typer.Option("-o", "--output", help="table | json | dir:PATH")
        ] = "table",
        template: TemplateOption = None,
        var: VarOption = [],  # noqa: B006
        checks: ChecksOption = None,
        rollback: RollbackOption = False,
        confirm_timeout: ConfirmTimeoutOption = None,
    ) -> None:
        """Run commands (or push configuration) on the selected devices now."""
        from netfleet.core.secretref import configure_secrets
        from netfleet.core.settings import load_settings

        change = change_fields(
            template=template,
            variables=var,
            checks=checks,
            rollback=rollback,
            confirm_timeout=confirm_timeout,
        )
        try:
            request = validate(
                inventory=inventory,
                filter_expr=filter_expr,
                commands=command or [],
                config_file=config_file,
                inline_config=config,
                failure_strategy=failure_strategy,
                parse=parse,
                output=output,
                concurrency=concurrency,
                timeout=timeout,
                save=save,
                dry_run=dry_run,
                allow_privileged=allow_privileged,
                change=change,
            )
            settings = load_settings()
            configure_secrets(settings.secrets)
        except InputError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        from netfleet.cli.run_output import emit

        with _fewer_collections():
            summary, runs = asyncio.run(execute(request, settings))
        failed = emit(request, summary, runs)
        raise typer.Exit(EXIT_FAILED if failed else 0)


async def execute(request: RunRequest, settings: Settings) -> tuple[dict[str, Any], list[Any]]:
    """Run the request on every device with a local session pool; (summary, DeviceRuns)."""
    from netfleet.cli.run_output import progress
    from netfleet.jobs.execute import DeviceRun, run_on_device
    from netfleet.jobs.model import JobOptions
    from netfleet.pool import device_pool

    options = JobOptions(
        failure_strategy=request.failure_strategy,
        failure_n=request.failure_n,
        command_timeout_s=request.timeout,
        parse="textfsm" if request.parse else None,
        save=request.save,
        dry_run=request.dry_run,
        allow_privileged_commands=request.allow_privileged,
    )
    # One task per device: keeping sessions open afterwards would only hold vty lines.
    # Closing happens in the background, hence room for twice the concurrency.
    worker = settings.worker.model_copy(
        update={"max_connections_per_worker": 2 * request.concurrency, "connection_reuse": False}
    )
    started = time.perf_counter()
    gate = asyncio.Semaphore(request.concurrency)
    runs: list[DeviceRun] = []
    async with device_pool(settings.pool, worker, settings.connect) as pool:
        with progress(len(request.devices)) as advance:

            async def one(spec: DeviceSpec) -> DeviceRun:
                plan = request.plans.get(spec.name) if request.plans else None
                async with gate:
                    result = await run_on_device(
                        pool,
                        spec,
                        commands=request.commands,
                        config=plan.lines if plan is not None else request.config,
                        options=options,
                        plan=plan,
                    )
                advance(result.ok)
                return result

            runs = list(await asyncio.gather(*(one(spec) for spec in request.devices)))
        stats = pool.stats()
    summary = {
        "devices": len(runs),
        "succeeded": sum(1 for r in runs if r.ok),
        "failed": sum(1 for r in runs if not r.ok),
        "logins": stats.total.logins,
        "reused_sessions": stats.total.reuses,
        "duration_s": round(time.perf_counter() - started, 3),
    }
    return summary, runs
