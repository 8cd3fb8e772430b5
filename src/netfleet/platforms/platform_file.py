"""User platform files: YAML whose fields mirror ``PlatformSpec``.

A file holds one platform (a mapping), a list of them, or ``{platforms: [...]}``.
``extends: cisco_ios`` derives from a known platform (fields given replace the base's;
detection patterns are not inherited, so a derived platform is only used when named).
``extra_error_patterns`` add to the (possibly inherited) error patterns, and
``config_normalise`` rules (``{pattern, action: drop|mask}``) to the inherited ones,
``extra_privileged_commands`` to the privileged commands (``privileged_commands``
replaces them; see ``netfleet.platforms.commands`` for the rule syntax).
``multiline`` blocks (``{start, end}`` regexes, see ``PlatformSpec.multiline``) replace
the inherited ones (``[]``: none). A ``name`` that
is already known with no ``extends`` patches that platform (it extends itself).

Example::

    name: cisco_ios
    extra_error_patterns: ['^% Access denied']
    extra_privileged_commands: ['tcl[sh]', 'ev[ent] man[ager] run']
    multiline:
      - {start: '^banner (motd|login|exec) (\\S)', end: '{delim}'}   # IOS-style
      - {start: '^banner \\w+$', end: '^EOF$'}                       # EOS-style
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from netfleet.core.errors import PlatformFileError
from netfleet.core.regex import compile_re2
from netfleet.platforms.spec import (
    DEFAULT_PRIVILEGED_COMMANDS,
    CommitSpec,
    PlatformSpec,
    PrivilegeLevel,
    RestoreSpec,
)

Lookup = Callable[[str], PlatformSpec | None]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ConfirmModel(_Model):
    pattern: str
    answer: str


class NormaliseModel(_Model):
    pattern: str = Field(pattern=r"^\^")
    """RE2 syntax (linear time), anchored at a line start."""
    action: Literal["drop", "mask"]

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compile_re2(value)
        except ValueError as exc:
            raise ValueError(f"not a valid RE2 pattern: {exc}") from None
        return value


class LevelModel(_Model):
    name: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    enter: str | None = None
    exit: str | None = None
    password_prompt: str | None = None
    enter_fallback: list[str] = []
    exit_repeat: int = Field(default=1, ge=1, le=32)
    exit_confirm: list[ConfirmModel] = []
    host_max_len: int = Field(default=0, ge=0)


class MultilineModel(_Model):
    """A configuration block the device reads without a prompt per line (a banner)."""

    start: str = Field(min_length=1)
    """Regex for the block's first line; its first group (if any) is the delimiter."""
    end: str = Field(min_length=1)
    """Regex for the block's last line; ``{delim}`` stands for the delimiter, escaped."""

    @field_validator("start")
    @classmethod
    def _start_compiles(cls, value: str) -> str:
        try:
            re.compile(value, re.MULTILINE)
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from None
        return value

    @field_validator("end")
    @classmethod
    def _end_compiles(cls, value: str) -> str:
        try:
            re.compile(value.replace("{delim}", re.escape("^")))
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _delimiter_captured(self) -> Self:
        if "{delim}" in self.end and re.compile(self.start).groups < 1:
            raise ValueError(
                f"end uses {{delim}} but start {self.start!r} has no group to capture it"
            )
        return self


class CommitModel(_Model):
    commit: str
    check: str | None = None
    rollback: str
    diff: str
    top: str | None = None
    hostname_line: str | None = None
    confirmed: str | None = None
    confirmed_enter: str | None = None
    confirm: str = "commit"
    revert: list[str] = []


class RestoreModel(_Model):
    snapshot: str
    replace: str
    prepare: str | None = None
    answers: list[ConfirmModel] = []
    cleanup: str | None = None
    name: str = Field(default="netfleet-rollback.cfg", pattern=r"^[\w.\-]+$")


class PlatformModel(_Model):
    """One platform entry; every field but ``name`` is optional when ``extends`` is given."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    extends: str | None = None
    display_name: str | None = None
    levels: list[LevelModel] | None = Field(default=None, min_length=1)
    default_level: str | None = None
    config_level: str | None = None
    on_open: list[str] | None = None
    error_patterns: list[str] | None = None
    extra_error_patterns: list[str] = []
    pager_prompt: str | None = None
    pager_answer: str | None = None
    save_command: str | None = None
    save_confirm: list[ConfirmModel] | None = None
    commit: CommitModel | None = None
    restore: RestoreModel | None = None
    banner_patterns: list[str] | None = None
    version_command: str | None = None
    version_patterns: list[str] | None = None
    textfsm_platform: str | None = None
    alive_command: str | None = None
    terminator: str | None = None
    ansi: bool | None = None
    context_lines: str | None = None
    status_command: str | None = None
    status_pattern: str | None = None
    privileged_commands: list[str] | None = None
    extra_privileged_commands: list[str] = []
    command_syntax: Literal["prefix", "shell"] | None = None
    command_separators: str | None = None
    extra: dict[str, str] | None = None
    config_normalise: list[NormaliseModel] = []
    multiline: list[MultilineModel] | None = None


_SPEC_FIELDS = {f.name for f in dataclasses.fields(PlatformSpec)}
_NOT_INHERITED = ("banner_patterns", "version_patterns")


def read_platform_file(path: Path, lookup: Lookup) -> list[PlatformSpec]:
    """Parse ``path`` into specs (not yet validated beyond their shape).

    ``lookup`` resolves ``extends`` names, including platforms defined earlier in the file.
    Raises ``PlatformFileError`` naming the file and the field.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlatformFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlatformFileError(f"{path}: not valid YAML: {exc}") from None
    entries, prefix = _entries(path, data)
    specs: list[PlatformSpec] = []
    defined: dict[str, PlatformSpec] = {}

    def lookup_here(name: str) -> PlatformSpec | None:
        return defined.get(name) or lookup(name)

    for i, entry in enumerate(entries):
        where = f"{prefix}[{i}]" if prefix else ""
        try:
            model = PlatformModel.model_validate(entry)
        except pydantic.ValidationError as exc:
            raise PlatformFileError(f"{path}: {_describe(exc, where)}") from None
        spec = _build(path, where, model, lookup_here)
        defined[spec.name] = spec
        specs.append(spec)
    return specs


def _entries(path: Path, data: object) -> tuple[list[object], str]:
    if isinstance(data, dict) and set(data) == {"platforms"}:
        data = data["platforms"]
        prefix = "platforms"
    else:
        prefix = ""
    if isinstance(data, dict):
        return [data], ""
    if isinstance(data, list) and data:
        return list(data), prefix or "(entry)"
    raise PlatformFileError(f"{path}: expected a platform mapping or a non-empty list of them")


def _describe(exc: pydantic.ValidationError, where: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in err["loc"])
    loc = loc.replace(".[", "[")
    field_path = f"{where}.{loc}" if where and loc else (where or loc or "(top level)")
    more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return f"field {field_path}: {err['msg']}{more}"


def _field(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _build(path: Path, where: str, model: PlatformModel, lookup: Lookup) -> PlatformSpec:
    base_name = model.extends
    if base_name is None and lookup(model.name) is not None:
        base_name = model.name
    values: dict[str, Any]
    if base_name is not None:
        base = lookup(base_name)
        if base is None:
            raise PlatformFileError(
                f"{path}: field {_field(where, 'extends')}: unknown platform {base_name!r}"
            )
        values = {f: getattr(base, f) for f in _SPEC_FIELDS}
        values["extra"] = dict(base.extra)
        if base_name != model.name:
            values.update(dict.fromkeys(_NOT_INHERITED, ()))
            values["display_name"] = model.name
    else:
        for required in ("levels", "default_level"):
            if getattr(model, required) is None:
                raise PlatformFileError(
                    f"{path}: field {_field(where, required)}: required when 'extends' is not given"
                )
        values = {"display_name": model.name}
    values["name"] = model.name
    values.update(_given(model))
    values["error_patterns"] = tuple(values.get("error_patterns", ())) + tuple(
        model.extra_error_patterns
    )
    values["config_normalise"] = tuple(values.get("config_normalise", ())) + tuple(
        (r.pattern, r.action) for r in model.config_normalise
    )
    values["privileged_commands"] = tuple(
        values.get("privileged_commands", DEFAULT_PRIVILEGED_COMMANDS)
    ) + tuple(model.extra_privileged_commands)
    return PlatformSpec(**values)


def _given(model: PlatformModel) -> dict[str, Any]:
    """The spec fields set in ``model``, converted to the spec's types."""
    out: dict[str, Any] = {}
    for name in model.model_fields_set & _SPEC_FIELDS - {"config_normalise"}:
        value = getattr(model, name)
        if name == "levels":
            value = tuple(
                PrivilegeLevel(
                    name=lv.name,
                    prompt=lv.prompt,
                    enter=lv.enter,
                    exit=lv.exit,
                    password_prompt=lv.password_prompt,
                    enter_fallback=tuple(lv.enter_fallback),
                    exit_repeat=lv.exit_repeat,
                    exit_confirm=tuple((c.pattern, c.answer) for c in lv.exit_confirm),
                    host_max_len=lv.host_max_len,
                )
                for lv in value
            )
        elif name == "save_confirm" and value is not None:
            value = tuple((c.pattern, c.answer) for c in value)
        elif name == "multiline" and value is not None:
            value = tuple((block.start, block.end) for block in value)
        elif name == "commit" and value is not None:
            fields = value.model_dump()
            value = CommitSpec(**{**fields, "revert": tuple(fields["revert"])})
        elif name == "restore" and value is not None:
            fields = value.model_dump()
            answers = tuple((c["pattern"], c["answer"]) for c in fields["answers"])
            value = RestoreSpec(**{**fields, "answers": answers})
        elif name == "extra" and value is not None:
            value = dict(value)
        elif isinstance(value, list):
            value = tuple(value)
        if value is None and name not in (
            "pager_prompt",
            "save_command",
            "commit",
            "restore",
            "context_lines",
            "status_pattern",
        ):
            continue  # an explicit null means "keep the default / inherited value"
        out[name] = value
    return out
