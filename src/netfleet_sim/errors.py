"""The simulator's error type (the simulator imports nothing from netfleet)."""

from __future__ import annotations


class SimulatorError(Exception):
    """A simulator setting or resource problem, with a one-line message for the user."""
