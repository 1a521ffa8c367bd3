"""The bus: how the stream process tells web workers that something new is in the journal.

The journal table is the source of truth (see :mod:`flask_twitsocket.models`): every
message a wall must receive is stored there in the same transaction as the post. A bus only
carries *wake-up hints* — "look again" — so it may be lossy (Redis pub/sub and PostgreSQL
NOTIFY are at-most-once) without ever losing a post: a worker reads ``id > last_seen``
from the journal after each hint, and anyway at least every few seconds.

:func:`create_bus` is the one place that chooses. ``TWITSOCKET_BROKER_URL`` names a broker
(Redis, or PostgreSQL LISTEN/NOTIFY). Unset, the wall's own database wakes the walls: on
PostgreSQL its LISTEN/NOTIFY, on an SQLite file its change counter
(:mod:`flask_twitsocket.bus.sqlite`) — live within milliseconds with no extra service,
which is what most sites and the demo run. Only a database with neither (an in-memory
SQLite, another dialect, PostgreSQL without psycopg 3) falls back to :class:`DatabaseBus`,
which simply polls. Writers call :meth:`Bus.notify` after a commit; each web worker's hub calls
:meth:`Bus.wait` in its single reader thread.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from sqlalchemy import Engine

from ..config import Settings
from ..converters import REDIS_SCHEMES
from .base import Bus, DatabaseBus
from .postgres import PostgresBus
from .redis import RedisBus
from .sqlite import SqliteBus, sqlite_file

__all__ = ["Bus", "DatabaseBus", "create_bus"]


def create_bus(settings: Settings, engine: Engine | None = None, **options: Any) -> Bus:
    """The bus named by ``TWITSOCKET_BROKER_URL``; without one, the best the wall's
    database (``engine``) offers on its own."""
    url = settings.get("BROKER_URL")
    if url:
        if url.startswith(REDIS_SCHEMES):
            return RedisBus(settings, url, **options)
        return PostgresBus(settings, url, **options)
    if engine is not None:
        dialect = engine.dialect.name
        if dialect == "postgresql" and importlib.util.find_spec("psycopg"):
            return PostgresBus(settings, engine.url.render_as_string(hide_password=False),
                               **options)
        if dialect == "sqlite" and (path := sqlite_file(engine.url.database)):
            return SqliteBus(settings, path)
    return DatabaseBus(settings)
