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

import threading
from typing import Any

from ..config import Settings
from ..converters import REDIS_SCHEMES


class Bus:
    """Base class: no hints; readers fall back to polling every ``poll_interval`` seconds."""

    #: Shown by the health endpoint and in logs.
    name = "database"

    def __init__(self, settings: Settings) -> None:
        self.poll_interval: float = settings["POLL_INTERVAL"]
        self._closed = threading.Event()

    @property
    def connected(self) -> bool:
        return not self._closed.is_set()

    def notify(self, journal_id: int | None = None) -> None:
        """Called by a writer after it committed journal entries (up to ``journal_id``)."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a hint arrives or ``timeout`` (default: the poll interval) passes.

        Returns True when a hint arrived. Must return promptly after :meth:`close`.
        """
        self._closed.wait(self.poll_interval if timeout is None else timeout)
        return False

    def close(self) -> None:
        self._closed.set()


DatabaseBus = Bus


def create_bus(settings: Settings, **options: Any) -> Bus:
    """The bus named by ``TWITSOCKET_BROKER_URL``."""
    url = settings.get("BROKER_URL")
    if not url:
        return DatabaseBus(settings)
    if url.startswith(REDIS_SCHEMES):
        from .redis import RedisBus

        return RedisBus(settings, url, **options)
    from .postgres import PostgresBus

    return PostgresBus(settings, url, **options)
