"""Walls created, edited and archived in the console, without a restart.

Each change is one transaction: the wall's row in the walls table (which from then on is
the wall's truth, see :func:`flask_twitsocket.walls.combine`) and its entry in the action
log — ``create-wall``, ``edit-wall`` or ``archive-wall``, the wall's settings before and
after in ``detail`` — whose ``mod:log`` message reaches every open console. Every process
reads the table again within seconds (``TwitSocketState.refresh_walls``): the web workers
serve the new wall, the stream routes posts by it and re-syncs the networks' tracking.

A wall's settings are held to exactly what ``TWITSOCKET_WALLS`` accepts (the same
converter), so a mistake is refused naming the wall and the key, and nothing is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Connection

from ..messages import Outgoing
from ..store import wall_table
from ..walls import DEFAULT_WALL, SLUG, WallSpec
from .actions import Moderation
from .errors import ModerationError

#: ``(live walls, archived walls)`` as the site knows them now.
Walls = Callable[[], tuple[Mapping[str, WallSpec], Mapping[str, WallSpec]]]


class WallAdmin:
    """The console's wall actions; ``refresh`` makes this process see a change at once."""

    def __init__(self, moderation: Moderation, parse: Callable[[Any], dict[str, WallSpec]],
                 walls: Walls, refresh: Callable[[], object]) -> None:
        self.moderation = moderation
        self.parse = parse
        self.walls = walls
        self.refresh = refresh

    def listing(self) -> dict[str, Any]:
        """Every wall with its full settings (what the console's form edits)."""
        live, archived = self.walls()
        return {"walls": [{"slug": slug, **wall.options(), "catch_all": wall.catch_all,
                           "archived": False} for slug, wall in live.items()]
                + [{"slug": slug, **wall.options(), "catch_all": wall.catch_all,
                    "archived": True} for slug, wall in archived.items()]}

    def create(self, who: str, slug: Any, options: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(slug, str) or not SLUG.fullmatch(slug):
            raise ModerationError(400, f"{slug!r} is not a wall slug (lowercase letters, "
                                       "digits and inner hyphens, at most 40)")
        live, archived = self.walls()
        if slug in live or slug in archived:
            raise ModerationError(409, f"there is already a wall {slug!r}")
        wall = self._valid(slug, options)
        return self._change(who, "create-wall", wall, None, archive=False)

    def edit(self, who: str, slug: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """Change the settings ``options`` names; the others stay as they are."""
        before = self._live(slug)
        wall = dataclasses.replace(self._valid(slug, {**before.options(), **options}),
                                   catch_all=before.catch_all)
        return self._change(who, "edit-wall", wall, before, archive=False)

    def archive(self, who: str, slug: str) -> dict[str, Any]:
        """End a wall: off the index, no new posts, its page says it ended; its posts
        stay (and so do their links)."""
        if slug == DEFAULT_WALL:
            raise ModerationError(400, "the default wall cannot be archived")
        before = self._live(slug)
        return self._change(who, "archive-wall", before, before, archive=True)

    def _live(self, slug: str) -> WallSpec:
        live, _archived = self.walls()
        if slug not in live:
            raise ModerationError(404, f"no live wall {slug!r}")
        return live[slug]

    def _valid(self, slug: str, options: Mapping[str, Any]) -> WallSpec:
        if not isinstance(options, Mapping):
            raise ModerationError(400, "expected the wall's settings as a JSON object")
        try:
            return self.parse({slug: dict(options)})[slug]
        except ValueError as error:
            raise ModerationError(400, str(error)) from None

    def _change(self, who: str, action: str, wall: WallSpec, before: WallSpec | None,
                archive: bool) -> dict[str, Any]:
        detail = {"before": before.options() if before else None,
                  "after": None if archive else wall.options()}

        def work(conn: Connection) -> tuple[list[Outgoing], int, dict[str, Any]]:
            if action == "create-wall" and wall_table.exists(conn, wall.slug):
                raise ModerationError(409, f"there is already a wall {wall.slug!r}")
            wall_table.save(conn, wall, archived=archive)
            return [], 0, detail

        entry = self.moderation.logged_change(who, action, wall.slug, work, wall=wall.slug)
        self.refresh()
        return entry
