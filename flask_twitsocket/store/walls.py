"""Posts on walls: the post↔wall links, per-wall reads and the journal entries by wall.

Only sites with several walls (``TWITSOCKET_WALLS``) come here: a single-wall site keeps
the store's original paths, with no link written and every journal entry for every wall.
A post is stored once and linked to each wall the :class:`~flask_twitsocket.walls.Router`
names; its ``tweet`` message is serialised once and written in ONE journal entry whose
``walls`` column names those walls, so the hubs hand the same text to each wall's
subscribers and never to another wall's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from itertools import groupby
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, and_, func, select, union, update

from ..messages import Outgoing, count_message, delete_message, queue_message, tweet_message
from ..models import PostWall
from ..serialise import loads, post_json
from ..shapes import Author, PostData
from ..walls import Router
from .fast import driver_insert
from .journal import Journal
from .tables import PINS, POSTS

POST_WALLS = PostWall.__table__
_LINK_NAMES = ("wall", "seq", "hidden", "held", "release_at")
#: Per post ``(network, post_id)``: the walls whose trust mode holds it back while it
#: goes up on its other walls, each with its release time (None: until a moderator
#: approves it there). Decided by the moderation gate, written with the links.
Holds = Mapping[tuple[str, str], Mapping[str, "datetime | None"]]


def walls_key(walls: Iterable[str]) -> str:
    """The journal's ``walls`` column for a set of walls (space-separated slugs)."""
    return " ".join(walls)


@lru_cache(maxsize=1024)
def split_walls_key(key: str) -> tuple[str, ...]:
    """The slugs of a journal ``walls`` column (:func:`walls_key`'s inverse), split once
    per distinct value rather than once per entry: the hub reads one per entry."""
    return tuple(key.split())


def link_stored(conn: Connection, router: Router, posts: Sequence[PostData],
                stored: Sequence[dict[str, Any]], holds: Holds | None = None,
                ) -> list[tuple[str, ...]]:
    """Link each newly stored post to its walls (held back on those ``holds`` names); the
    walls showing each now, in ``stored`` order."""
    by_key = {(post.network, post.post_id): post for post in posts}
    routes = [router.route(by_key[(post["network"], post["id"])]) for post in stored]
    return _link(conn, stored, routes, holds or {})


def link_released(conn: Connection, router: Router, stored: Sequence[dict[str, Any]],
                  holds: Holds | None = None) -> list[tuple[str, ...]]:
    """:func:`link_stored` for posts stored from prepared rows (held posts released),
    routed from their post JSON (text and author are all the router reads)."""
    return _link(conn, stored, [router.route(_as_post_data(post)) for post in stored],
                 holds or {})


def _link(conn: Connection, stored: Sequence[dict[str, Any]],
          routes: list[tuple[str, ...]], holds: Holds) -> list[tuple[str, ...]]:
    if not holds:  # the usual batch: every link shown (three columns, the rest default)
        rows = [(wall, int(post["seq"]), False)
                for post, walls in zip(stored, routes, strict=True) for wall in walls]
        if rows:
            driver_insert(conn, POST_WALLS, _LINK_NAMES[:3], rows)
        return routes
    rows, shown = [], []
    for post, walls in zip(stored, routes, strict=True):
        held = holds.get((post["network"], post["id"]), {})
        rows += [(wall, int(post["seq"]), wall in held, wall in held, held.get(wall))
                 for wall in walls]
        shown.append(tuple(wall for wall in walls if wall not in held))
    if rows:
        driver_insert(conn, POST_WALLS, _LINK_NAMES, rows)
    return shown


def walls_for(router: Router, post: dict[str, Any]) -> tuple[str, ...]:
    """The walls a post (as JSON: a held post in the queue) goes to once it is shown."""
    return router.route(_as_post_data(post))


def _as_post_data(post: dict[str, Any]) -> PostData:
    author = post.get("author") or {}
    return PostData(network=post["network"], post_id=post["id"], text=post["text"],
                    author=Author(id=str(author.get("id", "")),
                                  username=str(author.get("username", ""))),
                    created_at=post["created_at"])


def walls_of(conn: Connection, seqs: Iterable[int]) -> set[str]:
    """The walls showing any of these posts (not hidden there)."""
    seqs = list(seqs)
    if not seqs:
        return set()
    query = select(POST_WALLS.c.wall).where(POST_WALLS.c.seq.in_(seqs),
                                            POST_WALLS.c.hidden.is_(False)).distinct()
    return {row.wall for row in conn.execute(query)}


def shown_on(conn: Connection, wall: str, key: tuple[str, str]) -> bool:
    """Whether the post ``key`` is up on ``wall`` (linked there, hidden neither there nor
    on every wall)."""
    query = (select(POSTS.c.seq).select_from(_on_wall(wall))
             .where(POSTS.c.network == key[0], POSTS.c.post_id == key[1], _shown()))
    return conn.execute(query).first() is not None


def counts(conn: Connection, walls: Iterable[str]) -> dict[str, int]:
    """Visible posts per wall (the post visible, and not hidden on that wall)."""
    walls = list(walls)
    found = dict.fromkeys(walls, 0)
    if not walls:
        return found
    query = (select(POST_WALLS.c.wall, func.count())
             .select_from(POST_WALLS.join(POSTS, POSTS.c.seq == POST_WALLS.c.seq))
             .where(POST_WALLS.c.wall.in_(walls), POST_WALLS.c.hidden.is_(False),
                    POSTS.c.hidden.is_(False))
             .group_by(POST_WALLS.c.wall))
    found.update({wall: count for wall, count in conn.execute(query)})
    return found


def count_messages(conn: Connection, walls: Iterable[str]) -> list[tuple[str, list[Outgoing]]]:
    """One ``count`` message per wall, each for its own wall."""
    return [(wall, [("count", count_message(count))])
            for wall, count in counts(conn, walls).items()]


def write_routed(conn: Connection, journal: Journal, router: Router,
                 posts: Sequence[PostData], stored: Sequence[dict[str, Any]],
                 messages: Sequence[Outgoing], holds: Holds | None = None) -> int:
    """Journal a batch by wall: ``messages`` are the batch's (its ``tweet`` messages
    first, one per ``stored`` post). New posts go to their walls (not to those holding
    them back: ``holds``), edits to the walls showing the post, deletions to every wall
    (the links are gone with the post); then a count for each wall that changed."""
    routes = link_stored(conn, router, posts, stored, holds)
    routed: list[tuple[str | None, Outgoing]] = [
        (walls_key(walls), message)
        for walls, message in zip(routes, messages[:len(stored)], strict=True) if walls]
    changed = {wall for walls in routes for wall in walls}
    for kind, text in messages[len(stored):]:
        if kind == "update":
            walls = walls_of(conn, [int(loads(text)["tweet"]["seq"])])
            routed.append((walls_key(sorted(walls)), (kind, text)))
        elif kind == "delete":
            routed.append((None, (kind, text)))
            changed.update(router.walls)
    groups = [(key, [message for _, message in run])
              for key, run in groupby(routed, key=lambda item: item[0])]
    if holds and any((post["network"], post["id"]) in holds for post in stored):
        groups.append((None, [queue_message("held", None)]))  # consoles: re-read the queue
    return write_groups(conn, journal, [*groups, *count_messages(
        conn, [slug for slug in router.walls if slug in changed])])


def route_change(conn: Connection, router: Router, messages: Sequence[Outgoing],
                 ) -> tuple[list[tuple[str | None, list[Outgoing]]], set[str]]:
    """A moderator's change by wall: a ``tweet`` (a post shown again, or a held post
    released and linked here) or a ``delete`` (a post hidden: its links stay) goes to the
    walls linked to the post; the rest (pins, the console's own messages) to every wall.
    Also the walls whose posts changed (for their counts)."""
    routed: list[tuple[str | None, Outgoing]] = []
    changed: set[str] = set()
    for kind, text in messages:
        walls: set[str] | None = None
        if kind == "tweet":
            post = loads(text)["tweet"]
            seq = int(post["seq"])
            walls = walls_of(conn, [seq]) or set(link_released(conn, router, [post])[0])
        elif kind == "delete":
            seq_text = loads(text).get("seq")
            walls = walls_of(conn, [int(seq_text)]) if seq_text is not None else None
        if walls is None:
            routed.append((None, (kind, text)))
            continue
        changed |= walls
        routed.append((walls_key(slug for slug in router.walls if slug in walls),
                       (kind, text)))
    return [(key, [message for _, message in run])
            for key, run in groupby(routed, key=lambda item: item[0])], changed


def write_groups(conn: Connection, journal: Journal,
                 groups: Sequence[tuple[str | None, list[Outgoing]]]) -> int:
    """Write runs of messages, each for its walls (None: every wall), in order, in one
    insert; the newest journal id (0 when there was nothing to write)."""
    runs = [(walls, list(group)) for walls, group in groups if group and walls != ""]
    return journal.write_runs(conn, runs) if runs else 0


def recent(conn: Connection, wall: str, limit: int, since_seq: int | None = None,
           ) -> list[dict[str, Any]]:
    """A wall's visible posts, newest first; with ``since_seq`` only those after it."""
    query = select(POSTS).select_from(_on_wall(wall)).where(_shown())
    if since_seq is not None:
        query = query.where(POST_WALLS.c.seq > since_seq)
    query = query.order_by(POST_WALLS.c.seq.desc()).limit(limit)
    return [post_json(row) for row in conn.execute(query)]


def shown_of(conn: Connection, wall: str, seqs: Sequence[int]) -> set[int]:
    """Those of ``seqs`` that ``wall`` shows now: the post visible, and linked to the wall
    and not hidden there, or pinned (pins are every wall's: each wall's greeting names
    them). One statement of indexed ``IN`` look-ups; the caller bounds ``seqs``."""
    if not seqs:
        return set()
    seqs = list(seqs)
    linked = (select(POST_WALLS.c.seq).select_from(_on_wall(wall))
              .where(_shown(), POST_WALLS.c.seq.in_(seqs)))
    pinned = (select(POSTS.c.seq)
              .join(PINS, and_(PINS.c.network == POSTS.c.network,
                               PINS.c.post_id == POSTS.c.post_id))
              .where(POSTS.c.hidden.is_(False), POSTS.c.seq.in_(seqs)))
    return set(conn.execute(union(linked, pinned)).scalars())


def move_links(conn: Connection, old_seq: int, new_seq: int) -> None:
    """A post shown again gets a fresh seq: its walls (and where it is hidden) follow.
    (PostgreSQL's ``ON UPDATE CASCADE`` did it already; SQLite enforces no foreign key.)"""
    conn.execute(update(POST_WALLS).where(POST_WALLS.c.seq == old_seq).values(seq=new_seq))


def hide_on_wall(conn: Connection, wall: str, key: tuple[str, str], hidden: bool,
                 ) -> Outgoing | None:
    """Hide (or show again) one visible post on one wall only; the message for that wall
    (``delete``, or ``tweet`` with the post's own seq), or None when nothing changed."""
    row = conn.execute(select(POSTS).where(POSTS.c.network == key[0],
                                           POSTS.c.post_id == key[1],
                                           POSTS.c.hidden.is_(False))).first()
    if row is None or not conn.execute(
            update(POST_WALLS).where(POST_WALLS.c.wall == wall, POST_WALLS.c.seq == row.seq,
                                     POST_WALLS.c.hidden.is_(not hidden))
            .values(hidden=hidden, held=False, release_at=None)).rowcount:
        return None
    if hidden:
        return "delete", delete_message(row.network, row.post_id, row.seq)
    return "tweet", tweet_message(post_json(row))


# --- a wall's top lists (computed on demand: a wall is a fraction of the archive) -------


def _on_wall(wall: str) -> Any:
    return (POSTS.join(POST_WALLS, and_(POST_WALLS.c.seq == POSTS.c.seq,
                                        POST_WALLS.c.wall == wall)))


def _shown() -> Any:
    return and_(POSTS.c.hidden.is_(False), POST_WALLS.c.hidden.is_(False))


def top_users(conn: Connection, wall: str, limit: int) -> list[SimpleNamespace]:
    """The wall's most active authors, in the cached top list's row shape."""
    newest = func.max(POSTS.c.seq).label("newest")
    users = (select(POSTS.c.network, POSTS.c.author_id, func.count().label("post_count"),
                    newest)
             .select_from(_on_wall(wall)).where(_shown())
             .group_by(POSTS.c.network, POSTS.c.author_id)
             .order_by(func.count().desc(), newest.desc()).limit(limit).subquery())
    latest = POSTS.alias("latest")
    query = (select(users.c.network, users.c.author_id, users.c.post_count,
                    latest.c.author_username, latest.c.author_name, latest.c.author_avatar_url)
             .join(latest, latest.c.seq == users.c.newest)
             .order_by(users.c.post_count.desc(), users.c.newest.desc()))
    return [SimpleNamespace(rank=rank, network=row.network, author_id=row.author_id,
                            username=row.author_username, name=row.author_name,
                            avatar_url=row.author_avatar_url, post_count=row.post_count)
            for rank, row in enumerate(conn.execute(query), start=1)]


def top_posts(conn: Connection, wall: str, limit: int) -> list[dict[str, Any]]:
    """The wall's most shared original posts."""
    query = (select(POSTS).select_from(_on_wall(wall))
             .where(_shown(), POSTS.c.is_retweet.is_(False), POSTS.c.retweet_count > 0)
             .order_by(POSTS.c.retweet_count.desc(), POSTS.c.seq.desc()).limit(limit))
    return [post_json(row) for row in conn.execute(query)]
