"""Fixtures: simulated devices over real SSH on loopback, and Devices that log into them."""

from tests.support.device_fixtures import ios, ios_sim, known_hosts, make_device

__all__ = ["ios", "ios_sim", "known_hosts", "make_device"]
