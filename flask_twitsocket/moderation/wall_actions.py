"""What a moderator does on one wall of several — hide / unhide, pin / unpin, approve /
veto a held post, a wall's own bans and blocked words — and the pieces every console
action shares (:data:`Work`, :func:`parse_key`, pinning).

Why a module of its own: each of these is the site-wide action narrowed to one wall (its
journal messages go to that wall only: :meth:`PostStore.change_on_wall`), and an undo of
one runs its inverse on the same wall. :mod:`.actions` keeps the site-wide ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from ..messages import Outgoing
from ..store import PostStore, visibility
from ..store import walls as on_walls
from ..store.tables import Key
from .errors import ModerationError
from .wall_holds import approve_on_wall, veto_on_wall
from .wall_rules import FIELDS as WALL_RULE_FIELDS
from .wall_rules import change_rule as change_wall_rule
from .wall_rules import clean_target as clean_wall_target

#: What a moderator may do on one wall of several (the rest acts on every wall).
WALL_ACTIONS = ("hide", "unhide", "pin", "unpin", "approve", "veto", *WALL_RULE_FIELDS)

#: ``work(conn) -> (messages, visible posts delta, detail for the log)``
Work = Callable[[Connection], tuple[list[Outgoing], int, dict[str, Any]]]


def parse_key(target: str) -> Key:
    network, sep, post_id = target.partition(":")
    if not sep or not network or not post_id:
        raise ModerationError(400, "a post is named network:post_id, e.g. x:1234")
    return network, post_id


def clean_target(action: str, target: str) -> str:
    """The target as logged (so that its undo finds it); refused when empty."""
    if action in WALL_RULE_FIELDS:
        target = clean_wall_target(action, target)
    if not target:
        raise ModerationError(400, "a target is required")
    return target


def wall_work(store: PostStore, action: str, wall: str, target: str) -> Work:
    """The change ``action`` makes to ``target`` on ``wall`` only."""
    if action in WALL_RULE_FIELDS:  # a wall's own ban or blocked word
        router = store.router
        if router is None or wall not in router.walls:
            raise ModerationError(404, f"no live wall {wall!r}")
        spec = router.walls[wall]
        return lambda conn: change_wall_rule(conn, action, spec, target)
    if action in ("pin", "unpin"):
        return pin_work(action, target, wall)
    key = parse_key(target)
    if action in ("approve", "veto"):  # the wall's own trust mode: see .wall_holds
        decide = approve_on_wall if action == "approve" else veto_on_wall
        return lambda conn: decide(conn, store.router, wall, key, target)

    def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
        message = on_walls.hide_on_wall(conn, wall, key, hidden=action == "hide")
        if message is None:
            raise ModerationError(404, f"no post {target} to {action} on {wall}")
        return [message], -1 if action == "hide" else 1, {"posts": [list(key)]}

    return work


def pin_work(action: str, target: str, wall: str | None) -> Work:
    """Pin or unpin ``target`` on every wall (``wall`` None) or on one. A post is pinned on
    one wall or on every wall: pinning it elsewhere first needs its unpinning."""
    key = parse_key(target)
    where = f"on {wall}" if wall else "on every wall"

    def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
        pinned, pinned_wall = visibility.pinned_on(conn, key)
        if action == "unpin":
            messages = visibility.unpin(conn, key, wall) if pinned_wall == wall else None
            if messages is None:
                raise ModerationError(404, f"{target} is not pinned {where}" + (
                    f" (it is on {pinned_wall or 'every wall'})" if pinned else ""))
            return messages, 0, {}
        if pinned and pinned_wall != wall:
            raise ModerationError(409, f"{target} is pinned on {pinned_wall or 'every wall'}"
                                       "; unpin it there first")
        if wall is not None and not on_walls.shown_on(conn, wall, key):
            raise ModerationError(404, f"no post {target} shown on {wall}")
        messages = visibility.pin(conn, key, wall)
        if messages is None:
            raise ModerationError(404, f"no visible post {target}")
        return messages, 0, {}

    return work
