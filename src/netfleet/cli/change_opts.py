"""CLI options of safe changes: ``--template``, ``--var``, ``--checks``, ``--rollback``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from netfleet.cli.common import fail

TemplateOption = Annotated[
    Path | None,
    typer.Option("--template", help="A Jinja2 config template rendered per device."),
]
VarOption = Annotated[
    list[str], typer.Option("--var", help="Template variable key=value (YAML value).")
]
ChecksOption = Annotated[
    Path | None,
    typer.Option("--checks", help="YAML list of pre/post checks (command, rule, pattern ...)."),
]
RollbackOption = Annotated[
    bool,
    typer.Option("--rollback", help="Roll back when the push or a post-check fails."),
]
ConfirmTimeoutOption = Annotated[
    int | None,
    typer.Option("--confirm-timeout", min=60, max=3600, help="Junos/XR commit confirmed seconds."),
]


def read_template(path: Path) -> str:
    """The text of a template file (``--template``); a typer exit if unreadable or empty."""
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise fail(f"{path}: template file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read template file: {exc}") from None
    if not text.strip():
        raise fail(f"{path}: template file is empty")
    return text


def parse_vars(items: list[str]) -> dict[str, Any]:
    """``--var key=value`` (repeatable); the value is read as YAML (``[a, b]``, ``5``,
    ``{k: v}``); ``a.b=value`` nests."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise fail(f"--var {item!r}: expected key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = out
        *path, leaf = key.split(".")
        for part in path:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return out


def read_checks(path: Path) -> list[Any]:
    """``--checks FILE``: a YAML list of checks (``command``, ``rule``, ``pattern`` ...)."""
    try:
        data = yaml.safe_load(path.expanduser().read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise fail(f"{path}: checks file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise fail(f"{path}: cannot read checks file: {exc}") from None
    if not isinstance(data, list):
        raise fail(f"{path}: expected a YAML list of checks")
    return data


def change_fields(
    *,
    template: Path | None,
    variables: list[str],
    checks: Path | None,
    rollback: bool,
    confirm_timeout: int | None,
) -> dict[str, Any]:
    """The job body fields of a safe change (empty when none of the options is given)."""
    body: dict[str, Any] = {}
    if template is not None:
        body["template"] = read_template(template)
        body["template_name"] = template.name
    if variables:
        if template is None:
            raise fail("--var applies to --template only")
        body["vars"] = parse_vars(variables)
    if checks is not None:
        body["checks"] = read_checks(checks)
    if rollback or confirm_timeout is not None:
        body["rollback"] = {} if confirm_timeout is None else {"confirm_timeout_s": confirm_timeout}
    return body
