"""Batched INSERTs: one fixed statement per table whatever the number of rows.

On PostgreSQL the rows travel as one JSON document (``json_to_recordset``): the
statement text never changes, so psycopg parses it once and the server prepares and
plans it once. A multi-row ``VALUES`` list changes with the batch length, and cost
milliseconds of client CPU per batch to build and parse its placeholders. SQLite
keeps ``executemany`` (in-process, already the fastest there).

Values are stored exactly as the SQLAlchemy path stores them: each JSON column's
value is ``json.dumps`` of it (``None`` is JSON ``null``), floats round-trip by their
``repr``, and a text that PostgreSQL cannot hold (NUL) fails as it did. Rows
keep their order (ids grow with it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
Key = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_pg_cache: dict[Key, tuple[str, frozenset[str]] | None] = {}
_sa_cache: dict[tuple[str, Key], sa.Insert] = {}


def pg_type(column: sa.Column[Any]) -> str:
    """The recordset type of ``column``: strings as ``text`` (the INSERT's assignment
    checks the length, as it does for a bound value), JSON as ``text`` (cast after)."""
    type_ = column.type
    if isinstance(type_, sa.JSON | sa.String):
        return "text"
    return type_.compile(dialect=_PG)


def recordset(table: sa.Table, columns: Sequence[str], param: str = "doc") -> str:
    """``ROWS FROM (json_to_recordset(...)) WITH ORDINALITY AS r(columns..., n)``: the
    rows of the JSON document ``%(param)s`` typed as ``table``'s columns, ``r.n``
    their position."""
    typed = ", ".join(f"{c} {pg_type(table.c[c])}" for c in columns)
    names = ", ".join(columns)
    return (
        f"ROWS FROM (json_to_recordset(CAST(%({param})s AS json)) AS ({typed})) "
        f"WITH ORDINALITY AS r({names}, n)"
    )


def selected(table: sa.Table, columns: Sequence[str]) -> str:
    """The select list of ``recordset``'s columns, JSON columns cast back to ``json``."""
    return ", ".join(
        f"CAST(r.{c} AS json)" if isinstance(table.c[c].type, sa.JSON) else f"r.{c}"
        for c in columns
    )


def json_columns(table: sa.Table, columns: Sequence[str]) -> frozenset[str]:
    """The JSON columns among ``columns``."""
    return frozenset(c for c in columns if isinstance(table.c[c].type, sa.JSON))


def document(rows: Sequence[dict[str, Any]], columns: Sequence[str], js: frozenset[str]) -> str:
    """``rows`` as the JSON document of ``recordset`` (JSON columns encoded as text).

    Raises ``ValueError`` for values JSON cannot carry (NaN, infinities) and
    ``TypeError`` for values it cannot encode."""
    if js:
        rows = [{c: json.dumps(r[c]) if c in js else r[c] for c in columns} for r in rows]
    return json.dumps(rows, allow_nan=False)


def _key(
    table: sa.Table, row: dict[str, Any], conflict: Sequence[str], update: Sequence[str]
) -> Key:
    return (table.name, tuple(row), tuple(conflict), tuple(update))


def _pg_statement(
    table: sa.Table, columns: Sequence[str], conflict: Sequence[str], update: Sequence[str]
) -> tuple[str, frozenset[str]] | None:
    """The statement text and JSON columns; ``None`` when a column the rows leave out
    has a Python-side default (only SQLAlchemy's path fills those in)."""
    given = set(columns)
    if any(c.default is not None and c.name not in given for c in table.columns):
        return None
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"SELECT {selected(table, columns)} FROM {recordset(table, columns)} ORDER BY r.n"
    )
    if conflict:
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in update)
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}"
    return sql, json_columns(table, columns)


def insert_rows(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
    ahead: tuple[str, dict[str, Any]] | None = None,
) -> bool:
    """Insert ``rows`` (dicts with the same keys, in that order) into ``table``; with
    ``conflict`` (a unique key's columns), a row that exists gets the ``update``
    columns of the new one instead. ``ahead``: another data-modifying statement (SQL
    text with ``%(name)s`` parameters not named ``doc``, and its parameters) that
    PostgreSQL's path runs in the same statement (one round trip); returns whether it
    ran, else the caller runs it."""
    if not rows:
        return False
    key = _key(table, rows[0], conflict, update)
    if conn.dialect.name == "postgresql":
        if key not in _pg_cache:
            _pg_cache[key] = _pg_statement(table, key[1], conflict, update)
        built = _pg_cache[key]
        if built is not None:
            sql, js = built
            try:
                doc = document(rows, key[1], js)
            except (ValueError, TypeError):
                pass  # NaN and the like: SQLAlchemy's path stores or refuses them as before
            else:
                if ahead is None:
                    conn.exec_driver_sql(sql, {"doc": doc})
                    return False
                conn.exec_driver_sql(f"WITH ahead AS ({ahead[0]}) {sql}", {**ahead[1], "doc": doc})
                return True
    statement = _sa_cache.get((conn.dialect.name, key))
    if statement is None:
        statement = _statement(conn.dialect.name, table, conflict, update)
        _sa_cache[(conn.dialect.name, key)] = statement
    conn.execute(statement, list(rows))
    return False


def _statement(
    dialect: str, table: sa.Table, conflict: Sequence[str], update: Sequence[str]
) -> sa.Insert:
    """SQLAlchemy's statement: SQLite's, and PostgreSQL's fallback."""
    if not conflict:
        return table.insert()
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_update(
        index_elements=[table.c[c] for c in conflict],
        set_={c: insert.excluded[c] for c in update},
    )
