"""SQLite's own change counter as the wake-up bus: live walls on one host with no broker.

``PRAGMA data_version`` on a connection changes whenever *another* connection commits to
the database file — the stream process storing a post, a moderator's action in another
worker. Reading it costs about 5 µs and takes no lock, so the hub can afford to look every
``TWITSOCKET_CHANGE_CHECK_INTERVAL`` seconds (5 ms): a post reaches the walls a few
milliseconds after its commit, where the plain database bus polled the journal every
0.25 s (p99 ~290 ms end to end against ~25 ms for a bare websocket server, issue #18).

Nothing travels between processes, so nothing can be lost on the way: the counter is a
property of the file. The journal stays the source of truth all the same — the hub reads
``id > last_seen`` after every change, and at least every ``BUS_SAFETY_INTERVAL`` seconds
(a restored or replaced file, say). A failed check (the file is gone, a disk error) counts
as a change: the hub reads the journal, and the bus opens its connection again.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

from ..config import Settings
from .base import Bus

log = logging.getLogger("flask_twitsocket.bus.sqlite")


def sqlite_file(database: str | None) -> str | None:
    """The file an SQLite URL's database names, or None for an in-memory database (no other
    process can write to it, so there is nothing to watch)."""
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    return database


class SqliteBus(Bus):
    """Wakes the hub when ``PRAGMA data_version`` of the wall's database file changes."""

    name = "sqlite"

    def __init__(self, settings: Settings, path: str) -> None:
        super().__init__(settings)
        self.path = path
        self.check_interval: float = settings["CHANGE_CHECK_INTERVAL"]
        self.safety_interval: float = settings["BUS_SAFETY_INTERVAL"]
        self._connection: sqlite3.Connection | None = None
        self._version: int | None = None
        self._lock = threading.Lock()  # close() comes from another thread than wait()
        self._failing = False

    @property
    def connected(self) -> bool:
        """False after a failed check, until one works again (health shows it)."""
        return not self._failing and not self._closed.is_set()

    def _data_version(self) -> int:
        with self._lock:
            return self._read_version()

    def _read_version(self) -> int:
        if self._connection is None:
            # Autocommit and read-only use: the connection never holds a transaction,
            # so it never keeps the stream from writing or a WAL checkpoint from finishing.
            self._connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False,
                uri=self.path.startswith("file:"))
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def wait(self, timeout: float | None = None) -> bool:
        """Check the counter every ``check_interval`` until it changes (True) or
        ``timeout`` (default: ``BUS_SAFETY_INTERVAL``) passes (False)."""
        deadline = time.monotonic() + (self.safety_interval if timeout is None else timeout)
        while not self._closed.is_set():
            try:
                version = self._data_version()
            except sqlite3.Error as error:
                if not self._failing:
                    log.warning("Cannot check %s for changes (%s); reading the journal",
                                self.path, error)
                self._failing = True
                self._disconnect()
                self._closed.wait(self.poll_interval)  # no busy loop on a broken file
                return True
            self._failing = False
            if version != self._version:
                first, self._version = self._version is None, version
                if not first:
                    return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._closed.wait(min(self.check_interval, remaining))
        return False

    def _disconnect(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
            self._version = None
            if connection is not None:
                connection.close()

    def close(self) -> None:
        super().close()
        self._disconnect()
