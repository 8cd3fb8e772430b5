"""Shared fixtures and test-run setup. Tests import their helpers from ``tests.support``."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from netfleet.core.logging import registered_secrets, set_registered_secrets


def pytest_configure(config: pytest.Config) -> None:
    """Simulators started by tests keep their host keys in a temporary directory (one per
    run, shared by subprocesses), never in the user's cache."""
    if not os.environ.get("NETFLEET_SIM_KEY_DIR"):
        key_dir = tempfile.mkdtemp(prefix="netfleet-sim-keys-")
        os.environ["NETFLEET_SIM_KEY_DIR"] = key_dir
        atexit.register(shutil.rmtree, key_dir, True)


@pytest.fixture(autouse=True)
def _log_secrets_of_this_test() -> Iterator[None]:
    """Values a test registers for log masking (credentials, tokens it sends the API) end
    with it: otherwise a generated secret such as ``request`` (the API fuzzing test) masks
    that word in every later test's log lines in the same process."""
    before = registered_secrets()
    yield
    if registered_secrets() != before:
        set_registered_secrets(before)


pytest.register_assert_rewrite("tests.support")
