"""Python API fixtures: every test runs on a SQLite file and on PostgreSQL."""

from tests.support.store_fixtures import pg_url, store_url

__all__ = ["pg_url", "store_url"]
