"""Schedules in the store run on a SQLite store with two devices (not the contract matrix)."""

from tests.support.schedule_fixtures import store

__all__ = ["store"]
