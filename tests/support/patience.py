"""How much longer the tests' bounds on waits are on a loaded machine."""

from __future__ import annotations

import os

PATIENCE = float(os.environ.get("NETFLEET_TEST_PATIENCE", "1") or 1)
"""Bounds of the tests' waits are multiplied by this (the under-load CI step sets 3:
subprocesses take several times longer to import, start and drain there)."""
