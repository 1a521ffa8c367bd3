"""Bans and blocked words of one wall: an author or a word kept off that wall only.

A site's bans and blocked words (the console's rules, ``TWITSOCKET_BANNED_USERS``) keep a
post off every wall — it is not stored. A wall's own (``banned_users`` and
``blocked_words`` of the wall, in ``TWITSOCKET_WALLS`` or added in the console with
``"wall": "<slug>"``) keep it off that wall only: the post is stored and shown on its
other walls. They are part of the wall's settings, so every process routes by them within
seconds, as it does for any change of a wall (no table, no restart).

The same matching as the site's rules (:class:`.rules.Rules`: names with or without a
network, words folded as a reader sees them). Adding one hides the wall's matching posts
on that wall; removing it (or undoing the addition) shows exactly those again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from ..config_table import parse_walls
from ..messages import Outgoing
from ..models import ModerationAction
from ..serialise import loads
from ..store import visibility, wall_table
from ..store import walls as on_walls
from ..store.tables import Key
from ..walls import FROM_CONSOLE, Screen, WallSpec
from .errors import ModerationError
from .rules import BanList, Facts, Rules, clean_ban, clean_phrase

LOG = ModerationAction.__table__
#: The wall setting each action changes, and the action that adds to it.
FIELDS = {"ban": "banned_users", "unban": "banned_users",
          "block": "blocked_words", "unblock": "blocked_words"}
ADDING = {"unban": "ban", "unblock": "block"}


def screens(walls: Mapping[str, WallSpec]) -> dict[str, Screen]:
    """For each wall with bans or blocked words of its own: whether a post is kept off."""
    found: dict[str, Screen] = {}
    for slug, wall in walls.items():
        if not (wall.banned_users or wall.blocked_words):
            continue
        rules = Rules()
        for entry in wall.banned_users:
            rules.add("ban", clean_ban(entry))
        for word in wall.blocked_words:
            rules.add("word", clean_phrase(word))
        found[slug] = lambda post, rules=rules: rules.rejects(Facts.of(post)) is not None
    return found


def clean_target(action: str, target: str) -> str:
    """The entry as stored and logged (so that its undo finds it)."""
    return clean_ban(target) if FIELDS[action] == "banned_users" else clean_phrase(target)


def change_rule(conn: Connection, action: str, wall: WallSpec, value: str,
                ) -> tuple[list[Outgoing], int, dict[str, Any]]:
    """Add (``ban``, ``block``) or remove (``unban``, ``unblock``) ``value`` on ``wall``:
    the wall's settings saved, its matching posts hidden on it (or shown again)."""
    wall = _current(conn, wall)
    name = FIELDS[action]
    entries = getattr(wall, name)
    adding = action not in ADDING
    if adding == (value in entries):
        where = "already" if adding else "not"
        raise ModerationError(409 if adding else 404, f"{value!r} is {where} on the "
                              f"{name.replace('_', ' ')} of {wall.slug}")
    kept = (*entries, value) if adding else tuple(e for e in entries if e != value)
    wall_table.save(conn, dataclasses.replace(wall, **{name: kept}))
    keys = _matching(conn, name, value) if adding else _hidden_by(conn, action, wall.slug,
                                                                  value)
    messages, changed = [], []
    for key in keys:
        message = on_walls.hide_on_wall(conn, wall.slug, key, hidden=adding)
        if message is not None:
            messages.append(message)
            changed.append(list(key))
    return messages, -len(changed) if adding else len(changed), {"posts": changed}


def _current(conn: Connection, wall: WallSpec) -> WallSpec:
    """The wall as the table has it when the console owns it (another worker may have
    changed it in the last seconds), else as this process knows it."""
    for row in wall_table.read(conn, parse_walls):
        if row.spec.slug == wall.slug and row.origin == FROM_CONSOLE and not row.archived:
            return row.spec
    return wall


def _matching(conn: Connection, name: str, value: str) -> list[Key]:
    if name == "banned_users":
        return visibility.visible_keys(conn, visibility.by_authors([BanList.parse(value)]))
    rules = Rules()   # matched as the site's blocked words are (leetspeak, look-alikes)
    rules.add("word", value)
    return [key for key, text in visibility.visible_texts(conn) if rules.blocked_word([text])]


def _hidden_by(conn: Connection, action: str, wall: str, value: str) -> list[Key]:
    """The posts the addition of ``value`` hid on ``wall`` (not those hidden by hand)."""
    made = conn.execute(select(LOG.c.detail).where(
        LOG.c.action == ADDING[action], LOG.c.target == value, LOG.c.wall == wall,
        LOG.c.undone_at.is_(None)).order_by(LOG.c.id.desc()).limit(1)).scalar()
    return [tuple(key) for key in loads(made or "{}").get("posts", [])]
