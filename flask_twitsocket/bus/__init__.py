"""The bus: how the stream process tells web workers that something new is in the journal.

The journal table is the source of truth (see :mod:`flask_twitsocket.models`): every
message a wall must receive is stored there in the same transaction as the post. A bus only
carries *wake-up hints* — "look again" — so it may be lossy (Redis pub/sub and PostgreSQL
NOTIFY are at-most-once) without ever losing a post: a worker reads ``id > last_seen``
from the journal after each hint, and anyway at least every few seconds.

A bus is chosen by ``TWITSOCKET_BROKER_URL``: unset means :class:`DatabaseBus`, which has
no hints at all and simply polls. Writers call :meth:`Bus.notify` after a commit; each web
worker's hub calls :meth:`Bus.wait` in its single reader thread.
"""

from __future__ import annotations

from typing import Any

from ..config import Settings
from ..converters import REDIS_SCHEMES
from .base import Bus, DatabaseBus
from .postgres import PostgresBus
from .redis import RedisBus

__all__ = ["Bus", "DatabaseBus", "create_bus"]


def create_bus(settings: Settings, **options: Any) -> Bus:
    """The bus named by ``TWITSOCKET_BROKER_URL``."""
    url = settings.get("BROKER_URL")
    if not url:
        return DatabaseBus(settings)
    if url.startswith(REDIS_SCHEMES):
        return RedisBus(settings, url, **options)
    return PostgresBus(settings, url, **options)
