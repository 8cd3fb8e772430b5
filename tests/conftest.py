"""Shared fixtures and test-run setup. Tests import their helpers from ``tests.support``."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Simulators started by tests keep their host keys in a temporary directory (one per
    run, shared by subprocesses), never in the user's cache."""
    if not os.environ.get("NETFLEET_SIM_KEY_DIR"):
        key_dir = tempfile.mkdtemp(prefix="netfleet-sim-keys-")
        os.environ["NETFLEET_SIM_KEY_DIR"] = key_dir
        atexit.register(shutil.rmtree, key_dir, True)


pytest.register_assert_rewrite("tests.support")
