"""Each wall's own trust mode (``WallSpec.moderation``; None: the site's
``TWITSOCKET_MODERATION``) on a site with several walls.

A post is stored once, so the walls it goes to decide together:

* every one of them shows posts at once (``post``, ``off``): it goes up everywhere;
* every one of them holds it with the same mode: it waits in the held-back queue,
  unstored, exactly as on a single-wall site (a ``delay`` countdown, or a ``pre``
  moderator's yes), and goes up on all of them when released;
* otherwise it is stored and goes up at once where the mode allows, and waits on the
  other walls (:mod:`flask_twitsocket.store.held_links`): until a moderator approves it
  there (``pre``) or its delay passes (``delay``).

``approve`` / ``veto`` with ``wall=`` act on that wall: a held link shown (or given up),
or a queued post stored and shown there while its other walls go on waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..messages import Outgoing
from ..serialise import iso
from ..shapes import PostData
from ..store import held_links
from ..store import walls as on_walls
from ..store.tables import Key
from ..walls import Router
from .errors import ModerationError
from .pending import find_held, release_held, unset_vetoed

#: The trust modes that hold a post back.
HOLDING = ("delay", "pre")


def wall_modes(router: Router | None, site_mode: str) -> dict[str, str]:
    """Each wall's trust mode ({} on a single-wall site, which has only the site's)."""
    if router is None:
        return {}
    return {slug: wall.moderation or site_mode for slug, wall in router.walls.items()}


def waits(router: Router, modes: Mapping[str, str], post: PostData, trusted: bool,
          ) -> tuple[tuple[str, ...], dict[str, str]]:
    """The walls ``post`` goes to, and those among them whose mode holds it back (a
    ``pre`` wall not for a trusted author), with their modes."""
    routes = router.route(post)
    return routes, {slug: modes[slug] for slug in routes
                    if modes[slug] == "delay" or modes[slug] == "pre" and not trusted}


def approve_on_wall(conn: Connection, router: Router | None, wall: str, key: Key,
                    target: str) -> tuple[list[Outgoing], int, dict[str, Any]]:
    """Show ``key`` on ``wall``: a post queued for every wall is stored and shown there
    (its other walls keep waiting); a post held back on that wall (or vetoed there) is
    shown there, with its own seq."""
    queued = find_held(conn, key)
    if queued:
        return _store_for(conn, router, wall, queued, key, target)
    message = on_walls.hide_on_wall(conn, wall, key, hidden=False)
    if message is None:
        raise ModerationError(404, f"{target} is not waiting for {wall}")
    return [message, held_links.QUEUE_CHANGED], 1, {"posts": [list(key)]}


def veto_on_wall(conn: Connection, router: Router | None, wall: str, key: Key,
                 target: str) -> tuple[list[Outgoing], int, dict[str, Any]]:
    """Keep ``key`` off ``wall`` for good (it stays where it is up); a post queued for
    every wall is vetoed everywhere (no ``wall=``) or approved elsewhere first."""
    if held_links.reject_on(conn, wall, key):
        return [held_links.QUEUE_CHANGED], 0, {"posts": [list(key)]}
    if find_held(conn, key):
        raise ModerationError(409, f"{target} is up on no wall yet: veto it on every wall "
                                   "(without wall=)")
    raise ModerationError(404, f"{target} is not waiting for {wall}")


def _store_for(conn: Connection, router: Router | None, wall: str, queued: list[Any],
               key: Key, target: str) -> tuple[list[Outgoing], int, dict[str, Any]]:
    if router is None:
        raise ModerationError(404, f"no wall {wall!r}")
    unset_vetoed(conn, [row.id for row in queued])
    messages, stored = release_held(conn, queued)
    if not stored:  # deleted at the source meanwhile
        raise ModerationError(404, f"{target} is gone")
    routes = on_walls.walls_for(router, stored[0])
    if wall not in routes:  # raised inside the transaction: nothing was changed
        raise ModerationError(409, f"{target} does not go to {wall}")
    release_at = queued[0].release_at
    on_walls.link_released(conn, router, stored,
                           {key: {slug: release_at for slug in routes if slug != wall}})
    return messages, 1, {"posts": [list(key)]}


def held_items(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """The console's queue entries of posts up on some walls and held back on others:
    the walls each waits for, and the soonest release (None: a moderator's yes)."""
    items = []
    for post, stored_at, walls in held_links.held_posts(conn, limit):
        timed = [when for when in walls.values() if when is not None]
        release_at: datetime | None = min(timed) if timed else None
        items.append({"pending_id": None, "state": "waiting", "tweet": post,
                      "received_at": iso(stored_at), "release_at": iso(release_at),
                      "rule": None, "reason": None, "walls": sorted(walls)})
    return items
