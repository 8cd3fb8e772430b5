"""Device state persistence under ``--state-dir``: one JSON file per device.

A file holds ``{"platform": name, "state": DeviceState.to_json()}``; a file
for another platform (the fleet layout changed) is ignored. States are saved
periodically (only devices that received commands since the last save, or
were rebooted) and when the simulator stops.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from netfleet_sim.contract import PlatformSim
from netfleet_sim.device import SimDevice
from netfleet_sim.errors import SimulatorError

DEVICES_DIR = "devices"


def state_path(state_dir: Path, name: str) -> Path:
    return state_dir / DEVICES_DIR / f"{name}.json"


def load_state(state_dir: Path, name: str, platform: str, sim: PlatformSim) -> Any | None:
    """The saved state of device ``name`` if one exists for ``platform``, else None."""
    path = state_path(state_dir, name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SimulatorError(f"cannot read device state {path}: {exc}") from None
    if not isinstance(data, dict) or data.get("platform") != platform:
        return None
    try:
        return sim.load_state(data["state"])
    except Exception as exc:
        raise SimulatorError(f"cannot restore device state {path}: {exc!r}") from None


def save_state(state_dir: Path, device: SimDevice) -> None:
    """Write ``device``'s state atomically."""
    path = state_path(state_dir, device.name)
    tmp = path.with_suffix(".tmp")
    payload = {"platform": device.platform, "state": device.state.to_json()}
    try:
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise SimulatorError(f"cannot save device state {path}: {exc.strerror or exc}") from None


def prepare_state_dir(state_dir: Path) -> None:
    try:
        (state_dir / DEVICES_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimulatorError(f"cannot create state directory {state_dir}: {exc}") from None


def save_dirty(state_dir: Path, devices: list[SimDevice], *, everything: bool = False) -> int:
    """Save the devices changed since their last save (all with ``everything``)."""
    saved = 0
    for device in devices:
        if everything or device.dirty:
            device.dirty = False
            save_state(state_dir, device)
            saved += 1
    return saved
