"""The durable job store: SQLite (default) and PostgreSQL behind one ``SqlStore``.

``await open_store(url)`` returns a migrated ``SqlStore``.

Convention (how the package is cut):

- ``netfleet.store.sql``: all SQL, one module per table family (devices, targets,
  credentials, jobs, reads, claims, completions, reaping, events, holds, workers,
  schedules, tokens, audit, metrics; and the integrations' outbox, notifications,
  delivery_log, sources on ``schema_integrations``), each a set of plain functions ``f(conn, ...)``
  that run inside the transaction the caller opened. They take what they need
  (``now``, ``postgres``, the ``SecretBox``) as arguments; the hot-path statements
  are built once in ``sql/statements.py``. They import no façade.
- ``netfleet.store.facades``: one thin async class per family, reached as an
  attribute of ``SqlStore`` (``store.jobs.submit(spec)``, ``store.schedules.create(spec)``,
  ``store.tokens.verify(token)``). A façade method clamps its input, runs SQL functions
  in one ``Database.run`` transaction, reads the clock there (``db.clock(conn)``) and
  wakes workers (``db.wake()``) when it made work ready.
- ``database.py`` (engine, threads, transactions, clock, wake-ups), ``engine.py``
  (URLs, error translation), ``schema.py`` (every table), ``records.py`` (what the
  façades take and return), ``crypto.py``, ``migrations/`` (Alembic).

To add a family: its tables in ``schema.py`` with a new migration, its SQL in
``sql/<family>.py``, its façade class in ``facades/`` (a new module, or the one of
its neighbours), and one attribute in ``SqlStore.__init__``.

Times are float seconds since the Unix epoch (UTC) everywhere. On PostgreSQL the
store uses the database clock; on SQLite (one machine) the process clock. Ids of
jobs, tasks, devices, credentials, schedules and events are integers; worker ids
are strings chosen by the worker (``host-pid-random``).

Errors: every operation raises only ``netfleet.core.errors`` types —
``ValidationError`` (bad input, nothing stored), ``NotFound``, ``Conflict``,
``LeaseLost`` (fenced out), ``DatabaseUnavailable`` (transient), ``StoreError``.
"""

from netfleet.store.sql_store import SqlStore, open_store

__all__ = ["SqlStore", "open_store"]
