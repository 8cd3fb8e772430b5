"""netfleet_sim: simulated network devices over real SSH, for tests, demos and benchmarks.

This package imports nothing from ``netfleet``. The Python API::

    from netfleet_sim import Simulator

    async with Simulator(devices=3, platforms=["cisco_ios"], base_port=0) as sim:
        for d in sim.devices:
            d.name, d.host, d.port, d.platform, d.username, d.password, d.enable_secret
        dev = sim.device("sim-ios-0001")
        dev.stats          # DeviceStats(sessions_open, peak_sessions, logins, ...)
        dev.set_faults(hang_on="show clock", drop_mid_output=True, refuse_auth=True,
                       refuse_sessions=True, latency_ms=200, login_delay_ms=500)
        dev.clear_faults()
        await dev.reboot()  # drops sessions, discards unsaved changes
        dev.state           # the platform's DeviceState
        sim.write_inventory("fleet.yaml")

For synchronous code (netmiko, sync facades), ``with BackgroundSimulator(...) as bg:``
serves ``bg.sim`` from a background thread (:mod:`netfleet_sim.background`).

See :mod:`netfleet_sim.fleet` for every ``Simulator`` option,
:mod:`netfleet_sim.faults` for the faults, :mod:`netfleet_sim.server` for how
session limits are enforced and :mod:`netfleet_sim.control` for the HTTP
control interface.
"""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

with warnings.catch_warnings():
    # cryptography 51 deprecates DSA, and asyncssh names its DSA classes when imported.
    warnings.filterwarnings("ignore", "DSA is deprecated", CryptographyDeprecationWarning)
    import asyncssh  # noqa: F401

from netfleet_sim.background import BackgroundSimulator
from netfleet_sim.device import DeviceStats, Settings, SimDevice
from netfleet_sim.errors import SimulatorError
from netfleet_sim.faults import FaultError, Faults
from netfleet_sim.fleet import ALL_PLATFORMS, Simulator

__all__ = [
    "ALL_PLATFORMS",
    "BackgroundSimulator",
    "DeviceStats",
    "FaultError",
    "Faults",
    "Settings",
    "SimDevice",
    "Simulator",
    "SimulatorError",
]
