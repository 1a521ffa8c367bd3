"""The walls table: the site's walls as data, written by the stream (the config's walls)
and by the console (walls created, edited or archived there), read by every process.

A row keeps the wall's settings as JSON in the ``TWITSOCKET_WALLS`` shape, plus
``catch_all`` (the default wall showing every post) and ``origin`` (``config`` or
``console``): :func:`flask_twitsocket.walls.combine` says how the two origins make the
site's walls. A row that can no longer be read (a hand edit, a setting removed) is logged
and skipped: one bad wall never stops the others.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection, insert, literal, select, update

from ..models import Wall
from ..serialise import dumps, loads
from ..walls import FROM_CONFIG, FROM_CONSOLE, StoredWall, WallSpec
from .tables import POSTS, insert_ignore, now
from .walls import POST_WALLS

log = logging.getLogger("flask_twitsocket.store")

WALLS = Wall.__table__
#: Keys of a row's JSON that are not wall settings.
_META = ("slug", "catch_all", "origin")


def row_json(wall: WallSpec, origin: str) -> str:
    """What a row keeps of ``wall`` (its settings, ``catch_all``, where it came from)."""
    return dumps({**wall.options(), "catch_all": wall.catch_all, "origin": origin})


def read(conn: Connection, parse: Callable[[Any], dict[str, WallSpec]],
         ) -> list[StoredWall]:
    """Every row, by slug, parsed with ``parse`` (the ``TWITSOCKET_WALLS`` converter, so a
    row is held to what the config accepts)."""
    rows = []
    for row in conn.execute(select(WALLS).order_by(WALLS.c.slug)):
        try:
            data = loads(row.spec or "{}")
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            options = {key: value for key, value in data.items()
                       if key not in _META and not (key == "title" and value is None)}
            spec = parse({row.slug: options})[row.slug]
        except ValueError as error:
            log.error("Skipping the wall %r of the walls table: %s", row.slug, error)
            continue
        rows.append(StoredWall(dataclasses.replace(spec, catch_all=bool(data.get("catch_all"))),
                               bool(row.archived), str(data.get("origin") or FROM_CONFIG)))
    return rows


def version(conn: Connection) -> tuple[Any, ...]:
    """A cheap fingerprint of the table: it changes whenever a row is written."""
    return tuple(conn.execute(select(WALLS.c.slug, WALLS.c.updated_at, WALLS.c.archived)
                              .order_by(WALLS.c.slug)))


def record(conn: Connection, walls: Mapping[str, WallSpec]) -> list[str]:
    """The config's walls written to the table (the stream does it at start): each
    configured wall's row refreshed — unless the console owns it — and config rows no
    longer configured archived, not deleted (their posts keep their links). The
    configured slugs that are live."""
    stamp = now()
    owned = {row.slug for row in conn.execute(select(WALLS.c.slug, WALLS.c.spec))
             if _origin(row.spec) == FROM_CONSOLE}
    for slug, wall in walls.items():
        if slug in owned:
            continue
        values = {"title": wall.title, "spec": row_json(wall, FROM_CONFIG), "archived": False,
                  "updated_at": stamp}
        if not conn.execute(update(WALLS).where(WALLS.c.slug == slug).values(values)).rowcount:
            conn.execute(insert_ignore(conn, WALLS).values(slug=slug, **values))
    stale = [slug for slug in _live_slugs(conn) if slug not in walls and slug not in owned]
    if stale:
        conn.execute(update(WALLS).where(WALLS.c.slug.in_(stale))
                     .values(archived=True, updated_at=stamp))
    live = set(_live_slugs(conn))
    return [slug for slug in walls if slug in live]


def save(conn: Connection, wall: WallSpec, archived: bool = False) -> None:
    """Write a wall as the console's (created, edited or archived there)."""
    values = {"title": wall.title, "spec": row_json(wall, FROM_CONSOLE),
              "archived": archived, "updated_at": now()}
    if not conn.execute(update(WALLS).where(WALLS.c.slug == wall.slug)
                        .values(values)).rowcount:
        conn.execute(insert(WALLS).values(slug=wall.slug, **values))


def exists(conn: Connection, slug: str) -> bool:
    """Whether the table has a row for ``slug`` (live or archived, of any origin)."""
    return conn.execute(select(WALLS.c.slug).where(WALLS.c.slug == slug)).first() is not None


def link_everything(conn: Connection, wall: str) -> int:
    """Link every stored post to ``wall`` (not yet linked): a site that had one wall wrote
    no links; when it gets a second wall, its default wall — which shows every post — must
    keep showing the posts stored before. Returns how many were linked."""
    linked = select(POST_WALLS.c.seq).where(POST_WALLS.c.wall == wall)
    missing = select(literal(wall), POSTS.c.seq, literal(False)).where(
        POSTS.c.seq.not_in(linked))
    # every process that sees the change links: the first does it, the others find none
    # missing, or (at the same moment) skip the ones just linked
    return conn.execute(insert_ignore(conn, POST_WALLS).from_select(
        ["wall", "seq", "hidden"], missing)).rowcount or 0


def _live_slugs(conn: Connection) -> list[str]:
    return list(conn.execute(select(WALLS.c.slug).where(WALLS.c.archived.is_(False)))
                .scalars())


def _origin(text: str | None) -> str:
    try:
        data = loads(text or "{}")
    except ValueError:
        return FROM_CONFIG
    return str(data.get("origin") or FROM_CONFIG) if isinstance(data, dict) else FROM_CONFIG
