"""Config templates: Jinja2 in a sandbox, rendered per device, all or nothing.

A template sees ``device`` (``name``, ``host``, ``platform``, ``groups``, ``tags``) and
``vars`` (see ``netfleet.configs.variables``). Undefined names are errors
(``StrictUndefined``). The sandbox refuses unsafe attributes (``__class__`` ...) and the
template's work is bounded: ``range()`` yields at most ``MAX_ITERATIONS`` items per
render in total, repeating a string or list (``*``) and ``**`` are capped, the output is
capped at ``MAX_OUTPUT`` characters and deep recursion is stopped.

Every failure is a ``TemplateRenderError`` naming the device, the template line and the
undefined name where there is one. ``render_all`` renders every target and returns all
errors, so a caller sends nothing when any target fails.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from netfleet.core.errors import TemplateRenderError
from netfleet.core.models import DeviceSpec

MAX_ITERATIONS = 100_000
"""``range()`` items per render, all loops together."""
MAX_OUTPUT = 1_000_000
"""Characters of rendered text per device."""
MAX_REPEAT = 100_000
"""Largest string or list made by ``*``, and largest result of ``**`` (in digits)."""

_TEMPLATE_FILE = "<template>"
_UNDEFINED_NAME = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")
_MISSING_KEY = re.compile(r"^'[\w ]+ object' has no attribute '([^']+)'$")
_DEVICE_FIELDS = ("name", "host", "platform", "groups", "tags")
_SHOWN_NAMES = 12
"""Variable names listed in an undefined-variable error, at most."""


@dataclass(frozen=True, slots=True)
class TemplateTarget:
    """What a template is rendered for: a device's identity and its merged variables."""

    name: str
    host: str
    platform: str
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, device: DeviceSpec, variables: Mapping[str, Any]) -> TemplateTarget:
        """The target for ``device`` with ``variables`` (from ``device_vars``)."""
        return cls(device.name, device.host, device.platform, device.groups, device.tags, variables)


@dataclass(frozen=True, slots=True)
class RenderResults:
    """Rendered texts by device name, and the errors of those that failed."""

    rendered: dict[str, str]
    errors: dict[str, TemplateRenderError]

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_first(self) -> None:
        """Raise the first error (in target order), if any."""
        for error in self.errors.values():
            raise error


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_ITERATIONS


class _Environment(SandboxedEnvironment):
    """The sandbox with ``*`` and ``**`` intercepted to cap their size."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator_: str, left: Any, right: Any
    ) -> Any:
        if operator_ == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                digits = abs(left).bit_length() * right * 0.302
                if digits > MAX_REPEAT:
                    raise SecurityError("the result of ** is too large")
            return operator.pow(left, right)
        for seq, count in ((left, right), (right, left)):
            sized = isinstance(seq, str | list | tuple) and isinstance(count, int)
            if sized and len(seq) * count > MAX_REPEAT:
                raise SecurityError("repeating a string or list: too large")
        return operator.mul(left, right)


def _environment() -> _Environment:
    env = _Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for name in ("center", "indent", "wordwrap", "truncate"):
        env.filters[name] = _width_capped(name, env.filters[name])
    return env


def _width_capped(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` refusing integer arguments (widths) above ``MAX_REPEAT``."""

    def capped(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[1:], *kwargs.values()):
            if isinstance(value, int) and value > MAX_REPEAT:
                raise SecurityError(f"filter {name!r}: width {value} too large")
        return fn(*args, **kwargs)

    return capped


class ConfigTemplate:
    """A compiled template; ``source`` errors raise ``TemplateRenderError`` at once."""

    def __init__(self, source: str, *, name: str = "template") -> None:
        self.name = name
        self._lines = source.splitlines()
        self._env = _environment()
        try:
            self._template = self._env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateRenderError(
                f"template {name!r} has a syntax error: {exc.message}", line=exc.lineno or 0
            ) from None

    def render(self, target: TemplateTarget) -> str:
        """The text for ``target``; raises ``TemplateRenderError`` naming the device."""
        budget = _Budget()
        context = {
            "device": dict(
                zip(
                    _DEVICE_FIELDS,
                    (target.name, target.host, target.platform, [*target.groups], [*target.tags]),
                    strict=True,
                )
            ),
            "vars": target.vars,
            "range": _bounded_range(budget),
        }
        out: list[str] = []
        size = 0
        try:
            for chunk in self._template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise TemplateRenderError(
                        f"template {self.name!r} output exceeds {MAX_OUTPUT} characters",
                        device=target.name,
                    )
                out.append(chunk)
        except TemplateRenderError:
            raise
        except jinja2.UndefinedError as exc:
            raise self._error(target, exc, "undefined") from None
        except SecurityError as exc:
            raise self._error(target, exc, "refused by the sandbox") from None
        except RecursionError as exc:
            raise self._error(target, exc, "recursion too deep") from None
        except Exception as exc:  # any error raised inside the template's own code
            raise self._error(target, exc, type(exc).__name__) from None
        return "".join(out)

    def _error(self, target: TemplateTarget, exc: BaseException, kind: str) -> TemplateRenderError:
        message = str(exc) or kind
        name = ""
        line = _template_line(exc.__traceback__)
        if isinstance(exc, jinja2.UndefinedError):
            m = _UNDEFINED_NAME.search(message)
            name = (m.group(1) or m.group(2)) if m else ""
            message = self._undefined(target, message, name, line)
        prefix = (
            f"template {self.name!r}: {kind}: "
            if kind != "undefined"
            else f"template {self.name!r}: "
        )
        return TemplateRenderError(prefix + message, device=target.name, line=line, name=name)

    def _undefined(self, target: TemplateTarget, message: str, name: str, line: int) -> str:
        """Jinja's "'dict object' has no attribute 'ntp'" said as the template wrote it,
        ``vars.ntp is undefined``, with the device's variable names (never their values)."""
        source = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        if name and _MISSING_KEY.match(message):
            path = re.search(
                rf"([A-Za-z_][\w.]*)(?:\.{re.escape(name)}\b|\[\s*['\"]{re.escape(name)}['\"]\s*\])",
                source,
            )
            message = f"{path.group(1)}.{name} is undefined" if path else f"{name!r} is undefined"
        if message.startswith("device."):
            return f"{message} (a device has: {', '.join(_DEVICE_FIELDS)})"
        if not message.startswith(("vars.", "'")):
            return message
        if message.startswith("'") and name in target.vars:
            return f"{message} (did you mean vars.{name}?)"
        names = sorted(target.vars)
        shown = ", ".join(names[:_SHOWN_NAMES]) + (" ..." if len(names) > _SHOWN_NAMES else "")
        known = f"the device's vars: {shown}" if names else "the device has no vars"
        return f"{message} ({known})"


def _template_line(tb: TracebackType | None) -> int:
    """The innermost template line in a traceback (Jinja maps frames to template lines)."""
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _bounded_range(budget: _Budget) -> Callable[..., Iterator[int]]:
    def bounded(*args: int) -> Iterator[int]:
        for value in range(*args):
            budget.left -= 1
            if budget.left < 0:
                raise SecurityError(f"more than {MAX_ITERATIONS} loop iterations in one render")
            yield value

    return bounded


def render_all(template: ConfigTemplate | str, targets: Iterable[TemplateTarget]) -> RenderResults:
    """Render for every target; errors are collected, not raised (except a syntax error)."""
    compiled = template if isinstance(template, ConfigTemplate) else ConfigTemplate(template)
    rendered: dict[str, str] = {}
    errors: dict[str, TemplateRenderError] = {}
    for target in targets:
        try:
            rendered[target.name] = compiled.render(target)
        except TemplateRenderError as exc:
            errors[target.name] = exc
    return RenderResults(rendered, errors)
