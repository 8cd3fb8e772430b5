"""Structured parsing of command output with TextFSM and the ntc-templates index.

A directory named by ``NETFLEET_TEXTFSM_DIR`` (an ``index`` file and templates, in the
ntc-templates layout, like netmiko's ``NET_TEXTFSM``) is searched before ntc-templates.
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

from netfleet.core.errors import ConfigurationError, ParseError, TemplateNotFound
from netfleet.platforms.registry import find_platform

TEMPLATE_DIR = os.path.join(os.path.dirname(ntc_templates.__file__), "templates")
INDEX_FILE = "index"
ENV_DIR = "NETFLEET_TEXTFSM_DIR"


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
    directory, templates = _find_templates(ntc_platform, command)
    if not templates:
        raise TemplateNotFound(
            f"no TextFSM template for platform {_describe(platform, ntc_platform)} "
            f"and command {command!r}",
            device=device,
        )
    try:
        if len(templates) == 1:
            return _parse_one(directory, templates[0], output)
        return _parse_merged(directory, templates, output)
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
    ntc_platform = textfsm_platform_for(platform)
    return bool(_find_templates(ntc_platform, " ".join(command.split()))[1])


def template_dirs() -> tuple[str, ...]:
    """Where templates are looked up, in order: ``NETFLEET_TEXTFSM_DIR``, then ntc-templates."""
    custom = os.environ.get(ENV_DIR, "").strip()
    return (os.path.abspath(custom), TEMPLATE_DIR) if custom else (TEMPLATE_DIR,)


def _find_templates(ntc_platform: str, command: str) -> tuple[str, tuple[str, ...]]:
    """(directory, template names) of the first directory with a template, or ("", ())."""
    for directory in template_dirs():
        names = _template_names(directory, ntc_platform, command)
        if names:
            return directory, names
    return "", ()


@functools.lru_cache(maxsize=1024)
def _template_names(directory: str, ntc_platform: str, command: str) -> tuple[str, ...]:
    index = _index(directory)
    row = index.GetRowMatch({"Platform": ntc_platform, "Command": command})
    if not row:
        return ()  # cached too: a miss costs a full index scan
    return tuple(str(index.index[row]["Template"]).split(":"))


@functools.lru_cache(maxsize=16)
def _index(directory: str) -> clitable.IndexTable:
    if not os.path.isfile(os.path.join(directory, INDEX_FILE)):
        raise ConfigurationError(
            f"{ENV_DIR}={directory}: no {INDEX_FILE!r} file there (use the ntc-templates "
            "layout: an index with Template, Hostname, Platform, Command columns)"
        )
    try:
        table = clitable.CliTable(INDEX_FILE, directory)
    except (clitable.Error, textfsm.TextFSMError, OSError, ValueError) as exc:
        raise ConfigurationError(f"{directory}/{INDEX_FILE}: not a TextFSM index: {exc}") from None
    return table.index


@functools.lru_cache(maxsize=4096)
def _template_text(directory: str, name: str) -> str:
    with open(os.path.join(directory, name), encoding="utf-8") as handle:
        return handle.read()


def _parse_one(directory: str, name: str, output: str) -> list[dict[str, Any]]:
    fsm = textfsm.TextFSM(io.StringIO(_template_text(directory, name)))
    header = [h.lower() for h in fsm.header]
    return [dict(zip(header, record, strict=True)) for record in fsm.ParseText(output)]


def _parse_merged(directory: str, templates: tuple[str, ...], output: str) -> list[dict[str, Any]]:
    """Several templates for one command: TextFSM's CliTable merges them on their keys."""
    table = clitable.CliTable(INDEX_FILE, directory)
    table.ParseCmd(output, templates=":".join(templates))
    header = [str(h).lower() for h in table.header]
    return [dict(zip(header, row.values, strict=True)) for row in table]
