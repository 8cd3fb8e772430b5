"""Scheduler fixtures: a SQLite store with devices, a private PostgreSQL database."""

from tests.support.schedule_fixtures import pg_url, store

__all__ = ["pg_url", "store"]
