"""Store fixtures: every contract test runs on a SQLite file and on PostgreSQL."""

from tests.support.store_fixtures import other_store, pg_url, store, store_url

__all__ = ["other_store", "pg_url", "store", "store_url"]
