"""Fixtures: a small simulated fleet and session pools, for running jobs on devices."""

from tests.support.pool_fixtures import make_pool, sim, specs

__all__ = ["make_pool", "sim", "specs"]
