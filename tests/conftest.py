"""Shared fixtures. Tests import their helpers from the ``tests.support`` package."""

import pytest

pytest.register_assert_rewrite("tests.support")
