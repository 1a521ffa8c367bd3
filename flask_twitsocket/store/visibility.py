"""The writes moderation needs, as the store's API: hide and show posts, tombstones, pins,
and releasing held-back posts into the posts table.

A hidden post stays in the posts table with ``hidden`` set (and a ``hidden`` tombstone), so
nothing — a restart, a re-delivery, a catch-up — brings it back. Showing it again gives it
a fresh ``seq``: walls never show a ``seq`` twice, and a wall that was away catches it up
by ``since_id`` like any new post. Each function runs in the caller's transaction (see
:meth:`PostStore.change`) and returns the wire messages its change makes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, text, update

from ..messages import (
    Outgoing,
    delete_message,
    pin_message,
    tweet_message,
    unpin_message,
    update_message,
)
from ..serialise import dumps, loads, post_json
from .fast import keys_in
from .posts import insert_rows
from .tables import PINS, POSTS, TOMBSTONES, TOP_POSTS, Key, insert_ignore, key_clause, now
from .walls import POST_WALLS, move_links


def hide(conn: Connection, keys: Sequence[Key]) -> tuple[list[Outgoing], list[list[str]]]:
    """Hide visible posts (tombstoned, unpinned): a ``delete`` for each, for every wall."""
    if not keys:
        return [], []
    gone = conn.execute(update(POSTS).where(key_clause(POSTS, keys),
                                            POSTS.c.hidden.is_(False))
                        .values(hidden=True)
                        .returning(POSTS.c.seq, POSTS.c.network, POSTS.c.post_id)).all()
    if not gone:
        return [], []
    hidden = [(row.network, row.post_id) for row in gone]
    tombstone(conn, hidden, "hidden")
    conn.execute(delete(PINS).where(key_clause(PINS, hidden)))
    messages = [("delete", delete_message(row.network, row.post_id, row.seq))
                for row in gone]
    return messages, [list(key) for key in hidden]


def unhide(conn: Connection, keys: Sequence[Key]) -> tuple[list[Outgoing], list[list[str]]]:
    """Show hidden posts again with a fresh seq, each a ``tweet`` for every wall. A new seq
    rather than delete-and-insert: SQLite would hand the newest post's seq out again, and
    walls never show a seq twice."""
    if not keys:
        return [], []
    hidden = conn.execute(select(POSTS.c.seq).where(key_clause(POSTS, keys),
                                                    POSTS.c.hidden.is_(True))
                          .order_by(POSTS.c.seq)).scalars().all()
    messages, shown = [], []
    for seq in hidden:
        conn.execute(delete(TOP_POSTS).where(TOP_POSTS.c.post_seq == seq))  # refreshed later
        row = conn.execute(update(POSTS).where(POSTS.c.seq == seq)
                           .values(seq=_next_seq(conn), hidden=False)
                           .returning(*POSTS.c)).one()
        move_links(conn, seq, row.seq)
        messages.append(("tweet", tweet_message(post_json(row))))
        shown.append((row.network, row.post_id))
    if shown:
        untombstone(conn, shown, "hidden")
    return messages, [list(key) for key in shown]


def _next_seq(conn: Connection) -> int:
    """A seq no post ever had, taken for good (callers hold the journal lock, as writers do).

    On SQLite the posts table is AUTOINCREMENT: the highest seq ever handed out is in
    ``sqlite_sequence``, not ``max(seq)`` — the newest post may have been deleted at the
    source, and its seq must not come back (walls that saw it deleted ignore it). The
    counter is moved on too, so the next insert does not take this seq either."""
    if conn.dialect.name == "postgresql":
        return conn.execute(text(
            f"SELECT nextval(pg_get_serial_sequence('{POSTS.name}', 'seq'))")).scalar_one()
    issued = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = :table"),
                          {"table": POSTS.name}).scalar()
    newest = conn.execute(select(func.coalesce(func.max(POSTS.c.seq), 0))).scalar_one()
    seq = max(issued or 0, newest) + 1
    if issued is None:
        conn.execute(text("INSERT INTO sqlite_sequence (name, seq) VALUES (:table, :seq)"),
                     {"table": POSTS.name, "seq": seq})
    else:
        conn.execute(text("UPDATE sqlite_sequence SET seq = :seq WHERE name = :table"),
                     {"table": POSTS.name, "seq": seq})
    return seq


def tombstone(conn: Connection, keys: Iterable[Key], reason: str) -> None:
    """Posts that must never be stored again (``hidden``, ``vetoed``; ``deleted`` at the
    source is :func:`~.posts.delete_post`'s)."""
    stamp = now()
    rows = [{"network": network, "post_id": post_id, "reason": reason, "created_at": stamp}
            for network, post_id in keys]
    if rows:
        conn.execute(insert_ignore(conn, TOMBSTONES), rows)


def untombstone(conn: Connection, keys: Sequence[Key], reason: str) -> None:
    """Lift the tombstones of ``keys`` that were set for ``reason``."""
    if keys:
        conn.execute(delete(TOMBSTONES).where(key_clause(TOMBSTONES, keys),
                                              TOMBSTONES.c.reason == reason))


def known(conn: Connection, keys: Iterable[Key]) -> set[Key]:
    """Which of ``keys`` are stored or tombstoned (a held post must be neither)."""
    keys = list(keys)
    return keys_in(conn, POSTS, keys) | keys_in(conn, TOMBSTONES, keys)


def release(conn: Connection, rows: Sequence[dict[str, Any]]) -> tuple[list[Outgoing],
                                                                       list[dict[str, Any]]]:
    """Insert held-back posts' rows: a fresh seq, a ``tweet`` for the walls. A post
    deleted at the source (or vetoed) meanwhile is tombstoned, and dropped here."""
    if not rows:
        return [], []
    buried = known_tombstones(conn, [(row["network"], row["post_id"]) for row in rows])
    stored = insert_rows(conn, [row for row in rows
                                if (row["network"], row["post_id"]) not in buried])
    return [("tweet", tweet_message(post)) for post in stored], stored


def known_tombstones(conn: Connection, keys: Sequence[Key]) -> set[Key]:
    if not keys:
        return set()
    return {(row.network, row.post_id) for row in conn.execute(
        select(TOMBSTONES.c.network, TOMBSTONES.c.post_id).where(
            key_clause(TOMBSTONES, keys)))}


def pin(conn: Connection, key: Key, wall: str | None = None) -> list[Outgoing] | None:
    """Pin a visible post on every wall, or on ``wall`` (again is harmless); the ``pin``
    message, None if not visible. The caller checks :func:`pinned_on` first: a post is
    pinned on one wall or on every wall."""
    network, post_id = key
    row = conn.execute(select(POSTS).where(
        POSTS.c.network == network, POSTS.c.post_id == post_id,
        POSTS.c.hidden.is_(False))).first()
    if row is None:
        return None
    conn.execute(insert_ignore(conn, PINS).values(
        network=network, post_id=post_id, pinned_by="", pinned_at=now(), wall=wall))
    return [("pin", pin_message(post_json(row)))]


def pinned_on(conn: Connection, key: Key) -> tuple[bool, str | None]:
    """Whether ``key`` is pinned, and on which wall (None: every wall)."""
    row = conn.execute(select(PINS.c.wall).where(key_clause(PINS, [key]))).first()
    return (row is not None, row.wall if row is not None else None)


def unpin(conn: Connection, key: Key, wall: str | None = None) -> list[Outgoing] | None:
    """Unpin (with ``wall``: only a pin on that wall); the ``unpin`` message, None if it
    was not pinned (there)."""
    network, post_id = key
    where = [PINS.c.network == network, PINS.c.post_id == post_id]
    if wall is not None:
        where.append(PINS.c.wall == wall)
    gone = conn.execute(delete(PINS).where(*where)).rowcount
    return [("unpin", unpin_message(network, post_id))] if gone else None


def set_revealed(conn: Connection, key: Key, revealed: bool) -> list[Outgoing] | None:
    """A moderator reveals (or veils again) a visible post's sensitive media; the
    ``update`` message that makes every wall redraw it, or None (no such sensitive post)."""
    network, post_id = key
    row = conn.execute(select(POSTS).where(
        POSTS.c.network == network, POSTS.c.post_id == post_id,
        POSTS.c.hidden.is_(False))).first()
    parts = loads(row.media) if row is not None and row.media else {}
    if not (parts.get("sensitive") or parts.get("content_warning")) or \
            bool(parts.get("revealed")) == revealed:
        return None
    if revealed:
        parts["revealed"] = True
    else:
        parts.pop("revealed", None)
    updated = conn.execute(update(POSTS).where(POSTS.c.seq == row.seq)
                           .values(media=dumps(parts)).returning(*POSTS.c)).one()
    return [("update", update_message(post_json(updated)))]


def by_authors(names: Iterable[tuple[str | None, str]], table: Any = POSTS) -> Any:
    """Posts BY any of the authors ``(network or None, clean name)`` or reposts OF their
    posts, case-insensitively (a ban's reach)."""
    clauses = []
    for network, name in names:
        clause = or_(func.lower(table.c.author_username) == name, table.c.author_id == name,
                     func.lower(table.c.retweet_of_author) == name)
        clauses.append(and_(table.c.network == network, clause) if network else clause)
    return or_(*clauses)


def visible_keys(conn: Connection, where: Any) -> list[Key]:
    """The visible posts matching ``where`` (e.g. :func:`by_authors`)."""
    return [(row.network, row.post_id) for row in conn.execute(
        select(POSTS.c.network, POSTS.c.post_id).where(POSTS.c.hidden.is_(False), where))]


def visible_texts(conn: Connection) -> Iterator[tuple[Key, str]]:
    """Every visible post's key and text, streamed (a blocked word's search: SQL cannot
    see through look-alike letters, so it cannot narrow it)."""
    query = select(POSTS.c.network, POSTS.c.post_id, POSTS.c.text).where(
        POSTS.c.hidden.is_(False)).execution_options(yield_per=1000)
    for row in conn.execute(query):
        yield (row.network, row.post_id), row.text or ""


def recent_posts(conn: Connection, since: datetime, limit: int) -> list[Any]:
    """The posts that went up since ``since`` (the newest ``limit`` at most), oldest
    first, with what the stream's flood and raid rules remember of a post. By ``seq``
    (the primary key; a released post gets a new one), not ``stored_at`` (no index)."""
    rows = conn.execute(select(
        POSTS.c.network, POSTS.c.author_id, POSTS.c.author_username, POSTS.c.text,
        POSTS.c.is_retweet, POSTS.c.stored_at).order_by(POSTS.c.seq.desc()).limit(limit)).all()
    return [row for row in reversed(rows) if as_utc(row.stored_at) >= since]


def as_utc(stamp: datetime) -> datetime:
    """A stored time, aware (SQLite hands back naive UTC)."""
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=timezone.utc)


def pinned_query(wall: str | None = None) -> Any:
    """The pinned posts (visible ones), oldest pin first; with ``wall``, the pins of
    every wall plus that wall's own, less the posts hidden (or held) on that wall."""
    query = (select(POSTS).join(PINS, and_(PINS.c.network == POSTS.c.network,
                                           PINS.c.post_id == POSTS.c.post_id))
             .where(POSTS.c.hidden.is_(False)).order_by(PINS.c.pinned_at))
    if wall is None:
        return query
    hidden_here = select(POST_WALLS.c.seq).where(
        POST_WALLS.c.seq == POSTS.c.seq, POST_WALLS.c.wall == wall,
        POST_WALLS.c.hidden.is_(True)).exists()
    return query.where(or_(PINS.c.wall.is_(None), PINS.c.wall == wall), ~hidden_here)


def console_posts(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """The newest posts, hidden ones included and marked: what the console lists."""
    posts = []
    for row in conn.execute(select(POSTS).order_by(POSTS.c.seq.desc()).limit(limit)):
        post = post_json(row)
        post["hidden"] = bool(row.hidden)
        posts.append(post)
    return posts


def pin_keys(conn: Connection) -> dict[str, str | None]:
    """Every pin, ``network:post_id`` → its wall (None: every wall)."""
    return {f"{row.network}:{row.post_id}": row.wall for row in conn.execute(select(PINS))}
