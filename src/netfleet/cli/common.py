"""What several CLI commands share: failure strategies, configuration files, output.

Parsers raise ``InputError`` naming the option; commands turn it into one
``error:`` line and exit code 2 (``fail``).
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from netfleet.core.errors import InputError
from netfleet.core.models import FailureStrategyName

if TYPE_CHECKING:
    from rich.console import Console

EXIT_BAD_INPUT = 2

OutputOption = Annotated[str, typer.Option("-o", "--output", help="table | json")]
"""``-o table`` (the default) or ``-o json`` (the REST API's JSON)."""
GroupsOption = Annotated[list[str], typer.Option("-g", "--group", help="Target group.")]
"""Target groups of a job (repeatable)."""
FilterOption = Annotated[
    str | None, typer.Option("--filter", help="e.g. 'platform=cisco_ios tag!=lab'.")
]
"""A target filter expression of a job."""
ConfigLinesOption = Annotated[
    list[str], typer.Option("--config", help="A configuration line (repeatable).")
]
"""Configuration lines given inline (before ``--config-file``'s, when both are given)."""
WaitTimeoutOption = Annotated[
    float | None, typer.Option("--wait-timeout", min=0.1, help="Give up waiting after.")
]
"""How long ``--wait`` waits for a job (seconds; none: until it ends)."""


def parse_strategy(text: str) -> tuple[FailureStrategyName, int]:
    """``continue``, ``abort_first`` or ``abort_after_n:N``: the strategy and its N (1 if none)."""
    if text == "continue":
        return "continue", 1
    if text == "abort_first":
        return "abort_first", 1
    m = re.fullmatch(r"abort_after_n:(\d+)", text)
    if m and int(m.group(1)) >= 1:
        return "abort_after_n", int(m.group(1))
    raise InputError(
        f"--failure-strategy {text!r}: expected continue, abort_first or abort_after_n:N (N >= 1)"
    )


def read_config_file(path: Path) -> list[str]:
    """The non-blank lines of a configuration file (``--config-file``)."""
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read configuration file: {exc}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError(f"{path}: configuration file is empty")
    return lines


def config_lines(lines: list[str], path: Path | None) -> list[str]:
    """``--config`` lines as typed (indentation kept), then ``path``'s non-blank lines."""
    if any(not line.strip() for line in lines):
        raise InputError("--config: a configuration line must not be blank")
    return [*lines, *(read_config_file(path) if path is not None else [])]


def fail(message: str) -> typer.Exit:
    """Print one ``error:`` line for bad CLI input; raise the returned exit (code 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def check_output(output: str) -> None:
    """Accept ``table`` and ``json`` only (else one ``error:`` line, exit code 2)."""
    if output not in ("table", "json"):
        raise fail(f"-o {output!r}: expected table or json")


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout."""
    typer.echo(json.dumps(data, indent=2, default=str))


def console() -> Console:
    """stdout; wide when not a terminal, so piped tables keep whole names on one line."""
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def when(epoch: float | None) -> str:
    """An epoch time as ``YYYY-MM-DD HH:MM:SS`` (UTC), ``-`` for none."""
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")
