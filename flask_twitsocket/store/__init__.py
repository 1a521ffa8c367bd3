"""The store: posts and the journal entries that announce each change to the walls.

Writes go through :meth:`PostStore.apply`, which handles a whole batch in ONE transaction:
new posts are inserted with ``ON CONFLICT DO NOTHING`` (a post delivered twice is stored
once), edits and deletions are applied, and a journal entry per visible change is written
in the same transaction. A change is therefore announced if and only if it was stored:
the bus can drop a wake-up hint, but never a post.

The package owns its tables — posts, tombstones, pins, the top lists and the journal —
and nobody else writes them: moderation's changes run through :meth:`PostStore.change`
with the functions of :mod:`.visibility`. Modules: :mod:`.tables` (tables, row format),
:mod:`.posts` (insert, edit, delete), :mod:`.fast` (the driver-level insert paths),
:mod:`.journal`, :mod:`.visibility` (hide, show, pin, release), :mod:`.top`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select
from sqlalchemy.exc import SQLAlchemyError

from ..messages import Outgoing, count_message, tweet_message
from ..serialise import post_json
from ..shapes import Deletion, Edit, Normalised, PostData
from ..walls import DEFAULT_WALL, Router, StoredWall, WallSpec
from . import held_links, top, visibility, wall_table
from . import walls as on_walls
from .journal import Journal, JournalReader
from .posts import delete_post, edit, insert_posts, insert_rows
from .tables import POSTS, is_connection_error, now, post_row

__all__ = ["ApplyResult", "Change", "PostStore", "is_connection_error", "post_row"]

log = logging.getLogger("flask_twitsocket.store")

#: ``count(*)`` faster than this is run every time (exact); slower, its result is reused.
CHEAP_COUNT_SECONDS = 0.002
#: How long readers (pages, the JSON API, a wall's greeting) reuse an expensive count.
COUNT_READ_TTL = 1.0
#: How often a writer recounts for real when it otherwise adds its own changes.
COUNT_RESYNC_SECONDS = 10.0
#: One visible post by ``seq``, built once: the media proxy asks it for every image
#: request (a thousand phones at once). Without the ``raw`` column, which nothing shown
#: needs and which is the biggest.
_POST_BY_SEQ = select(*(column for column in POSTS.c if column.name != "raw")).where(
    POSTS.c.seq == bindparam("seq"), POSTS.c.hidden.is_(False))


#: A change to the tables, run in a writer's transaction (:meth:`PostStore.change`): it
#: returns the messages to journal and how many posts it made visible (or, negative,
#: invisible).
Change = Callable[[Connection], tuple[list[Outgoing], int]]


@dataclass
class ApplyResult:
    """What a batch changed: the posts newly stored (as JSON) and the counts of the rest."""

    stored: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    edited: int = 0
    deleted: int = 0
    #: The newest journal id this batch wrote (the bus hint), or None if it wrote none.
    journal_id: int | None = None



class PostStore:
    """Reads and writes the extension's tables on one SQLAlchemy engine."""

    def __init__(self, engine: Engine, journal_keep: int = 10_000,
                 keep_raw: bool = True, router: Router | None = None) -> None:
        self.engine = engine
        #: The site's walls when it has several (``TWITSOCKET_WALLS``); None: one wall,
        #: every path as it was before walls (no links, every entry for every wall).
        self.router = router if router is not None and not router.single else None
        #: ``TWITSOCKET_KEEP_RAW``: store each post's raw network payload, or ``{}``.
        self.keep_raw = keep_raw
        self.journal = Journal(engine, journal_keep)
        # The visible-post count, reused while counting is expensive (see count()).
        self._count_value: int | None = None
        self._count_at = 0.0
        self._count_cost = 0.0

    # --- writing ------------------------------------------------------------------------

    def apply(self, items: Sequence[Normalised], also: Change | None = None,
              holds: on_walls.Holds | None = None) -> ApplyResult:
        """Store a batch of normalised events atomically and journal what changed.

        ``also``: a change as :meth:`change` runs it, made first in the same transaction
        and journaled with the batch — the posts moderation holds back from this batch
        (the queue and the action log): one commit per batch, not two. A raid holds most
        of every batch, and a commit is a disk flush (and a round trip on PostgreSQL).
        ``holds``: on a site with several walls, the walls whose trust mode holds a new
        post back while it goes up on its others (see :mod:`.held_links`)."""
        result = ApplyResult()
        posts = [item for item in items if isinstance(item, PostData)]
        if not self.keep_raw:
            for post in posts:
                post.raw_text = "{}"
        with self.engine.begin() as conn:
            self.journal.lock(conn)
            changed, change_delta = also(conn) if also is not None else ([], 0)
            messages: list[Outgoing] = []
            if posts:
                stored = insert_posts(conn, posts)
                result.duplicates = len(posts) - len(stored)
                result.stored = stored
                messages += [("tweet", tweet_message(post)) for post in stored]
            for item in items:
                if isinstance(item, Edit):
                    message = edit(conn, item.post)
                    if message:
                        result.edited += 1
                        messages.append(("update", message))
                elif isinstance(item, Deletion):
                    message = delete_post(conn, item)
                    if message:
                        result.deleted += 1
                        messages.append(("delete", message))
            if self.router is not None:
                ids = [self._write_everywhere(conn, changed, change_delta)
                       if changed or change_delta else None]
                if messages:
                    ids.append(on_walls.write_routed(conn, self.journal, self.router, posts,
                                                     result.stored, messages, holds))
                result.journal_id = max(filter(None, ids), default=None)
            elif messages or changed or change_delta:
                if messages or change_delta:
                    delta = len(result.stored) - result.deleted + change_delta
                    messages.append(("count",
                                     count_message(self._count_after_write(conn, delta))))
                result.journal_id = self.journal.write(conn, [*changed, *messages])
        return result

    @staticmethod
    def insert_rows(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert prepared rows (see :func:`.posts.insert_rows`)."""
        return insert_rows(conn, rows)

    def change(self, work: Change) -> int | None:
        """Run a change (a moderator's action) in one transaction with its journal entries.

        ``work(conn)`` changes the tables through :mod:`.visibility` (and its caller's own
        tables), and returns the messages to journal and how many posts it made visible
        (positive) or invisible (negative); a ``count`` message is added when that is not
        zero. Returns the newest journal id (the bus hint), or None if nothing was written.
        """
        return self.apply((), work).journal_id

    def _write_everywhere(self, conn: Connection, messages: list[Outgoing], delta: int,
                          ) -> int | None:
        """A moderator's change on a site with several walls: each post's messages go to
        the walls showing it, the rest to every wall; then the count of each wall whose
        posts changed."""
        groups, changed = on_walls.route_change(conn, self.router, messages)
        counts = on_walls.count_messages(
            conn, [slug for slug in self.router.walls if slug in changed]) if delta else []
        return on_walls.write_groups(conn, self.journal, [*groups, *counts]) or None

    def change_on_wall(self, wall: str, work: Change) -> int | None:
        """:meth:`change` for one wall of a site with several: the messages go to that
        wall only, with its count."""
        with self.engine.begin() as conn:
            self.journal.lock(conn)
            messages, delta = work(conn)
            counts = on_walls.count_messages(conn, [wall]) if delta else []
            return on_walls.write_groups(conn, self.journal,
                                         [(wall, messages), *counts]) or None

    def release_held_links(self) -> tuple[int | None, bool]:
        """Release the posts whose delay on a wall has passed (see :mod:`.held_links`),
        each a ``tweet`` for that wall only, with its count: the newest journal id (or
        None), and whether other posts still wait for their delay. A read when none is
        due: the stream process asks every quarter of a second."""
        if self.router is None:
            return None, False
        moment = now()
        with self.engine.connect() as conn:
            ready, waiting = held_links.due(conn, moment)
        if not ready:
            return None, waiting
        walls = list(self.router.walls)
        with self.engine.begin() as conn:
            self.journal.lock(conn)
            groups, changed = held_links.release_due(conn, moment, walls)
            journal_id = on_walls.write_groups(
                conn, self.journal, [*groups, *on_walls.count_messages(conn, changed)])
        return journal_id or None, True

    def record_walls(self, walls: Mapping[str, WallSpec]) -> list[str]:
        """Write the config's walls to the walls table (the stream does at start): see
        :func:`.wall_table.record` (the console's walls are left as the console made them)."""
        with self.engine.begin() as conn:
            return wall_table.record(conn, walls)

    def stored_walls(self, parse: Callable[[Any], dict[str, WallSpec]],
                     known: tuple[Any, ...] | None = None,
                     ) -> tuple[tuple[Any, ...], list[StoredWall] | None]:
        """The walls table's fingerprint and, when it differs from ``known``, its rows."""
        with self.engine.connect() as conn:
            fingerprint = wall_table.version(conn)
            if fingerprint == known:
                return fingerprint, None
            return fingerprint, wall_table.read(conn, parse)

    def use_router(self, router: Router) -> None:
        """Route by a new set of walls from now on (walls created, edited or archived in
        the console). A site that goes from one wall to several links its stored posts to
        the default wall first, which shows every post: it keeps showing the old ones."""
        if router.single:
            self.router = None
            return
        if self.router is None and router.walls[DEFAULT_WALL].catch_all:
            with self.engine.begin() as conn:
                linked = wall_table.link_everything(conn, DEFAULT_WALL)
            if linked:
                log.info("Linked %d stored posts to the default wall", linked)
        self.router = router

    def wall_slugs(self) -> tuple[str, ...]:
        """The site's walls (just the default one on a single-wall site)."""
        return tuple(self.router.walls) if self.router is not None else (DEFAULT_WALL,)

    def recent_on(self, wall: str | None, limit: int, since_seq: int | None = None,
                  ) -> list[dict[str, Any]]:
        """:meth:`recent` of one wall (None: the default wall; a single-wall site's is
        every post)."""
        if self._everything_of(wall):
            return self.recent(limit, since_seq)
        with self.engine.connect() as conn:
            return on_walls.recent(conn, wall or DEFAULT_WALL, limit, since_seq)

    def gone_from(self, wall: str | None, seqs: Sequence[int]) -> list[int]:
        """Those of ``seqs`` (the posts a wall shows, bounded by the caller) that ``wall``
        (None: the default wall) no longer shows — deleted, hidden, hidden on that wall,
        never on it, or unknown — in the given order: what a wall that was offline must
        drop, since the ``delete`` messages it missed are not replayed."""
        if not seqs:
            return []
        with self.engine.connect() as conn:
            if self._everything_of(wall):
                shown = set(conn.execute(select(POSTS.c.seq).where(
                    POSTS.c.seq.in_(list(seqs)), POSTS.c.hidden.is_(False))).scalars())
            else:
                shown = on_walls.shown_of(conn, wall or DEFAULT_WALL, seqs)
        return [seq for seq in seqs if seq not in shown]

    def count_on(self, wall: str | None) -> int:
        """:meth:`count` of one wall (None: the default wall)."""
        if self._everything_of(wall):
            return self.count()
        wall = wall or DEFAULT_WALL
        with self.engine.connect() as conn:
            return on_walls.counts(conn, [wall])[wall]

    def top_users_on(self, wall: str | None, limit: int) -> list[Any]:
        """:meth:`top_users` of one wall (None: the default wall; a single-wall site's is
        the cached list)."""
        if self._shows_everything(wall):
            return self.top_users(limit)
        with self.engine.connect() as conn:
            return on_walls.top_users(conn, wall or DEFAULT_WALL, limit)

    def top_posts_on(self, wall: str | None, limit: int) -> list[dict[str, Any]]:
        """:meth:`top_posts` of one wall (None: the default wall; a single-wall site's is
        the cached list)."""
        if self._shows_everything(wall):
            return self.top_posts(limit)
        with self.engine.connect() as conn:
            return on_walls.top_posts(conn, wall or DEFAULT_WALL, limit)

    def _shows_everything(self, wall: str | None) -> bool:
        """Whether ``wall`` shows every post (a single-wall site, or a default wall without
        tracking of its own): its top lists are the cached ones, not an aggregation of the
        whole archive per request."""
        if self.router is None:
            return (wall or DEFAULT_WALL) == DEFAULT_WALL
        known = self.router.walls.get(wall or DEFAULT_WALL)
        return known is not None and known.catch_all

    def _everything_of(self, wall: str | None) -> bool:
        """Whether ``wall``'s posts are all the posts, read without links: the default
        wall of a site with one wall (an archived wall's posts stay linked to it)."""
        return self.router is None and (wall or DEFAULT_WALL) == DEFAULT_WALL

    def journal_entries_with_walls_after(self, last_id: int, limit: int = 100,
                                         ) -> list[tuple[int, str, str, str | None]]:
        """:meth:`journal_entries_after` with each entry's walls (None: every wall)."""
        return self.journal.entries_with_walls_after(last_id, limit)

    def journal_reader(self) -> JournalReader:
        """A reader of the journal for one thread (the hub's): the same entries as
        :meth:`journal_entries_with_walls_after`, through a connection it keeps; close it
        when done (see :class:`~.journal.JournalReader`)."""
        return JournalReader(self.journal)

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

    def post(self, seq: int) -> dict[str, Any] | None:
        """One visible post by ``seq`` (what the media proxy looks a URL up in)."""
        with self.engine.connect() as conn:
            row = conn.execute(_POST_BY_SEQ, {"seq": seq}).first()
        return post_json(row) if row is not None else None

    def journal_head(self) -> int:
        return self.journal.head()

    def journal_entries_after(self, last_id: int, limit: int = 100,
                              ) -> list[tuple[int, str, str]]:
        """Journal entries after ``last_id``, oldest first: ``(id, kind, payload)``."""
        return self.journal.entries_after(last_id, limit)

    def pinned_posts(self, wall: str | None = None) -> list[dict[str, Any]]:
        """The pinned posts (visible ones), oldest pin first: what a wall is told on connect;
        with ``wall`` (a site with several), the pins of every wall and that wall's own.

        Empty (and logged) when the table is missing — a worker restarted before
        ``upgrade-db`` ran must still serve its walls."""
        query = visibility.pinned_query(wall if self.router is not None else None)
        try:
            with self.engine.connect() as conn:
                return [post_json(row) for row in conn.execute(query)]
        except SQLAlchemyError as error:
            log.warning("Could not read the pinned posts (run upgrade-db?): %s", error)
            return []

    # --- the cached top lists -----------------------------------------------------------

    def top_users(self, limit: int) -> list[Any]:
        return top.top_users(self.engine, limit)

    def top_posts(self, limit: int) -> list[dict[str, Any]]:
        return top.top_posts(self.engine, limit)

    def refresh_top(self, limit: int = 100) -> tuple[int, int]:
        """Recompute the top users and top posts with SQL aggregation; returns their sizes."""
        return top.refresh_top(self.engine, limit)
