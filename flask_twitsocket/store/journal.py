"""The journal: every visible change, in commit order, for the hubs to read and fan out.

A change and its journal entries are written in ONE transaction (see
:meth:`PostStore.apply` and :meth:`PostStore.change`), so a change is announced if and only
if it was stored: the bus can drop a wake-up hint, but never a post. The entries' format
(runs of messages joined by newlines) is :mod:`flask_twitsocket.messages`'.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from ..messages import Outgoing, journal_entries
from .fast import driver_insert
from .tables import JOURNAL, now

#: How often (in journal writes) old journal entries are pruned.
PRUNE_EVERY = 200
_JOURNAL_NAMES = ("kind", "payload", "created_at", "walls")


class Journal:
    """Writes (under the writers' lock) and reads of the journal table."""

    def __init__(self, engine: Engine, keep: int) -> None:
        self.engine = engine
        self.keep = keep
        self._writes_since_prune = 0

    @staticmethod
    def lock(conn: Connection) -> None:
        """Serialise journal writers on PostgreSQL so ids become visible in order.

        A reader moves its cursor past the highest id it saw; if two transactions could
        commit ids out of order, the lower one would be skipped. SQLite already allows
        only one writer at a time.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7305147)"))

    def write(self, conn: Connection, messages: list[Outgoing], walls: str | None = None,
              ) -> int:
        """Write the entries (for ``walls``, space-separated slugs; None: every wall);
        returns the newest id (safe to read: writers are serialised)."""
        return self.write_runs(conn, [(walls, messages)])

    def write_runs(self, conn: Connection,
                   runs: list[tuple[str | None, list[Outgoing]]]) -> int:
        """Write runs of messages, each for its walls, in order, in ONE insert (a batch
        for several walls is as many runs as its posts alternate walls); the newest id."""
        stamp = now()
        entries = [(kind, payload, stamp, walls) for walls, messages in runs
                   for kind, payload in journal_entries(messages)]
        if conn.dialect.name in ("sqlite", "postgresql"):
            driver_insert(conn, JOURNAL, _JOURNAL_NAMES, entries)
        else:
            conn.execute(insert(JOURNAL), [dict(zip(_JOURNAL_NAMES, entry, strict=True))
                                           for entry in entries])
        newest = conn.execute(select(func.max(JOURNAL.c.id))).scalar() or 0
        self._writes_since_prune += 1
        if self._writes_since_prune >= PRUNE_EVERY:
            self._writes_since_prune = 0
            conn.execute(delete(JOURNAL).where(JOURNAL.c.id <= newest - self.keep))
        return newest

    def head(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(JOURNAL.c.id))).scalar() or 0

    def entries_after(self, last_id: int, limit: int = 100) -> list[tuple[int, str, str]]:
        """Journal entries after ``last_id``, oldest first: ``(id, kind, payload)``."""
        return [entry[:3] for entry in self.entries_with_walls_after(last_id, limit)]

    def entries_with_walls_after(self, last_id: int, limit: int = 100,
                                 ) -> list[tuple[int, str, str, str | None]]:
        """:meth:`entries_after` with each entry's walls (None: every wall). The hub reads
        through a :class:`JournalReader` instead."""
        query = (
            select(JOURNAL.c.id, JOURNAL.c.kind, JOURNAL.c.payload, JOURNAL.c.walls)
            .where(JOURNAL.c.id > last_id)
            .order_by(JOURNAL.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.id, row.kind, row.payload, row.walls) for row in conn.execute(query)]


#: ``read(last_id, limit)``: journal entries ``(id, kind, payload, walls)`` after
#: ``last_id``, oldest first (what a :class:`JournalReader` is).
JournalRead = Callable[[int, int], list[tuple[int, str, str, str | None]]]
_READ_SQL = (f"SELECT id, kind, payload, walls FROM {JOURNAL.name} "
             "WHERE id > {mark} ORDER BY id LIMIT {mark}")
#: The drivers whose own connections :class:`JournalReader` reads through, and the
#: parameter mark of each.
_DRIVER_MARKS = {"sqlite": "?", "postgresql": "%s"}


class JournalReader:
    """The hub thread's way to read the journal: ``reader(last_id, limit)`` is
    :meth:`Journal.entries_with_walls_after`, through one DB-API connection the reader
    keeps, with a plain query the driver sends (psycopg prepares it after a few calls).

    Why: a hub reads the journal once per post at a live pace (a bus hint per commit), and
    building, compiling and executing a SQLAlchemy ``select`` on a fresh pooled connection
    each time cost ~80 µs per pass (profile of ``benchmarks/bench_walls.py``) — with 10
    walls, more than handing the post to its hundred subscribers; the driver's own query on
    a kept connection takes ~3 µs on SQLite. On PostgreSQL the kept connection is in
    autocommit, so it never sits idle in a transaction between passes. Only one thread may
    use a reader; :meth:`close` gives the connection back to the pool.
    """

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        mark = _DRIVER_MARKS.get(journal.engine.dialect.name)
        self._sql = None if mark is None else _READ_SQL.format(mark=mark)
        self._pooled: Any = None  # the pool's proxy, given back on close()

    def __call__(self, last_id: int, limit: int = 100,
                 ) -> list[tuple[int, str, str, str | None]]:
        if self._sql is None:  # another database: SQLAlchemy's own query
            return self.journal.entries_with_walls_after(last_id, limit)
        try:
            cursor = self._connection().cursor()
            try:
                cursor.execute(self._sql, (last_id, limit))
                return cursor.fetchall()
            finally:
                cursor.close()
        except Exception:
            # Given back to the pool, whose reset throws a lost connection away; the hub's
            # next pass, after its back-off, reads through a new one.
            self.close()
            raise

    def _connection(self) -> Any:
        """The kept driver connection, taken from the pool on first use (and again after
        a failed read gave it back)."""
        if self._pooled is None:
            self._pooled = self.journal.engine.raw_connection()
            if self.journal.engine.dialect.name == "postgresql":
                self._pooled.driver_connection.autocommit = True
        return self._pooled.driver_connection

    def close(self) -> None:
        """Give the connection back to the pool, out of autocommit as the pool's other
        users (transactions through SQLAlchemy) expect it; harmless twice."""
        pooled, self._pooled = self._pooled, None
        if pooled is None:
            return
        try:
            if self.journal.engine.dialect.name == "postgresql":
                pooled.driver_connection.autocommit = False  # as the pool's other users expect
        finally:
            pooled.close()
