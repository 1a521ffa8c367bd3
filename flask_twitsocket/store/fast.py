"""The fast insert paths: many rows through the DB-API driver itself, in the store's
transaction. Ingest profiles put SQLAlchemy's per-row handling above the insert itself
(see each function); what is stored is exactly what SQLAlchemy would store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Connection, select

from .tables import POSTS, TOMBSTONES, Key, insert_ignore, key_clause

_PG_NAMES = [column.name for column in POSTS.c if column.name != "seq"]
_PG_INSERT = "INSERT INTO {table} ({names}) VALUES ({values}) ON CONFLICT DO NOTHING " \
    "RETURNING {returned}".format(
        table=POSTS.name, names=", ".join(f'"{name}"' for name in _PG_NAMES),
        values=", ".join(f"%({name})s" for name in _PG_NAMES),
        returned='"seq", "network", "post_id"')


def _insert_many_psycopg(conn: Connection, rows: list[dict[str, Any]]) -> list[Any]:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING`` for many rows through psycopg itself.

    Why not SQLAlchemy here: its multi-row INSERT for RETURNING has ~10,000 placeholders
    per batch, and psycopg re-parses a query that long on every call (its cache skips
    long queries) — 60% of ingest time on PostgreSQL. psycopg's own ``executemany`` sends
    one short prepared statement per row in a pipeline, inside the same transaction.
    """
    from psycopg.rows import namedtuple_row

    driver = conn.connection.driver_connection
    inserted: list[Any] = []
    with driver.cursor(row_factory=namedtuple_row) as cursor:
        cursor.executemany(_PG_INSERT, rows, returning=True)
        while True:
            inserted.extend(cursor.fetchall())
            if not cursor.nextset():
                break
    return inserted



_PG_TOMBSTONED = f"SELECT network, post_id FROM {TOMBSTONES.name} WHERE post_id = ANY(%s)"


@lru_cache(maxsize=8)
def _sqlite_tombstoned(count: int) -> str:
    marks = ", ".join(["?"] * count)
    return f"SELECT network, post_id FROM {TOMBSTONES.name} WHERE post_id IN ({marks})"


_SQLITE_NEWEST = f"SELECT seq, network, post_id FROM {POSTS.name} ORDER BY seq DESC LIMIT ?"
_row_values = itemgetter(*_PG_NAMES)


def _insert_many_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> list[Any]:
    """``INSERT … ON CONFLICT DO NOTHING`` for many rows; the stored ones' keys and seq.

    sqlite3 cannot return rows from ``executemany``, but it needs none: the transaction
    holds SQLite's only write lock from the first insert on, and ``seq`` only grows
    (AUTOINCREMENT), so the rows this call stored are the ``rowcount`` newest.
    """
    count = driver_insert(conn, POSTS, _PG_NAMES, map(_row_values, rows), ignore=True)
    if count <= 0:
        return []
    return conn.exec_driver_sql(_SQLITE_NEWEST, (count,)).all()


def driver_insert(conn: Connection, table: Any, names: Sequence[str],
                   rows: Iterable[Sequence[Any]], ignore: bool = False) -> int:
    """Insert value tuples (in ``names`` order) with the DBAPI driver's own
    ``executemany`` (SQLite or psycopg), in the same transaction; the rows stored.

    Why not SQLAlchemy here: its per-row parameter handling and the multi-row statement
    with thousands of placeholders it builds (which psycopg re-parses on every call) cost
    more than the insert itself (ingest profile). Values go through the columns' own
    SQLAlchemy bind processors (dates become the same text on SQLite), so what is stored
    is exactly what SQLAlchemy stored.
    """
    processors = _bind_processors(conn, table, tuple(names))
    values: list[Any] = []
    # A batch shares one ``stored_at``: convert a value again only when it is another object.
    seen: dict[int, tuple[Any, Any]] = {}
    for row in rows:
        value = list(row)
        for index, process in processors:
            given = value[index]
            last = seen.get(index)
            if last is not None and last[0] is given:
                value[index] = last[1]
            else:
                value[index] = converted = process(given)
                seen[index] = (given, converted)
        values.append(value)
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.executemany(_insert_sql(table.name, tuple(names), mark, ignore), values)
        return cursor.rowcount
    finally:
        cursor.close()


@lru_cache(maxsize=16)
def _insert_sql(table: str, names: tuple[str, ...], mark: str, ignore: bool) -> str:
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join([mark] * len(names))
    conflict = " ON CONFLICT DO NOTHING" if ignore else ""
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict}"


_PROCESSORS: dict[tuple[str, str, tuple[str, ...]], list[tuple[int, Callable[[Any], Any]]]] = {}


def _bind_processors(conn: Connection, table: Any, names: tuple[str, ...],
                     ) -> list[tuple[int, Callable[[Any], Any]]]:
    """(index, bind processor) of the columns whose values SQLAlchemy converts."""
    dialect = conn.dialect
    key = (dialect.name, table.name, names)
    if key not in _PROCESSORS:
        found = []
        for index, name in enumerate(names):
            column_type = table.c[name].type
            if isinstance(column_type, Boolean):
                continue  # the drivers bind True/False themselves; the check cost 5%
            process = column_type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                found.append((index, process))
        _PROCESSORS[key] = found
    return _PROCESSORS[key]



def tombstoned(conn: Connection, keys: Iterable[Key]) -> set[Key]:
    """Which of ``keys`` were deleted before: those are never stored again."""
    ids = [post_id for _network, post_id in keys]
    if not ids:
        return set()
    # One query per batch. On the drivers we know it is sent as plain SQL: compiling an
    # expanding IN of 500 ids through SQLAlchemy cost 2% of ingest time.
    name = conn.dialect.name
    if name == "postgresql":
        found = conn.exec_driver_sql(_PG_TOMBSTONED, (ids,))
    elif name == "sqlite" and len(ids) <= 30_000:  # under SQLite's variable limit
        found = conn.exec_driver_sql(_sqlite_tombstoned(len(ids)), tuple(ids))
    else:
        found = conn.execute(select(TOMBSTONES.c.network, TOMBSTONES.c.post_id)
                             .where(TOMBSTONES.c.post_id.in_(ids)))
    return {(network, post_id) for network, post_id in found}


@lru_cache(maxsize=32)
def _sqlite_keys(table: str, count: int) -> str:
    marks = ", ".join(["?"] * count)
    return f"SELECT network, post_id FROM {table} WHERE network = ? AND post_id IN ({marks})"


def keys_in(conn: Connection, table: Any, keys: Iterable[Key]) -> set[Key]:
    """Which of ``keys`` are rows of ``table`` (one with a ``(network, post_id)`` index).

    One plain query per network (``network = … AND post_id = ANY(…)``: a look-up in that
    index), sent as SQL by the driver: SQLAlchemy's expanding ``IN`` of a raid's hundreds
    of held posts a batch was compiled, rendered and re-parsed by psycopg (its cache
    skips long queries) on every batch — the biggest part of holding them."""
    by_network: dict[str, list[str]] = {}
    for network, post_id in keys:
        by_network.setdefault(network, []).append(post_id)
    name = conn.dialect.name
    found: set[Key] = set()
    for network, ids in by_network.items():
        if name == "postgresql":
            rows = conn.exec_driver_sql(
                f"SELECT network, post_id FROM {table.name} WHERE network = %s "
                "AND post_id = ANY(%s)", (network, ids))
        elif name == "sqlite" and len(ids) <= 30_000:  # under SQLite's variable limit
            rows = conn.exec_driver_sql(_sqlite_keys(table.name, len(ids)), (network, *ids))
        else:
            rows = conn.execute(select(table.c.network, table.c.post_id).where(
                key_clause(table, [(network, post_id) for post_id in ids])))
        found.update((row_network, post_id) for row_network, post_id in rows)
    return found


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> list[Any]:
    """Insert prepared post rows (duplicates ignored); ``(seq, network, post_id)`` of the
    stored ones."""
    if conn.dialect.name == "postgresql":
        return _insert_many_psycopg(conn, rows)
    if conn.dialect.name == "sqlite":
        return _insert_many_sqlite(conn, rows)
    statement = insert_ignore(conn).returning(POSTS.c.seq, POSTS.c.network, POSTS.c.post_id)
    return conn.execute(statement, rows).all()
