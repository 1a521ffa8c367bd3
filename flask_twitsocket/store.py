"""Storage of posts, and the journal entries that announce each change to the walls.

Writes go through :meth:`PostStore.apply`, which handles a whole batch in ONE transaction:
new posts are inserted with ``ON CONFLICT DO NOTHING`` (a post delivered twice is stored
once), edits and deletions are applied, and a journal entry per visible change is written
in the same transaction. A change is therefore announced if and only if it was stored:
the bus can drop a wake-up hint, but never a post.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Boolean, Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from .models import JournalEntry, Post, Tombstone, TopPost, TopUser
from .normalise import Deletion, Edit, Normalised, PostData
from .render import render_html, safe_url
from .serialise import (
    count_message,
    delete_message,
    dumps,
    post_json,
    tweet_message,
    update_message,
)

log = logging.getLogger("flask_twitsocket.store")

POSTS = Post.__table__
JOURNAL = JournalEntry.__table__
TOMBSTONES = Tombstone.__table__
#: ``count(*)`` faster than this is run every time (exact); slower, its result is reused.
CHEAP_COUNT_SECONDS = 0.002
#: How long readers (pages, the JSON API, a wall's greeting) reuse an expensive count.
COUNT_READ_TTL = 1.0
#: How often a writer recounts for real when it otherwise adds its own changes.
COUNT_RESYNC_SECONDS = 10.0
#: Journal kinds starting with this are for moderators' consoles only.
MODERATOR_KIND_PREFIX = "mod"
#: At most this many messages share one journal entry: a reader's memory stays bounded
#: (an entry is ~1 KB a post) while a burst still costs a handful of rows, not one a post.
MESSAGES_PER_ENTRY = 64
#: How often (in journal writes) old journal entries are pruned.
PRUNE_EVERY = 200


@dataclass
class ApplyResult:
    """What a batch changed: the posts newly stored (as JSON) and the counts of the rest."""

    stored: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0
    #: The newest journal id this batch wrote (the bus hint), or None if it wrote none.
    journal_id: int | None = None


def now() -> datetime:
    return datetime.now(timezone.utc)


#: DB-API and SQLAlchemy errors that mean "the database cannot be reached (now)", as
#: opposed to "it refuses this data". psycopg, sqlite3 and SQLAlchemy all use these names.
_CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "DisconnectionError"})


def is_connection_error(error: BaseException) -> bool:
    """Whether ``error`` is the database being unreachable, worth waiting for and retrying.

    Anything else (a value the database refuses, a bug) would fail again on retry: the
    caller must drop the offending data instead of retrying for ever. The store's fast
    paths call the DB-API driver directly, so its own (unwrapped) errors count too.
    """
    if getattr(error, "connection_invalidated", False):
        return True
    return any(kind.__name__ in _CONNECTION_ERRORS for kind in type(error).__mro__)


class PostStore:
    """Reads and writes the extension's tables on one SQLAlchemy engine."""

    def __init__(self, engine: Engine, journal_keep: int = 10_000) -> None:
        self.engine = engine
        self.journal_keep = journal_keep
        self._writes_since_prune = 0
        # The visible-post count, reused while counting is expensive (see count()).
        self._count_value: int | None = None
        self._count_at = 0.0
        self._count_cost = 0.0

    # --- writing ------------------------------------------------------------------------

    def apply(self, items: Sequence[Normalised]) -> ApplyResult:
        """Store a batch of normalised events atomically and journal what changed."""
        result = ApplyResult()
        posts = [item for item in items if isinstance(item, PostData)]
        with self.engine.begin() as conn:
            self._lock_journal(conn)
            messages: list[tuple[str, str]] = []
            if posts:
                stored = self._insert_posts(conn, posts)
                result.duplicates = len(posts) - len(stored)
                result.stored = stored
                messages += [("tweet", tweet_message(post)) for post in stored]
            for item in items:
                if isinstance(item, Edit):
                    message = self._edit(conn, item.post)
                    if message:
                        result.edited += 1
                        messages.append(("update", message))
                elif isinstance(item, Deletion):
                    message = self._delete(conn, item)
                    if message:
                        result.deleted += 1
                        messages.append(("delete", message))
            if messages:
                delta = len(result.stored) - result.deleted
                messages.append(("count", count_message(self._count_after_write(conn, delta))))
                result.journal_id = self._journal(conn, messages)
        return result

    def _insert_posts(self, conn: Connection, posts: list[PostData]) -> list[dict[str, Any]]:
        unique: dict[tuple[str, str], PostData] = {}
        for post in posts:
            unique.setdefault((post.network, post.post_id), post)
        buried = self._tombstoned(conn, unique)
        stamp = now()
        return self.insert_rows(conn, [_row(post, stamp) for key, post in unique.items()
                                       if key not in buried])

    def insert_rows(self, conn: Connection, rows: list[dict[str, Any]],
                    ) -> list[dict[str, Any]]:
        """Insert prepared rows (duplicates ignored); the stored ones as post JSON, by seq.

        Also how moderation releases a held-back post: it gets its ``seq`` only then."""
        if not rows:
            return []
        # executemany, not .values(rows): SQLAlchemy then batches the rows into multi-row
        # INSERTs from ONE cached compiled statement ("insertmanyvalues"); .values(rows)
        # compiled a fresh 500-row statement per batch and took 60% of ingest time.
        # Only the keys and the new seq come back: the rest is in ``rows`` already, and
        # returning every column (raw JSON included) cost more than the insert itself.
        if conn.dialect.name == "postgresql":
            inserted = _insert_many_psycopg(conn, rows)
        elif conn.dialect.name == "sqlite":
            inserted = _insert_many_sqlite(conn, rows)
        else:
            statement = _insert_ignore(conn).returning(
                POSTS.c.seq, POSTS.c.network, POSTS.c.post_id)
            inserted = conn.execute(statement, rows).all()
        by_key = {(row["network"], row["post_id"]): row for row in rows}
        return [post_json(SimpleNamespace(**by_key[(new.network, new.post_id)], seq=new.seq))
                for new in sorted(inserted, key=lambda new: new.seq)]

    def _tombstoned(self, conn: Connection, keys: Iterable[tuple[str, str]]) -> set:
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

    def _edit(self, conn: Connection, post: PostData) -> str | None:
        row = _row(post)
        for key in ("network", "post_id", "stored_at", "hidden"):
            row.pop(key)
        updated = conn.execute(
            update(POSTS)
            .where(POSTS.c.network == post.network, POSTS.c.post_id == post.post_id)
            .values(row)
            .returning(*POSTS.c)
        ).first()
        if updated is None or updated.hidden:
            return None
        return update_message(post_json(updated))

    def _delete(self, conn: Connection, deletion: Deletion) -> str | None:
        conn.execute(
            _insert_ignore(conn, TOMBSTONES).values(
                network=deletion.network, post_id=deletion.post_id, reason="deleted",
                created_at=now(),
            )
        )
        gone = conn.execute(
            delete(POSTS)
            .where(POSTS.c.network == deletion.network, POSTS.c.post_id == deletion.post_id)
            .returning(POSTS.c.seq, POSTS.c.hidden)
        ).first()
        if gone is None or gone.hidden:
            return None
        return delete_message(deletion.network, deletion.post_id, gone.seq)

    def _lock_journal(self, conn: Connection) -> None:
        """Serialise journal writers on PostgreSQL so ids become visible in order.

        A reader moves its cursor past the highest id it saw; if two transactions could
        commit ids out of order, the lower one would be skipped. SQLite already allows
        only one writer at a time.
        """
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7305147)"))

    def _journal(self, conn: Connection, messages: list[tuple[str, str]]) -> int:
        """Write the entries; returns the newest id (safe to read: writers are serialised)."""
        stamp = now()
        entries = [(kind, payload, stamp) for kind, payload in journal_entries(messages)]
        if conn.dialect.name in ("sqlite", "postgresql"):
            _driver_insert(conn, JOURNAL, _JOURNAL_NAMES, entries)
        else:
            conn.execute(insert(JOURNAL), [dict(zip(_JOURNAL_NAMES, entry, strict=True))
                                           for entry in entries])
        newest = conn.execute(select(func.max(JOURNAL.c.id))).scalar() or 0
        self._writes_since_prune += 1
        if self._writes_since_prune >= PRUNE_EVERY:
            self._writes_since_prune = 0
            conn.execute(delete(JOURNAL).where(JOURNAL.c.id <= newest - self.journal_keep))
        return newest

    def change(self, work: Callable[[Connection], tuple[list[tuple[str, str]], int]],
               ) -> int | None:
        """Run a change (a moderator's action) in one transaction with its journal entries.

        ``work(conn)`` returns the messages to journal and how many posts it made visible
        (positive) or invisible (negative); a ``count`` message is added when that is not
        zero. Returns the newest journal id (the bus hint), or None if nothing was written.
        """
        with self.engine.begin() as conn:
            self._lock_journal(conn)
            messages, delta = work(conn)
            if delta:
                messages = [*messages,
                            ("count", count_message(self._count_after_write(conn, delta)))]
            return self._journal(conn, messages) if messages else None

    # --- reading ------------------------------------------------------------------------

    def _count(self, conn: Connection) -> int:
        return conn.execute(
            select(func.count()).select_from(POSTS).where(POSTS.c.hidden.is_(False))
        ).scalar_one()

    def _fresh_count(self, conn: Connection) -> int:
        started = time.perf_counter()
        value = self._count(conn)
        self._count_cost = time.perf_counter() - started
        self._count_value, self._count_at = value, time.monotonic()
        return value

    def _expensive_count_cached(self, max_age: float) -> bool:
        return (self._count_value is not None and self._count_cost >= CHEAP_COUNT_SECONDS
                and time.monotonic() - self._count_at < max_age)

    def _count_after_write(self, conn: Connection, delta: int) -> int:
        """The count for a batch's count message: exact while ``count(*)`` is cheap; on a
        big archive (~30 ms at 1M posts on SQLite, paid per batch, i.e. per post at a
        normal pace) the last count plus this process's own changes, recounted every
        ``COUNT_RESYNC_SECONDS`` to take in other writers (moderators, other streams)."""
        if not self._expensive_count_cached(COUNT_RESYNC_SECONDS):
            return self._fresh_count(conn)
        self._count_value = (self._count_value or 0) + delta
        return self._count_value

    def count(self) -> int:
        """Visible posts. On a big archive a count up to ``COUNT_READ_TTL`` seconds old is
        reused: it was 80% of the wall page's and the JSON API's server time at 1M posts."""
        if self._expensive_count_cached(COUNT_READ_TTL):
            return self._count_value  # type: ignore[return-value]
        with self.engine.connect() as conn:
            return self._fresh_count(conn)

    def recent(self, limit: int, since_seq: int | None = None) -> list[dict[str, Any]]:
        """Visible posts, newest first; with ``since_seq`` only those stored after it."""
        query = select(POSTS).where(POSTS.c.hidden.is_(False))
        if since_seq is not None:
            query = query.where(POSTS.c.seq > since_seq)
        query = query.order_by(POSTS.c.seq.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [post_json(row) for row in conn.execute(query)]

    def journal_head(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(JOURNAL.c.id))).scalar() or 0

    def journal_entries_after(self, last_id: int, limit: int = 100,
                              ) -> list[tuple[int, str, str]]:
        """Journal entries after ``last_id``, oldest first: ``(id, kind, payload)``."""
        query = (
            select(JOURNAL.c.id, JOURNAL.c.kind, JOURNAL.c.payload)
            .where(JOURNAL.c.id > last_id)
            .order_by(JOURNAL.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.id, row.kind, row.payload) for row in conn.execute(query)]

    def top_users(self, limit: int) -> list[TopUser]:
        with self.engine.connect() as conn:
            query = select(TopUser.__table__).order_by(TopUser.rank).limit(limit)
            return list(conn.execute(query))

    def top_posts(self, limit: int) -> list[dict[str, Any]]:
        query = (
            select(POSTS, TopPost.__table__.c.retweet_count.label("top_count"))
            .join(TopPost.__table__, TopPost.__table__.c.post_seq == POSTS.c.seq)
            .where(POSTS.c.hidden.is_(False))
            .order_by(TopPost.__table__.c.rank)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            posts = []
            for row in conn.execute(query):
                post = post_json(row)
                post["retweet_count"] = int(row.top_count)
                posts.append(post)
            return posts

    # --- the cached top lists -----------------------------------------------------------

    def refresh_top(self, limit: int = 100) -> tuple[int, int]:
        """Recompute the top users and top posts with SQL aggregation; returns their sizes."""
        stamp = now()
        originals = POSTS.c.is_retweet.is_(False)
        visible = POSTS.c.hidden.is_(False)
        newest = func.max(POSTS.c.seq).label("newest")
        users = (
            select(
                POSTS.c.network,
                POSTS.c.author_id,
                func.count().label("post_count"),
                newest,
            )
            .where(visible)
            .group_by(POSTS.c.network, POSTS.c.author_id)
            .order_by(func.count().desc(), newest.desc())
            .limit(limit)
            .subquery()
        )
        latest = POSTS.alias("latest")
        user_rows = select(
            users.c.network, users.c.author_id, users.c.post_count,
            latest.c.author_username, latest.c.author_name, latest.c.author_avatar_url,
        ).join(latest, latest.c.seq == users.c.newest).order_by(
            users.c.post_count.desc(), users.c.newest.desc()
        )
        retweets = POSTS.alias("retweets")
        stored_retweets = (
            select(retweets.c.network, retweets.c.retweet_of, func.count().label("n"))
            .where(retweets.c.is_retweet.is_(True))
            .group_by(retweets.c.network, retweets.c.retweet_of)
            .subquery()
        )
        score = func.coalesce(stored_retweets.c.n, 0)
        best = (
            func.max(POSTS.c.retweet_count, score)
            if self.engine.dialect.name == "sqlite"
            else func.greatest(POSTS.c.retweet_count, score)
        ).label("score")
        post_rows = (
            select(POSTS.c.seq, best)
            .outerjoin(
                stored_retweets,
                (stored_retweets.c.network == POSTS.c.network)
                & (stored_retweets.c.retweet_of == POSTS.c.post_id),
            )
            .where(originals, visible)
            .order_by(best.desc(), POSTS.c.seq.desc())
            .limit(limit)
        )
        with self.engine.begin() as conn:
            top_users = [
                {"rank": rank, "network": row.network, "author_id": row.author_id,
                 "username": row.author_username, "name": row.author_name,
                 "avatar_url": row.author_avatar_url, "post_count": row.post_count,
                 "refreshed_at": stamp}
                for rank, row in enumerate(conn.execute(user_rows), start=1)
            ]
            top_posts = [
                {"rank": rank, "post_seq": row.seq, "retweet_count": row.score,
                 "refreshed_at": stamp}
                for rank, row in enumerate(conn.execute(post_rows), start=1)
            ]
            conn.execute(delete(TopUser.__table__))
            conn.execute(delete(TopPost.__table__))
            if top_users:
                conn.execute(insert(TopUser.__table__), top_users)
            if top_posts:
                conn.execute(insert(TopPost.__table__), top_posts)
        return len(top_users), len(top_posts)


def _insert_ignore(conn: Connection, table=POSTS):
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


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
_JOURNAL_NAMES = ("kind", "payload", "created_at")


def _insert_many_sqlite(conn: Connection, rows: list[dict[str, Any]]) -> list[Any]:
    """``INSERT … ON CONFLICT DO NOTHING`` for many rows; the stored ones' keys and seq.

    sqlite3 cannot return rows from ``executemany``, but it needs none: the transaction
    holds SQLite's only write lock from the first insert on, and ``seq`` only grows
    (AUTOINCREMENT), so the rows this call stored are the ``rowcount`` newest.
    """
    count = _driver_insert(conn, POSTS, _PG_NAMES, map(_row_values, rows), ignore=True)
    if count <= 0:
        return []
    return conn.exec_driver_sql(_SQLITE_NEWEST, (count,)).all()


def _driver_insert(conn: Connection, table: Any, names: Sequence[str],
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


def journal_entries(messages: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Group messages into journal entries ``(kind, payload)``: each run of messages for the
    same audience (walls, or moderators only) becomes ONE entry, its messages joined by
    newlines (JSON text never contains a raw newline), in order.

    Why: a burst of 500 posts is one journal row to write and to read, not 501 — the
    journal was 15% of ingest time with a row per message. ``kind`` is the messages' kind
    when they share one, else ``batch`` (``mod:batch`` for moderators' runs).
    """
    entries: list[tuple[str, str]] = []
    for moderator, run in groupby(messages, key=lambda message: is_moderator_kind(message[0])):
        group = list(run)
        for start in range(0, len(group), MESSAGES_PER_ENTRY):
            kinds, payloads = zip(*group[start:start + MESSAGES_PER_ENTRY], strict=True)
            kind = kinds[0] if len(set(kinds)) == 1 else (
                MODERATOR_KIND_PREFIX + ":batch" if moderator else "batch")
            entries.append((kind, "\n".join(payloads)))
    return entries


def journal_messages(payload: str) -> list[str]:
    """The messages of one journal entry's payload (see :func:`journal_entries`)."""
    return payload.split("\n")


def is_moderator_kind(kind: str) -> bool:
    """Journal kinds starting with ``mod`` (the queue, the action log) are for moderators'
    consoles only: the hub never hands them to a wall."""
    return kind.startswith(MODERATOR_KIND_PREFIX)


def _row(post: PostData, stamp: datetime | None = None) -> dict[str, Any]:
    """The posts-table row of ``post``; ``stamp`` is its ``stored_at`` (one per batch)."""
    # Defence in depth: no unsafe URL is even stored, whatever the client does with it.
    entities = [dict(entity, url=safe_url(entity.get("url")) or "") for entity in post.entities]
    html = post.html if post.html is not None else str(render_html(post.text, entities))
    return {
        "network": post.network,
        "post_id": post.post_id,
        "author_id": post.author.id,
        "author_username": post.author.username,
        "author_name": post.author.name,
        "author_avatar_url": safe_url(post.author.avatar_url),
        "text": post.text,
        "html": html,
        "entities": dumps(entities) if entities else "[]",
        "url": safe_url(post.url),
        "created_at": post.created_at,
        "is_retweet": post.is_retweet,
        "retweet_of": post.retweet_of,
        "retweet_of_author": post.retweet_of_author,
        "retweet_count": post.retweet_count,
        "raw": post.raw_text if post.raw_text is not None else dumps(post.raw),
        "hidden": False,
        "stored_at": stamp or now(),
    }
