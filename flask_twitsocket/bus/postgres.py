"""PostgreSQL LISTEN/NOTIFY as the wake-up bus: no extra service when the wall's database is
PostgreSQL already.

NOTIFY is at-most-once (a listener that reconnects never sees what was sent meanwhile) and
its payload stops at 8000 bytes, so the payload is only the newest journal id — at most
twenty digits, nowhere near the limit whatever a post contains. The journal table stays
the source of truth (the rules are in :mod:`flask_twitsocket.bus.broker`).

The listener is one dedicated autocommit connection per web worker (held by the hub
thread); writers send ``pg_notify`` after their commit on a connection of their own.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..config import Settings
from .broker import BrokerBus, close_quietly

#: TCP keep-alives so a listener on a vanished host or behind a dropped NAT entry notices.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
              "keepalives_count": 3, "connect_timeout": 5}


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://`` (SQLAlchemy's spelling) → what libpq accepts."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


class PostgresBus(BrokerBus):
    """``pg_notify(channel, journal_id)`` after a commit; ``LISTEN channel`` in the hub."""

    name = "postgresql"

    def __init__(self, settings: Settings, url: str, **options: Any) -> None:
        import psycopg

        super().__init__(settings, **options)
        self._psycopg = psycopg
        self._errors = (psycopg.OperationalError, psycopg.InterfaceError, OSError)
        self.url = libpq_url(url)
        self._publisher: Any = None
        self._publish_lock = threading.Lock()  # the stream's sources publish from threads

    def _connect(self, role: str) -> Any:
        # Named, so pg_stat_activity shows which worker holds which connection.
        return self._psycopg.connect(self.url, autocommit=True, **KEEPALIVES,
                                     application_name=f"twitsocket-{role}-{os.getpid()}")

    def _publish(self, payload: str) -> None:
        with self._publish_lock:
            try:
                if self._publisher is None or self._publisher.closed:
                    self._publisher = self._connect("notify")
                self._publisher.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))
            except Exception:
                close_quietly(self._publisher)
                self._publisher = None
                raise

    def _open(self) -> Any:
        from psycopg import sql

        listener = self._connect("listen")
        try:
            listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except Exception:
            close_quietly(listener)
            raise
        return listener

    def _receive(self, subscription: Any, timeout: float) -> bool:
        if not list(subscription.notifies(timeout=timeout, stop_after=1)):
            return False
        list(subscription.notifies(timeout=0.001))  # drain a burst: one journal read
        return True

    def close(self) -> None:
        super().close()
        with self._publish_lock:
            close_quietly(self._publisher)
            self._publisher = None
