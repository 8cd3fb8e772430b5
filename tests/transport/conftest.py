"""Fixtures: simulated devices and Devices that log into them (jump hosts, host keys)."""

from tests.support.device_fixtures import ios, ios_sim, known_hosts, make_device

__all__ = ["ios", "ios_sim", "known_hosts", "make_device"]
