"""Everything the extension keeps for one app, and the one way to reach it.

:class:`TwitSocketState` assembles the parts — the store, the hub, the process's bus, the
moderation actions — and is stored in ``app.extensions["twitsocket"]``. It imports the
parts, never the other way round; the web routes and the CLI find it with
:func:`current_state` rather than importing the extension, so the extension (the top
layer) imports them without a cycle.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from .bus import Bus, create_bus
from .config import Settings
from .config_table import parse_walls
from .hub import Hub
from .migrations import is_managed, upgrade
from .models import metadata
from .moderation import Gate, Moderation
from .moderation.wall_admin import WallAdmin
from .moderation.wall_rules import screens
from .pipeline import Ingestor
from .store import PostStore
from .walls import Router, WallSpec, combine, site_walls

log = logging.getLogger("flask_twitsocket")

#: Seconds between two looks at the walls table (walls made or changed in the console):
#: every process — web workers and the stream — sees a change within this.
WALLS_CHECK_EVERY = 2.0


class TwitSocketState:
    """Everything the extension keeps for one app."""

    def __init__(self, app: Flask, settings: Settings, db: SQLAlchemy) -> None:
        self.app = app
        self.settings = settings
        self.db = db
        self._store: PostStore | None = None
        self._bus: Bus | None = None
        self._bus_pid: int | None = None
        self._bus_lock = threading.Lock()
        self.hub = Hub(lambda: self.store, lambda: self.bus, settings["CLIENT_QUEUE_SIZE"])
        self.hooks: dict[str, Callable[..., Any]] = {}
        #: The host app's moderator check (see ``TwitSocket(moderator_required=…)``).
        #: Called with ``wall=`` for an action on one wall of several.
        self.moderator_required: Callable[..., Any] | None = None
        self._moderation: Moderation | None = None
        #: The config's walls (``TWITSOCKET_WALLS`` and the single-wall settings).
        self.config_walls: dict[str, WallSpec] = site_walls(settings)
        self._live, self._archived = dict(self.config_walls), {}
        self._walls_version: tuple[Any, ...] | None = None
        self._walls_checked = float("-inf")
        self._walls_lock = threading.Lock()

    @property
    def walls(self) -> dict[str, WallSpec]:
        """The site's live walls by slug, the default wall ``main`` first: the config's,
        with the console's creations and edits (see :func:`flask_twitsocket.walls.combine`),
        looked up again every :data:`WALLS_CHECK_EVERY` seconds."""
        self.refresh_walls()
        return self._live

    @property
    def archived_walls(self) -> dict[str, WallSpec]:
        """The walls that ended: no new posts, off the index; their posts stay."""
        self.refresh_walls()
        return self._archived

    def refresh_walls(self, force: bool = False) -> bool:
        """Read the walls table again if it changed (at most every
        :data:`WALLS_CHECK_EVERY` seconds unless ``force``); True when the live walls
        changed, and then the store routes by them. A database without the table (not
        upgraded yet) or away keeps the walls known."""
        moment = time.monotonic()
        if not force and moment - self._walls_checked < WALLS_CHECK_EVERY:
            return False
        with self._walls_lock:
            if not force and moment - self._walls_checked < WALLS_CHECK_EVERY:
                return False  # another thread looked while this one waited
            self._walls_checked = moment
            try:
                version, rows = self.store.stored_walls(parse_walls, self._walls_version)
                if rows is None:
                    return False
                live, archived = combine(self.config_walls, rows)
                changed = live != self._live
                if changed:
                    self.store.use_router(Router(live, screens(live)))
            except SQLAlchemyError as error:  # not upgraded yet, or away: next time
                log.warning("Could not read the walls table (run upgrade-db?): %s",
                            str(error).splitlines()[0][:200])
                return False
            self._walls_version, self._live, self._archived = version, live, archived
            return changed

    @property
    def moderation(self) -> Moderation:
        """The moderator actions (hide, ban, block, pin, approve, undo…)."""
        if self._moderation is None:
            self._moderation = Moderation(self.store, self.settings, notify=self._notify)
        return self._moderation

    @property
    def wall_admin(self) -> WallAdmin:
        """The console's wall actions (create, edit, archive), audited in the action log."""
        return WallAdmin(self.moderation, parse_walls,
                         lambda: (self.walls, self.archived_walls),
                         lambda: self.refresh_walls(force=True))

    @property
    def engine(self) -> Engine:
        with self.app.app_context():
            return self.db.engine

    @property
    def store(self) -> PostStore:
        if self._store is None:
            self._store = PostStore(self.engine, self.settings["JOURNAL_KEEP"],
                                    self.settings["KEEP_RAW"],
                                    Router(self._live, screens(self._live)))
        return self._store

    @property
    def bus(self) -> Bus:
        """The process's one bus: the hub waits on it, moderation actions and the stream
        publish on it. Per process: a worker forked after the bus was opened (gunicorn's
        preload) opens its own rather than share its parent's connections; one closed
        (the hub stopped) is replaced on the next use."""
        with self._bus_lock:
            if self._bus is None or self._bus_pid != os.getpid() or self._bus.closed:
                self._bus = create_bus(self.settings, self.engine)
                self._bus_pid = os.getpid()
            return self._bus

    def _notify(self, journal_id: int) -> None:
        self.bus.notify(journal_id)

    def create_tables(self) -> None:
        """Create the extension's tables if missing (idempotent).

        On a database managed by the migrations (``init-db`` ran), bring it to the newest
        revision instead: a table created behind Alembic's back would make the next
        upgrade fail.
        """
        if is_managed(self.engine):
            upgrade(self.engine)
        else:
            metadata.create_all(self.engine)


def current_state(app: Flask | None = None) -> TwitSocketState:
    """The state of ``app`` (default: the current app)."""
    return (app or current_app).extensions["twitsocket"]


def build_ingestor(state: TwitSocketState, bus: Bus | None = None) -> Ingestor:
    """The production ingest pipeline: the store, the bus (default: the process's) and
    the moderation gate as the settings say. The stream command, the demo, the benchmarks
    and the tests all build it here, so every ingest test runs the pipeline production
    runs."""
    bus = bus or state.bus
    actions = Moderation(state.store, state.settings, notify=bus.notify)
    return Ingestor(state.store, bus, Gate(state.store, state.settings, actions))
