"""Safe-change benchmark: a templated change with dry run, per device, for a large fleet.

For N devices (10,000; 500 with ``--smoke``) in 8 groups with their own variables:

* submit: ``render_targets`` renders the template for every target (the all-or-nothing
  check before a job is stored);
* worker: ``change_plan`` renders again for its device, then ``predict`` computes the
  dry-run diff against that device's running configuration (a generated 50 KB IOS
  config; 16 distinct ones, cycled);
* baseline, in the same run: a plain ``difflib.unified_diff`` of the same configuration
  with one line changed (what any backup tool does per device).

Prints milliseconds per device, the ratio to the baseline, devices per second and the
issue's aim (render + predict <= 2 ms per device).

    .venv/bin/python benchmarks/changes.py            # full (10,000 devices)
    .venv/bin/python benchmarks/changes.py --smoke    # a few seconds (CI)
"""

from __future__ import annotations

import argparse
import difflib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from configs import TEMPLATE, TEMPLATE_VARS, make_config, one_line_changed
from netfleet.configs.predict import predict
from netfleet.core.models import DeviceSpec
from netfleet.jobs.model import JobSpec
from netfleet.jobs.render import change_plan, render_targets

AIM_S = 0.002
GROUPS = 8
CONFIGS = 16


def fleet(n: int) -> list[DeviceSpec]:
    out = []
    for i in range(n):
        data = dict(TEMPLATE_VARS)
        data.update(
            port=i % 48 + 1,
            vlan=200 + i % GROUPS,
            loopback=f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
        )
        out.append(
            DeviceSpec(
                name=f"sw{i:05d}",
                host=f"10.1.{i // 256 % 256}.{i % 256}",
                platform="cisco_ios",
                groups=(f"site{i % GROUPS}",),
                data=data,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="500 devices (a few seconds)")
    parser.add_argument("--devices", type=int, default=None)
    args = parser.parse_args()
    n = args.devices or (500 if args.smoke else 10_000)
    devices = fleet(n)
    spec = JobSpec.model_validate(
        {
            "targets": {"groups": [f"site{g}" for g in range(GROUPS)]},
            "template": TEMPLATE,
            "template_name": "uplink.j2",
            "vars": {"syslog": "192.0.2.51"},
            "options": {"dry_run": True},
        }
    )
    configs = [make_config(seed=seed) for seed in range(CONFIGS)]
    changed = [one_line_changed(text) for text in configs]

    t0 = time.perf_counter()
    for i in range(n):
        a, b = configs[i % CONFIGS], changed[i % CONFIGS]
        list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm=""))
    base = (time.perf_counter() - t0) / n

    t0 = time.perf_counter()
    rendered = render_targets(spec, devices)
    submit = (time.perf_counter() - t0) / n
    assert len(rendered) == n

    t0 = time.perf_counter()
    plans = [change_plan(spec, d) for d in devices]
    worker_render = (time.perf_counter() - t0) / n

    t0 = time.perf_counter()
    added = 0
    for i, plan in enumerate(plans):
        assert plan is not None
        added += predict(configs[i % CONFIGS], plan.lines, "cisco_ios").added
    predicted = (time.perf_counter() - t0) / n
    assert added > 0

    per_device = worker_render + predicted
    print(
        f"{n} devices, {GROUPS} groups, template of {len(TEMPLATE.splitlines())} lines, "
        f"running configs of {len(configs[0]) // 1000} KB"
    )
    print(f"\n{'per device':36} {'ms':>8} {'vs difflib':>11} {'devices/s':>10}")
    rows = [
        ("difflib.unified_diff (baseline)", base),
        ("submit: render all targets", submit),
        ("worker: render for its device", worker_render),
        ("worker: predict the diff", predicted),
        ("worker: render + predict", per_device),
    ]
    for name, took in rows:
        print(f"{name:36} {took * 1e3:8.3f} {took / base:11.2f} {1 / took:10.0f}")
    verdict = "ok" if per_device <= AIM_S else "MISSED"
    print(f"\naim: render + predict <= {AIM_S * 1e3:.0f} ms per device: {verdict}")
    print(f"submit-time rendering of all {n} targets: {submit * n:.2f} s")


if __name__ == "__main__":
    main()
