"""Output of ``netfleet run``: progress bar, table, JSON document, or one file per device."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.table import Table

from netfleet.cli.safe_text import escape
from netfleet.core.names import file_stem
from netfleet.jobs.changes import CHANGE_RECORD, change_summary, describe_change

if TYPE_CHECKING:
    from netfleet.cli.run_cmd import RunRequest
    from netfleet.core.models import CommandResult
    from netfleet.jobs.execute import DeviceRun


@contextlib.contextmanager
def progress(total: int) -> Iterator[Callable[[bool], None]]:
    """A Rich progress bar on stderr when both stdout and stderr are terminals."""
    if not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield lambda ok: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    failed = 0
    with Progress(
        TextColumn("[bold]devices"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        refresh_per_second=4,  # a redraw costs the event loop's thread CPU
    ) as bar:
        task = bar.add_task("run", total=total, failed=0)

        def advance(ok: bool) -> None:
            nonlocal failed
            failed += 0 if ok else 1
            bar.update(task, advance=1, failed=failed)

        yield advance


def result_entry(run: DeviceRun) -> dict[str, Any]:
    """One device's entry in the ``results`` list of the ``-o json`` document."""
    return {
        "device": run.device,
        "ok": run.ok,
        "error": run.error,
        "error_kind": run.error_kind,
        "reused_session": run.reused_session,
        "duration_ms": round(run.duration_ms, 3),
        "commands": [
            {
                "command": r.command,
                "output": r.output,
                "parsed": r.parsed,
                "ok": r.ok,
                "error": r.error,
                "duration_ms": round(r.duration_ms, 3),
            }
            for r in _steps(run)
        ],
        "diff": run.config.diff if run.config is not None else None,
        "change": change_summary(run.results),
    }


def _steps(run: DeviceRun) -> list[CommandResult]:
    """The commands and config lines the run sent, without its change record."""
    return [r for r in run.results if r.command != CHANGE_RECORD]


def write_json(out: TextIO, summary: dict[str, Any], runs: list[DeviceRun]) -> None:
    """Write the ``-o json`` document: ``summary`` and one entry per device, a line each.

    Entries are encoded one at a time (with the C encoder), so a large fleet's
    outputs are never held a second time as one big document or string.
    """
    out.write('{"summary": ' + json.dumps(summary) + ',\n "results": [')
    for index, run in enumerate(runs):
        out.write(("\n  " if index == 0 else ",\n  ") + json.dumps(result_entry(run)))
    out.write("\n]}\n")


def _device_text(run: DeviceRun) -> str:
    lines = []
    for r in _steps(run):
        lines.append(f"$ {r.command}")
        if r.output:
            lines.append(r.output)
        if r.error:
            lines.append(f"! {r.error}")
    if run.config is not None and run.config.diff:
        lines.extend(["--- diff ---", run.config.diff])
    summary = change_summary(run.results)
    if summary is not None:
        lines.extend(describe_change(summary))
    if run.error and not any(r.error == run.error for r in run.results):
        lines.append(f"! {run.error}")
    return "\n".join(lines) + "\n"


def _error_of(run: DeviceRun) -> str:
    """The run's error without a leading ``device: `` (it is printed beside the device)."""
    error = run.error or ""
    prefix = f"{run.device}: "
    return error[len(prefix) :] if error.startswith(prefix) else error


def _safe_name(name: str) -> str:
    return file_stem(name)


def _summary_table(summary: dict[str, Any], runs: list[DeviceRun]) -> Table:
    table = Table(title=None, show_lines=False)
    for col in ("device", "status", "commands ok", "session", "ms", "error"):
        table.add_column(col, overflow="fold")
    for run in runs:
        steps = _steps(run)
        ok = sum(1 for r in steps if r.ok)
        table.add_row(
            escape(run.device),
            "[green]ok[/]" if run.ok else "[red]failed[/]",
            f"{ok}/{len(steps)}",
            "reused" if run.reused_session else "new",
            f"{run.duration_ms:.0f}",
            escape(_error_of(run)),
        )
    table.caption = (
        f"{summary['succeeded']}/{summary['devices']} devices succeeded, "
        f"{summary['failed']} failed; {summary['logins']} logins; {summary['duration_s']} s"
    )
    return table


def emit(request: RunRequest, summary: dict[str, Any], runs: list[DeviceRun]) -> bool:
    """Print (or write) the results; True when any device failed."""
    failed = any(not r.ok for r in runs)
    if request.output == "json":
        write_json(sys.stdout, summary, runs)
        return failed
    out = Console(highlight=False, soft_wrap=True)
    if request.output == "dir":
        assert request.output_dir is not None
        request.output_dir.mkdir(parents=True, exist_ok=True)
        for run in runs:
            (request.output_dir / f"{_safe_name(run.device)}.txt").write_text(
                _device_text(run), encoding="utf-8"
            )
    else:
        for run in runs:
            status = "[green]ok[/]" if run.ok else "[red]failed[/]"
            out.rule(f"{escape(run.device)} {status}")
            out.print(escape(_device_text(run)), end="")
    out.print(_summary_table(summary, runs))
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for run in runs:
        if not run.ok:
            err.print(f"[red]error[/]: {escape(run.device)}: {escape(_error_of(run) or 'failed')}")
    return failed
