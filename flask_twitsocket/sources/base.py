"""The interface every source implements, its live status, and how it says "stop me".

A source's failures are of two kinds. **Transient** ones (a dropped connection, a 5xx, a
rate limit that X asks us to wait out) are retried inside :meth:`Source.events` with the
network's back-off, as before. **Permanent** ones — the network refusing the credentials,
the account lacking access, a usage cap reached for the billing period, an instance that
is gone — would fail the same way on every retry for days; the source raises
:class:`PermanentFailure` with one sentence quoting the network's own reason and saying
what to do, and the stream runner stops that source (only that one) and records it.

:class:`SourceStatus` is what the source reports as it goes (connecting, streaming,
backing off, stopped, finished; its last error; its reconnects; its cursor): the stream process
writes a snapshot of every source's status to the database every few seconds, so that
every web worker's ``/health`` and the console can show it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from ..config import Settings
from ..shapes import RawEvent
from ..walls import WallSpec, site_walls

CONNECTING = "connecting"
STREAMING = "streaming"
BACKING_OFF = "backing off"
STOPPED = "stopped"
#: A source that reached its own end (a replay's last line): done, not failing.
FINISHED = "finished"


class PermanentFailure(Exception):
    """The network refused us in a way a retry cannot cure; the message says what to do."""


class SourceStatus:
    """One source's live state, written by its thread(s), read by the stream runner.

    Plain attribute writes (atomic under the GIL); :meth:`snapshot` copies them under a
    lock so a row is never half old, half new.
    """

    def __init__(self, name: str, network: str) -> None:
        self.name, self.network = name, network
        self.state = CONNECTING
        self.last_event_at: float | None = None
        self.last_error: str | None = None
        self.last_error_at: float | None = None
        self.reconnects = 0
        self.events = 0
        self.started_at = time.time()
        self._lock = threading.Lock()

    def connecting(self) -> None:
        self.state = CONNECTING

    def streaming(self) -> None:
        self.state = STREAMING

    def failed(self, error: str, permanent: bool = False) -> None:
        """A failure: backing off (another try follows, counted) or stopped for good."""
        with self._lock:
            self.last_error, self.last_error_at = error[:500], time.time()
            if permanent:
                self.state = STOPPED
            else:
                self.state = BACKING_OFF
                self.reconnects += 1

    def finished(self) -> None:
        """Reached its own end (a replay's last line): nothing is wrong, nothing follows."""
        self.state = FINISHED

    def stopped(self) -> None:
        """Stopped without a new error because the stream process is stopping."""
        self.state = STOPPED

    def saw_event(self) -> None:
        self.events += 1
        self.last_event_at = time.time()
        if self.state != STREAMING:
            self.state = STREAMING

    def snapshot(self, cursor: str | None, lag: float | None) -> dict[str, Any]:
        with self._lock:
            return {"source": self.name, "network": self.network, "state": self.state,
                    "last_event_at": self.last_event_at, "last_error": self.last_error,
                    "last_error_at": self.last_error_at, "reconnects": self.reconnects,
                    "events": self.events, "started_at": self.started_at, "cursor": cursor,
                    "lag_seconds": None if lag is None else round(lag, 1)}


class Source:
    """A long-running producer of raw events from one network."""

    #: The registry name (``--source NAME``).
    name = "base"
    #: The network of the posts it produces.
    network = "x"

    def __init__(self, settings: Settings, stop: threading.Event,
                 walls: Mapping[str, WallSpec] | None = None) -> None:
        self.settings = settings
        self.stop = stop
        self.log = logging.getLogger(f"flask_twitsocket.sources.{self.name}")
        self.status = SourceStatus(self.name, self.network)
        #: The site's walls, whose tracking (all of it) this source follows: the config's
        #: unless the stream passes the ones the console made too.
        self.walls: dict[str, WallSpec] = dict(walls if walls is not None
                                               else site_walls(settings))

    @classmethod
    def is_configured(cls, settings: Settings) -> bool:
        """Whether the site configured this source (credentials present)."""
        return False

    def check(self) -> None:
        """Raise :class:`~flask_twitsocket.config.ConfigError` for missing settings."""

    def events(self) -> Iterator[RawEvent]:
        """Yield raw events until ``self.stop`` is set; reconnect on transient failures
        inside, raise :class:`PermanentFailure` when retrying cannot help."""
        raise NotImplementedError

    def walls_changed(self, walls: Mapping[str, WallSpec]) -> None:
        """The site's walls changed in the console while the stream runs (called from the
        stream's main loop: must not block it). This default only keeps them; a network
        source follows the new tracking without dropping its connection where the
        network allows it."""
        self.walls = dict(walls)

    def position(self) -> tuple[str | None, float | None]:
        """Where the source would resume (its cursor, as text) and how far behind the
        network's present that is, in seconds; ``(None, None)`` when it keeps none."""
        return None, None

    def report(self) -> dict[str, Any]:
        """The status row the stream process stores for this source."""
        cursor, lag = self.position()
        return self.status.snapshot(cursor, lag)

    def backing_off(self, error: str) -> None:
        """Record a transient failure (the caller logs it and waits)."""
        self.status.failed(error)

    def sleep(self, seconds: float) -> bool:
        """Wait, scaled by ``TWITSOCKET_BACKOFF_SCALE``; returns False if asked to stop."""
        return not self.stop.wait(seconds * self.settings["BACKOFF_SCALE"])
