"""Database URLs, engines and the translation of database errors.

SQLite runs synchronous SQLAlchemy Core on one dedicated writer thread per
store (stdlib sqlite3 is ~30x faster than aiosqlite here); every write
transaction starts with ``BEGIN IMMEDIATE`` so claims never deadlock on lock
upgrades. PostgreSQL uses psycopg 3 through a small pool of sync connections,
one per store thread.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from netfleet.core.descriptors import TOO_MANY_OPEN_FILES, exhausted_now
from netfleet.core.errors import (
    ConfigurationError,
    Conflict,
    DatabaseUnavailable,
    NetfleetError,
    StoreError,
    ValidationError,
)

Dialect = Literal["sqlite", "postgresql"]
WRITE_KEY = "netfleet_write"
"""``Connection.info`` key: True makes the next SQLite transaction ``BEGIN IMMEDIATE``."""


def parse_url(url: str) -> tuple[URL, Dialect]:
    """Map a user URL (``sqlite:///path``, ``postgresql://...``) to a driver URL."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise ConfigurationError(
            f"invalid database URL {mask_url(url)!r}: use sqlite:///PATH or postgresql://..."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ConfigurationError(
                "an in-memory SQLite database cannot be shared by workers; use sqlite:///PATH"
            )
        return parsed.set(drivername="sqlite+pysqlite"), "sqlite"
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg"), "postgresql"
    raise ConfigurationError(
        f"unsupported database {backend!r} in {mask_url(url)!r}: use sqlite or postgresql"
    )


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def create_engine(url: str, *, threads: int) -> tuple[Engine, Dialect]:
    """An engine for ``url``; SQLite in WAL mode with ``BEGIN IMMEDIATE`` for writes."""
    driver_url, dialect = parse_url(url)
    if dialect == "sqlite":
        path = Path(str(driver_url.database)).expanduser()
        if not path.parent.exists():
            raise ConfigurationError(f"directory {path.parent} for the SQLite database is missing")
        if path.is_dir():
            raise ConfigurationError(f"{path} is a directory, not a SQLite database file")
        if not path.exists():  # created owner-only; SQLite gives -wal/-shm the same mode
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        engine = sa.create_engine(
            driver_url.set(database=str(path)),
            connect_args={"check_same_thread": False, "timeout": 30.0},
            pool_size=threads,
            max_overflow=0,
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine, dialect
    engine = sa.create_engine(
        driver_url,
        pool_size=threads,
        max_overflow=2,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 10, "application_name": "netfleet"},
    )
    # Batched INSERTs through SQLAlchemy as multi-row VALUES statements, not one statement
    # per row. The hot ones (task events, outputs, holds) use ``sql.bulk`` instead: one
    # fixed statement with a JSON document, whose text psycopg parses only once.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine, dialect


def _sqlite_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    if not conn.info.get(WRITE_KEY, True):
        conn.exec_driver_sql("BEGIN")
        return
    begin_immediate(cast(sqlite3.Connection, conn.connection.dbapi_connection))


BUSY_TIMEOUT_S = 30.0


def begin_immediate(raw: sqlite3.Connection, timeout: float = BUSY_TIMEOUT_S) -> None:
    """``BEGIN IMMEDIATE``, retrying with sub-millisecond sleeps while another process
    writes: SQLite's own busy handler sleeps in steps of up to 100 ms, which starves
    several worker processes sharing one database file."""
    deadline = time.monotonic() + timeout
    delay = 0.0001
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                text = str(exc).lower()
                if "locked" not in text and "busy" not in text:
                    raise
                if time.monotonic() > deadline:
                    raise DatabaseUnavailable(
                        f"the SQLite database stayed locked by another writer for {timeout:.0f}s"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 1.5, 0.002)
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")


_UNAVAILABLE_SQLSTATES = ("08", "57P", "53")


def translate(error: BaseException, what: str) -> NetfleetError:
    """A netfleet error for a database exception raised while doing ``what``."""
    if isinstance(error, NetfleetError):
        return error
    if isinstance(error, exc.IntegrityError):
        return Conflict(f"{what}: conflicts with existing data ({_short(error)})")
    if isinstance(error, exc.DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        if sqlstate == "22003":
            return ValidationError(f"{what}: a number is out of range")
        if error.connection_invalidated or sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return DatabaseUnavailable(f"{what}: database unavailable ({_short(error)})")
        if isinstance(error, exc.OperationalError):
            message = str(error.orig).lower()
            if "unable to open" in message and exhausted_now():  # SQLite hides EMFILE
                return DatabaseUnavailable(
                    f"{what}: cannot open the database: {TOO_MANY_OPEN_FILES} in this process"
                )
            if "locked" in message or "busy" in message or "unable to open" in message:
                return DatabaseUnavailable(
                    f"{what}: database busy or unreachable ({_short(error)})"
                )
            if "connection" in message or "server" in message:
                return DatabaseUnavailable(f"{what}: database unavailable ({_short(error)})")
        return StoreError(f"{what}: database error ({_short(error)})")
    if isinstance(error, exc.SQLAlchemyError):
        return StoreError(f"{what}: {_short(error)}")
    if isinstance(error, OSError):
        return DatabaseUnavailable(f"{what}: {error.strerror or error}")
    return StoreError(f"{what}: {type(error).__name__}: {error}")


def _short(error: BaseException) -> str:
    orig: Any = getattr(error, "orig", None) or error
    text = str(orig).strip().splitlines()
    return mask_url(text[0][:300]) if text else type(orig).__name__
