"""The durable job store: SQLite (default) and PostgreSQL behind one interface.

``await open_store(url)`` returns a migrated ``SqlStore`` implementing ``Store``.
"""

from netfleet.store.interface import Store
from netfleet.store.sql_store import SqlStore, open_store

__all__ = ["SqlStore", "Store", "open_store"]
