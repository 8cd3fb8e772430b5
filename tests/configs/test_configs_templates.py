"""Templates: per-device rendering, variable merging, clear errors, a bounded sandbox."""

from __future__ import annotations

import pytest

from netfleet.configs.templates import (
    MAX_ITERATIONS,
    ConfigTemplate,
    TemplateTarget,
    render_all,
)
from netfleet.configs.variables import device_vars, merge_vars
from netfleet.core.errors import InputError, TemplateRenderError
from netfleet.core.models import DeviceSpec

NTP = """\
hostname {{ device.name }}
{% for server in vars.ntp.servers %}
ntp server {{ server }}{% if vars.ntp.source is defined %} source {{ vars.ntp.source }}{% endif %}

{% endfor %}
snmp-server location {{ vars.site }}
"""


def target(name: str = "r1", **variables: object) -> TemplateTarget:
    return TemplateTarget(name, "192.0.2.1", "cisco_ios", ("core",), ("lab",), variables)


def test_merge_order_and_depth() -> None:
    defaults = {"ntp": {"servers": ["a"], "source": "lo0"}, "site": "hq", "x": {"y": 1}}
    group_a = {"ntp": {"servers": ["b"]}, "site": "paris"}
    group_b = {"site": "lyon", "x": 5}
    device = {"ntp": {"source": "lo1"}}
    merged = merge_vars(defaults, group_a, None, group_b, device)
    assert merged == {"ntp": {"servers": ["b"], "source": "lo1"}, "site": "lyon", "x": 5}
    assert defaults["ntp"] == {"servers": ["a"], "source": "lo0"}  # inputs untouched
    merged["ntp"]["servers"].append("z")
    assert group_a["ntp"]["servers"] == ["b"]


def test_a_mapping_replaces_a_scalar_and_back() -> None:
    assert merge_vars({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert merge_vars({"a": {"b": 2}}, {"a": 1}) == {"a": 1}
    assert merge_vars() == {}


def test_device_vars_follow_the_devices_group_order() -> None:
    device = DeviceSpec(
        name="r1",
        host="h",
        platform="cisco_ios",
        groups=("edge", "paris"),
        data={"site": "r1-room"},
    )
    groups = {"paris": {"site": "paris", "tz": "CET"}, "edge": {"site": "edge", "tz": "UTC"}}
    assert device_vars(device, defaults={"tz": "GMT", "role": "r"}, group_vars=groups) == {
        "tz": "CET",
        "role": "r",
        "site": "r1-room",
    }
    assert device_vars(device) == {"site": "r1-room"}
    t = TemplateTarget.of(device, device_vars(device))
    assert (t.name, t.host, t.groups, t.vars) == ("r1", "h", ("edge", "paris"), {"site": "r1-room"})


def test_render_with_device_and_vars() -> None:
    text = ConfigTemplate(NTP).render(
        target(ntp={"servers": ["192.0.2.123", "192.0.2.124"], "source": "Lo0"}, site="hq")
    )
    assert text == (
        "hostname r1\n"
        "ntp server 192.0.2.123 source Lo0\n"
        "ntp server 192.0.2.124 source Lo0\n"
        "snmp-server location hq\n"
    )
    groups = ConfigTemplate(
        "{{ device.groups|join(',') }} {{ device.tags[0] }} {{ device.platform }}"
    )
    assert groups.render(target()) == "core lab cisco_ios"


def test_undefined_names_the_device_the_line_and_the_name() -> None:
    with pytest.raises(TemplateRenderError) as info:
        ConfigTemplate(NTP, name="ntp.j2").render(target("r7", ntp={"servers": ["a"]}))
    error = info.value
    assert isinstance(error, InputError)
    assert (error.device, error.line, error.name) == ("r7", 6, "site")
    assert str(error).startswith("r7: template 'ntp.j2': ")
    assert "site" in str(error)
    assert str(error).endswith("(template line 6)")
    with pytest.raises(TemplateRenderError) as info:
        ConfigTemplate("a\n\n{{ nothing }}").render(target())
    assert (info.value.line, info.value.name) == (3, "nothing")


def test_a_syntax_error_is_reported_with_its_line() -> None:
    with pytest.raises(TemplateRenderError) as info:
        ConfigTemplate("hostname x\n{% for %}\n", name="bad.j2")
    assert info.value.line == 2
    assert "bad.j2" in str(info.value)
    assert "syntax error" in str(info.value)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ device.__class__ }}", "unsafe"),
        ("{{ ().__class__.__base__.__subclasses__() }}", "unsafe"),
        ("{{ vars.__class__.__init__.__globals__ }}", "unsafe"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            f"more than {MAX_ITERATIONS} loop iterations",
        ),
        ("{{ 'x' * 1000000000 }}", "too large"),
        ("{{ ['x'] * 1000000000 }}", "too large"),
        ("{{ (10 ** 100000) ** 100000 }}", "too large"),
        ("{{ 'a'|center(1000000000) }}", "too large"),
        ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}", "recursion too deep"),
        ("{% for i in range(90000) %}{{ 'x' * 90000 }}{% endfor %}", "output exceeds"),
        ("{{ 1 // 0 }}", "ZeroDivisionError"),
    ],
)
def test_hostile_templates_are_refused_or_bounded(source: str, problem: str) -> None:
    with pytest.raises(TemplateRenderError) as info:
        ConfigTemplate(source).render(target("evil"))
    assert problem in str(info.value)
    assert info.value.device == "evil"


def test_render_all_returns_every_error() -> None:
    targets = [
        target("r1", ntp={"servers": ["a"]}, site="x"),
        target("r2", ntp={"servers": ["b"]}),
        target("r3", site="y"),
    ]
    results = render_all(NTP, targets)
    assert not results.ok
    assert list(results.rendered) == ["r1"]
    assert sorted(results.errors) == ["r2", "r3"]
    assert results.errors["r2"].name == "site"
    assert results.errors["r3"].name == "ntp"
    with pytest.raises(TemplateRenderError) as info:
        results.raise_first()
    assert info.value.device == "r2"
    ok = render_all(ConfigTemplate("hostname {{ device.name }}"), [target("a"), target("b")])
    assert ok.ok
    assert ok.rendered == {"a": "hostname a", "b": "hostname b"}
    ok.raise_first()


def test_the_iteration_budget_is_per_render() -> None:
    template = ConfigTemplate("{% for i in range(60000) %}{% endfor %}ok")
    assert [template.render(target(str(i))) for i in range(3)] == ["ok", "ok", "ok"]


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("ntp server {{ vars.ntp.primary }}", "vars.ntp is undefined (the device's vars: site)"),
        ("ntp server {{ vars['ntp'] }}", "vars.ntp is undefined (the device's vars: site)"),
        ("{% for s in vars.ntp.servers %}{{ s }}{% endfor %}", "vars.ntp is undefined"),
        ("x {{ vars.site.city }}", "vars.site.city is undefined"),
        ("ntp server {{ site }}", "'site' is undefined (did you mean vars.site?)"),
        ("ntp server {{ ntp }}", "'ntp' is undefined (the device's vars: site)"),
        ("x {{ device.loopback }}", "device.loopback is undefined (a device has: name, host,"),
    ],
)
def test_an_undefined_variable_is_named_as_the_template_wrote_it(source: str, says: str) -> None:
    """Not Jinja's "'dict object' has no attribute 'ntp'": the path in the template, and
    the names the device does have (never their values)."""
    with pytest.raises(TemplateRenderError) as info:
        ConfigTemplate(source, name="ntp.j2").render(target("r1", site="lon-secret-value"))
    assert f"r1: template 'ntp.j2': {says}" in str(info.value)
    assert "dict object" not in str(info.value)
    assert "lon-secret-value" not in str(info.value)
