"""The journal: every visible change, in commit order, for the hubs to read and fan out.

A change and its journal entries are written in ONE transaction (see
:meth:`PostStore.apply` and :meth:`PostStore.change`), so a change is announced if and only
if it was stored: the bus can drop a wake-up hint, but never a post. The entries' format
(runs of messages joined by newlines) is :mod:`flask_twitsocket.messages`'.
"""

from __future__ import annotations

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
        """:meth:`entries_after` with each entry's walls (None: every wall)."""
        query = (
            select(JOURNAL.c.id, JOURNAL.c.kind, JOURNAL.c.payload, JOURNAL.c.walls)
            .where(JOURNAL.c.id > last_id)
            .order_by(JOURNAL.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.id, row.kind, row.payload, row.walls) for row in conn.execute(query)]
