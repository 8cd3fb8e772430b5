"""Fixtures: a small simulated fleet and pools of real ``Device`` sessions into it."""

from tests.support.pool_fixtures import eventually, make_pool, sim, specs, with_password

__all__ = ["eventually", "make_pool", "sim", "specs", "with_password"]
