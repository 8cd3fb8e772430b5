"""Structured parsing of command output with TextFSM and the ntc-templates index.

The template lookup (index search, the slow part) is cached per (platform, command);
each template file's text is read once. Keys of the returned rows are lower-case.
"""

from __future__ import annotations

import functools
import io
import os
from typing import Any

import ntc_templates
import textfsm
from textfsm import clitable

from netfleet.core.errors import ParseError, TemplateNotFound
from netfleet.platforms.registry import find_platform

TEMPLATE_DIR = os.path.join(os.path.dirname(ntc_templates.__file__), "templates")
INDEX_FILE = "index"


def parse_textfsm(
    platform: str, command: str, output: str, *, device: str = ""
) -> list[dict[str, Any]]:
    """Parse ``output`` of ``command`` into rows (dicts with lower-case keys).

    ``platform`` is a netfleet platform name (mapped to its ``textfsm_platform``) or an
    ntc-templates platform name. Raises ``TemplateNotFound`` when no template exists and
    ``ParseError`` when the template rejects the output; both name ``device`` if given.
    """
    ntc_platform = textfsm_platform_for(platform)
    command = " ".join(command.split())
    templates = _template_names(ntc_platform, command)
    if not templates:
        raise TemplateNotFound(
            f"no TextFSM template for platform {_describe(platform, ntc_platform)} "
            f"and command {command!r}",
            device=device,
        )
    try:
        if len(templates) == 1:
            return _parse_one(templates[0], output)
        return _parse_merged(templates, output)
    except (textfsm.TextFSMError, textfsm.TextFSMTemplateError, clitable.Error) as exc:
        raise ParseError(
            f"parsing {command!r} output for platform {_describe(platform, ntc_platform)} "
            f"failed: {exc}",
            device=device,
        ) from None


def textfsm_platform_for(platform: str) -> str:
    """The ntc-templates platform name for a netfleet platform (or the name itself)."""
    spec = find_platform(platform)
    if spec is not None and spec.textfsm_platform:
        return spec.textfsm_platform
    return platform


def _describe(platform: str, ntc_platform: str) -> str:
    if platform == ntc_platform:
        return repr(platform)
    return f"{platform!r} (ntc-templates {ntc_platform!r})"


def has_template(platform: str, command: str) -> bool:
    """Whether ntc-templates has a template for this platform and command."""
    return bool(_template_names(textfsm_platform_for(platform), " ".join(command.split())))


@functools.lru_cache(maxsize=1024)
def _template_names(ntc_platform: str, command: str) -> tuple[str, ...]:
    index = _index()
    row = index.GetRowMatch({"Platform": ntc_platform, "Command": command})
    if not row:
        return ()  # cached too: a miss costs a full index scan
    return tuple(str(index.index[row]["Template"]).split(":"))


@functools.cache
def _index() -> clitable.IndexTable:
    table = clitable.CliTable(INDEX_FILE, TEMPLATE_DIR)
    return table.index


@functools.cache
def _template_text(name: str) -> str:
    with open(os.path.join(TEMPLATE_DIR, name), encoding="utf-8") as handle:
        return handle.read()


def _parse_one(name: str, output: str) -> list[dict[str, Any]]:
    fsm = textfsm.TextFSM(io.StringIO(_template_text(name)))
    header = [h.lower() for h in fsm.header]
    return [dict(zip(header, record, strict=True)) for record in fsm.ParseText(output)]


def _parse_merged(templates: tuple[str, ...], output: str) -> list[dict[str, Any]]:
    """Several templates for one command: TextFSM's CliTable merges them on their keys."""
    table = clitable.CliTable(INDEX_FILE, TEMPLATE_DIR)
    table.ParseCmd(output, templates=":".join(templates))
    header = [str(h).lower() for h in table.header]
    return [dict(zip(header, row.values, strict=True)) for row in table]
