"""Posts held back on some walls of several by those walls' trust mode while they are up
on others (sites with several walls only).

Why links rather than the held-back queue: a post is stored once. When it matches a wall
that shows posts at once (``post``, ``off``) and one that holds them (``pre``, ``delay``),
it goes up on the first and waits on the second: its link to that wall is ``held`` (and
``hidden``, so no read, count or catch-up of the wall sees it) until a moderator approves
it there or, with ``release_at``, the delay passes. Release keeps the post's ``seq`` (as
showing a post again on one wall does): the wall gets a ``tweet`` message, its own only.
A post that waits on every wall it goes to stays in moderation's queue, unstored, as it
always did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from ..messages import Outgoing, queue_message, tweet_message
from ..serialise import post_json
from .tables import POSTS, Key
from .walls import POST_WALLS

#: Held links released (or held) at once: the consoles re-read their queue.
QUEUE_CHANGED = queue_message("released", None)


def _unhold(conn: Connection, *where: Any) -> list[tuple[str, int]]:
    """Show the held links matching ``where``; their ``(wall, seq)``."""
    return [(row.wall, row.seq) for row in conn.execute(
        update(POST_WALLS).where(POST_WALLS.c.held.is_(True), *where)
        .values(hidden=False, held=False, release_at=None)
        .returning(POST_WALLS.c.wall, POST_WALLS.c.seq))]


def release_due(conn: Connection, moment: datetime, walls: Sequence[str],
                ) -> tuple[list[tuple[str | None, list[Outgoing]]], list[str]]:
    """Release the held links whose delay has passed: per wall (in ``walls``' order) the
    ``tweet`` messages of its posts (not of posts hidden on every wall meanwhile), and the
    walls whose posts changed."""
    released = _unhold(conn, POST_WALLS.c.release_at <= moment)
    if not released:
        return [], []
    seqs = {seq for _, seq in released}
    posts = {row.seq: tweet_message(post_json(row)) for row in conn.execute(
        select(POSTS).where(POSTS.c.seq.in_(seqs), POSTS.c.hidden.is_(False))
        .order_by(POSTS.c.seq))}
    by_wall: dict[str, list[Outgoing]] = {}
    for wall, seq in sorted(released, key=lambda link: link[1]):
        if seq in posts:
            by_wall.setdefault(wall, []).append(("tweet", posts[seq]))
    changed = [wall for wall in walls if wall in by_wall]
    return [*((wall, by_wall[wall]) for wall in changed), (None, [QUEUE_CHANGED])], changed


def due(conn: Connection, moment: datetime) -> tuple[bool, bool]:
    """Whether a held link is due now, and whether any waits for its delay at all."""
    timed = select(POST_WALLS.c.seq).where(POST_WALLS.c.held.is_(True),
                                           POST_WALLS.c.release_at.is_not(None))
    waiting = conn.execute(timed.limit(1)).first() is not None
    return waiting and conn.execute(timed.where(
        POST_WALLS.c.release_at <= moment).limit(1)).first() is not None, waiting


def show_everywhere(conn: Connection, key: Key) -> list[Outgoing]:
    """Release a visible post on every wall that holds it (a moderator's approval of it
    everywhere): its ``tweet``, for the walls showing it; none if it was held nowhere."""
    row = conn.execute(select(POSTS).where(POSTS.c.network == key[0],
                                           POSTS.c.post_id == key[1],
                                           POSTS.c.hidden.is_(False))).first()
    if row is None or not _unhold(conn, POST_WALLS.c.seq == row.seq):
        return []
    return [("tweet", tweet_message(post_json(row))), QUEUE_CHANGED]


def reject_on(conn: Connection, wall: str, key: Key) -> bool:
    """A moderator's no for one wall: the post stays hidden there, no longer waiting."""
    seq = select(POSTS.c.seq).where(POSTS.c.network == key[0], POSTS.c.post_id == key[1])
    return bool(conn.execute(update(POST_WALLS).where(
        POST_WALLS.c.wall == wall, POST_WALLS.c.held.is_(True),
        POST_WALLS.c.seq.in_(seq.scalar_subquery()))
        .values(held=False, release_at=None)).rowcount)


def held_posts(conn: Connection, limit: int) -> list[tuple[dict[str, Any], Any, dict[str, Any]]]:
    """The visible posts held back on some wall, newest first: each post's JSON, when it
    was stored, and the walls it waits for with their release times (None: a moderator)."""
    newest = (select(POST_WALLS.c.seq).where(POST_WALLS.c.held.is_(True))
              .group_by(POST_WALLS.c.seq).order_by(func.max(POST_WALLS.c.seq).desc())
              .limit(limit).subquery())
    rows = conn.execute(
        select(POSTS, POST_WALLS.c.wall, POST_WALLS.c.release_at.label("wall_release_at"))
        .join(newest, newest.c.seq == POSTS.c.seq)
        .join(POST_WALLS, and_(POST_WALLS.c.seq == POSTS.c.seq, POST_WALLS.c.held.is_(True)))
        .where(POSTS.c.hidden.is_(False)).order_by(POSTS.c.seq.desc(), POST_WALLS.c.wall))
    found: dict[int, tuple[dict[str, Any], Any, dict[str, Any]]] = {}
    for row in rows:
        entry = found.setdefault(row.seq, (post_json(row), row.stored_at, {}))
        entry[2][row.wall] = row.wall_release_at
    return list(found.values())
