"""Rendering a job's template for its targets: all or nothing, errors by reason."""

from __future__ import annotations

import pytest

from netfleet.core.errors import ValidationError
from netfleet.core.models import DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.jobs.render import render_targets


def _devices(n: int, **data: object) -> list[DeviceSpec]:
    return [DeviceSpec(f"r{i:03d}", "192.0.2.1", "cisco_ios", data=dict(data)) for i in range(n)]


def _spec(template: str) -> JobSpec:
    return JobSpec.model_validate(
        {"targets": {"devices": ["r000"]}, "template": template, "template_name": "ntp.j2"}
    )


def test_one_missing_variable_on_many_devices_reads_as_one_reason() -> None:
    devices = [
        *_devices(50, site="lon"),
        DeviceSpec("odd", "192.0.2.9", "cisco_ios", data={"ntp": {"primary": 5}}),
    ]
    with pytest.raises(ValidationError) as info:
        render_targets(
            _spec("ntp server {{ vars.ntp.primary }}\n{{ 1 // vars.ntp.primary }}"), devices
        )
    message = str(info.value)
    assert message.startswith(
        "template: failed to render for 50 of 51 device(s), nothing was sent: "
    )
    assert message.count("vars.ntp is undefined") == 1, message
    assert (
        "template 'ntp.j2': vars.ntp is undefined (the device's vars: site) (template line 1), "
        "for r000, r001, r002, r003, r004 and 45 more"
    ) in message
    assert "odd" not in message


def test_reasons_that_differ_are_listed_apart() -> None:
    devices = [
        *_devices(2, site="lon"),
        DeviceSpec("z1", "192.0.2.9", "cisco_ios", data={"ntp": {"primary": 0}}),
    ]
    with pytest.raises(ValidationError) as info:
        render_targets(_spec("ntp server {{ 1 // vars.ntp.primary }}"), devices)
    message = str(info.value)
    assert (
        "vars.ntp is undefined (the device's vars: site) (template line 1), for r000, r001;"
        in message
    )
    assert "ZeroDivisionError" in message
    assert message.endswith("for z1")
