"""Fixtures of the conformance suite (defined in ``emulators``)."""

from __future__ import annotations

from emulators import fake_switches, fakenos

__all__ = ["fake_switches", "fakenos"]
