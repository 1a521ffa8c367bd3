"""What the Redis and PostgreSQL buses share: one subscription held by the hub thread,
reconnected with back-off, and a publisher that never lets a broker outage stop storing.

A subclass says how to open a subscription, wait on it and publish
(:meth:`BrokerBus._open`, :meth:`BrokerBus._receive`, :meth:`BrokerBus._publish`); this
class decides what a failure means. The rule is the same for both brokers: every time the
subscription is (re)established or lost, :meth:`wait` returns True, so the hub reads the
journal by id at once — the hints sent meanwhile are gone, the posts are not.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from ..backoff import Backoff
from ..config import Settings
from ..config_table import BROKER_CHANNEL_DEFAULT
from .base import Bus


def close_quietly(resource: Any) -> None:
    """Close a broker connection that may already be broken; there is nothing to report."""
    if resource is not None:
        with contextlib.suppress(Exception):
            resource.close()


class Reconnect:
    """When a subscriber may try again: growing waits, reset once it works.

    The hub thread must keep reading the journal while the broker is down, so a subscriber
    never sleeps through a whole back-off: :meth:`due` waits at most the caller's timeout
    and says whether the next attempt is due yet.
    """

    def __init__(self, settings: Settings, closed: threading.Event,
                 first: float = 0.5, limit: float = 30.0) -> None:
        self._backoff = Backoff(first * settings["BACKOFF_SCALE"],
                                limit * settings["BACKOFF_SCALE"])
        self._closed = closed
        self._next_attempt = 0.0

    def due(self, timeout: float) -> bool:
        remaining = self._next_attempt - time.monotonic()
        if remaining <= 0:
            return True
        self._closed.wait(min(remaining, timeout))
        return False

    @property
    def failures(self) -> int:
        return self._backoff.attempts

    def failed(self) -> float:
        """Record a failed attempt; returns the seconds until the next one."""
        delay = self._backoff.next()
        self._next_attempt = time.monotonic() + delay
        return delay

    def succeeded(self) -> None:
        self._backoff.reset()
        self._next_attempt = 0.0


class BrokerBus(Bus):
    """A bus with a real broker behind it. Subclasses set ``name`` and ``_errors``."""

    #: Exceptions that mean "the connection is gone" (anything else is a bug: raised).
    _errors: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(settings)
        self.log = logging.getLogger(f"flask_twitsocket.bus.{self.name}")
        self.channel: str = options.get("channel") or settings.get(
            "BROKER_CHANNEL", BROKER_CHANNEL_DEFAULT)
        self.safety_interval: float = settings["BUS_SAFETY_INTERVAL"]
        self._subscription: Any = None
        self._reconnect = Reconnect(settings, self._closed)
        self._publish_failed = False
        #: How many times the subscription was (re-)established; shown by tests and logs.
        self.subscriptions = 0

    # --- what a broker provides -------------------------------------------------------

    def _open(self) -> Any:
        """Connect and subscribe to ``self.channel``; returns the subscription."""
        raise NotImplementedError

    def _receive(self, subscription: Any, timeout: float) -> bool:
        """Wait up to ``timeout`` for hints; True when at least one came (drain the rest)."""
        raise NotImplementedError

    def _publish(self, payload: str) -> None:
        raise NotImplementedError

    # --- the shared rules ---------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._subscription is not None and not self._closed.is_set()

    @property
    def tried(self) -> bool:
        """Whether a subscription was attempted yet (a fresh worker is not "down")."""
        return self.subscriptions > 0 or self._reconnect.failures > 0

    def notify(self, journal_id: int | None = None) -> None:
        """Publish the newest journal id; a failure is logged once, never raised.

        The post is already committed, so the stream keeps storing while the broker is
        down, and the workers' safety poll (and their catch-up on reconnect) delivers it.
        """
        try:
            self._publish(str(journal_id or 0))
        except self._errors as error:
            if not self._publish_failed:
                self.log.warning("Publishing on %s failed (%s); walls fall back to polling",
                                 self.name, error)
            self._publish_failed = True
            return
        if self._publish_failed:
            self.log.info("Publishing on %s works again", self.name)
        self._publish_failed = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a hint; True also after a (re)connect or a loss, so the hub reads the
        journal by id right away."""
        timeout = self.safety_interval if timeout is None else timeout
        if self._closed.is_set():
            return False
        subscription = self._subscription  # close() from another thread may reset it
        if subscription is None:
            return self._reconnect.due(timeout) and self._subscribe()
        try:
            return self._receive(subscription, timeout)
        except Exception as error:
            if self._closed.is_set():
                return False  # close() pulled the connection from under us: shutting down
            if not isinstance(error, self._errors):
                raise
            self.log.warning("Lost the %s subscription (%s); reconnecting", self.name, error)
            self._drop()
            return True  # read the journal now: it is the only source until we are back

    def _subscribe(self) -> bool:
        try:
            subscription = self._open()
        except self._errors as error:
            delay = self._reconnect.failed()
            self.log.warning("Cannot subscribe on %s (%s); retrying in %.1f s", self.name,
                             error, delay)
            return False
        self._subscription = subscription
        self._reconnect.succeeded()
        self.subscriptions += 1
        if self.subscriptions > 1:
            self.log.info("%s subscription restored; catching up from the journal",
                          self.name)
        return True

    def _drop(self) -> None:
        subscription, self._subscription = self._subscription, None
        close_quietly(subscription)

    def close(self) -> None:
        super().close()
        self._drop()
