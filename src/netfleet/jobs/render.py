"""Config templates of jobs: the lines a template job sends to each device.

A device's variables are its inventory ``data`` (the netfleet YAML, Nornir and Ansible
loaders already merged defaults and group data into it; CSV ``data.*`` columns and the
API's ``data`` land there too), overridden key by key by the job's ``vars``.
``render_targets`` renders every target at submit time and refuses the job if any
fails; the worker renders again for the device it runs on (same inputs, same lines).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from netfleet.configs.templates import ConfigTemplate, TemplateTarget, render_all
from netfleet.configs.variables import merge_vars
from netfleet.core.errors import TemplateRenderError, ValidationError
from netfleet.core.models import DeviceSpec
from netfleet.jobs.change_run import ChangePlan
from netfleet.jobs.model import JobSpec

_SHOWN_DEVICES = 5
"""Devices named per reason in a render error, at most."""
_SHOWN_ERRORS = 10

_cache: OrderedDict[tuple[str, str], ConfigTemplate] = OrderedDict()
_lock = threading.Lock()


def compiled(spec: JobSpec) -> ConfigTemplate:
    """The job's template, compiled once per process (``TemplateRenderError`` on syntax)."""
    assert spec.template is not None
    name = spec.template_name or "template"
    key = (name, spec.template)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    template = ConfigTemplate(spec.template, name=name)
    with _lock:
        _cache[key] = template
        if len(_cache) > 64:
            _cache.popitem(last=False)
    return template


def target_of(spec: JobSpec, device: DeviceSpec) -> TemplateTarget:
    return TemplateTarget.of(device, merge_vars(device.data, spec.vars))


def lines_of(text: str) -> list[str]:
    """Rendered text as config lines: trailing blanks cut, empty lines dropped."""
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def render_device(spec: JobSpec, device: DeviceSpec) -> list[str]:
    """The lines for ``device``: its config lines, or its rendered template."""
    if spec.template is None:
        return list(spec.config)
    return lines_of(compiled(spec).render(target_of(spec, device)))


def render_targets(spec: JobSpec, devices: Sequence[DeviceSpec]) -> dict[str, list[str]]:
    """Render for every device; ``ValidationError`` naming each device that failed (and
    the template line) if any did, so that nothing is sent to any device."""
    if spec.template is None:
        return {d.name: list(spec.config) for d in devices}
    try:
        template = compiled(spec)
    except TemplateRenderError as exc:
        raise ValidationError(f"template: {exc.message}") from None
    results = render_all(template, (target_of(spec, d) for d in devices))
    if results.errors:
        raise ValidationError(
            f"template: failed to render for {len(results.errors)} of {len(devices)} "
            f"device(s), nothing was sent: {_grouped(list(results.errors.values()))}"
        )
    empty = [name for name, text in results.rendered.items() if not lines_of(text)]
    if empty:
        raise ValidationError(
            f"template: renders no configuration lines for {len(empty)} device(s): "
            + ", ".join(empty[:_SHOWN_ERRORS])
        )
    return {name: lines_of(text) for name, text in results.rendered.items()}


def _grouped(errors: list[TemplateRenderError]) -> str:
    """The errors by reason, each with the devices it failed for: 200 devices missing one
    variable read as one reason, not 200 copies of it."""
    groups: dict[tuple[str, int], list[str]] = {}
    for error in errors:
        groups.setdefault((error.reason, error.line), []).append(error.device)
    parts = []
    for (reason, line), names in list(groups.items())[:_SHOWN_ERRORS]:
        where = f" (template line {line})" if line else ""
        listed = ", ".join(names[:_SHOWN_DEVICES])
        more = f" and {len(names) - _SHOWN_DEVICES} more" if len(names) > _SHOWN_DEVICES else ""
        parts.append(f"{reason}{where}, for {listed}{more}")
    hidden = len(groups) - _SHOWN_ERRORS
    return "; ".join(parts) + (f" (+{hidden} more reasons)" if hidden > 0 else "")


def change_plan(spec: JobSpec, device: DeviceSpec) -> ChangePlan | None:
    """The safe-change plan of a config task (None: plain lines, no checks, no rollback);
    ``TemplateRenderError`` if the template fails for this device."""
    if spec.kind != "config":
        return None
    if spec.template is None and not spec.checks and spec.rollback is None:
        return None
    return ChangePlan(
        render_device(spec, device),
        checks=tuple(spec.checks),
        rollback=spec.rollback,
        rendered=spec.template is not None,
    )
