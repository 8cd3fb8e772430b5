"""The YAML inventory of a running fleet, for other netfleet commands to read.

Format::

    devices:
      - name: sim-ios-0001
        host: 127.0.0.1
        port: 20000
        platform: cisco_ios
        username: admin
        password: admin
        enable_secret: sim-enable
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from netfleet_sim.device import SimDevice
from netfleet_sim.errors import SimulatorError


def inventory_entries(devices: Iterable[SimDevice]) -> list[dict[str, Any]]:
    return [
        {
            "name": d.name,
            "host": d.host,
            "port": d.port,
            "platform": d.platform,
            "username": d.username,
            "password": d.password,
            "enable_secret": d.enable_secret,
        }
        for d in devices
    ]


def write_inventory(path: Path, devices: Iterable[SimDevice]) -> None:
    """Write the inventory atomically (readable by the owner only: it holds passwords)."""
    text = yaml.safe_dump(
        {"devices": inventory_entries(devices)}, sort_keys=False, default_flow_style=False
    )
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise SimulatorError(f"cannot write inventory {path}: {exc.strerror or exc}") from None
