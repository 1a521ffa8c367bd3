"""The interface every source implements, and the back-off they share."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator

from ..config import Settings
from ..pipeline import RawEvent


class Source:
    """A long-running producer of raw events from one network."""

    #: The registry name (``--source NAME``).
    name = "base"
    #: The network of the posts it produces.
    network = "x"

    def __init__(self, settings: Settings, stop: threading.Event) -> None:
        self.settings = settings
        self.stop = stop
        self.log = logging.getLogger(f"flask_twitsocket.sources.{self.name}")

    @classmethod
    def is_configured(cls, settings: Settings) -> bool:
        """Whether the site configured this source (credentials present)."""
        return False

    def check(self) -> None:
        """Raise :class:`~flask_twitsocket.config.ConfigError` for missing settings."""

    def events(self) -> Iterator[RawEvent]:
        """Yield raw events until ``self.stop`` is set; reconnect on failures inside."""
        raise NotImplementedError

    def sleep(self, seconds: float) -> bool:
        """Wait, scaled by ``TWITSOCKET_BACKOFF_SCALE``; returns False if asked to stop."""
        return not self.stop.wait(seconds * self.settings["BACKOFF_SCALE"])


class Backoff:
    """Growing waits between reconnects, reset after a connection works.

    ``linear`` adds ``step`` each time (network errors); otherwise the wait doubles (HTTP
    errors). A little jitter keeps many walls from reconnecting in lock-step.
    """

    def __init__(self, first: float, limit: float, linear: bool = False,
                 jitter: float = 0.1) -> None:
        self.first, self.limit, self.linear, self.jitter = first, limit, linear, jitter
        self.attempts = 0

    def next(self) -> float:
        self.attempts += 1
        if self.linear:
            wait = self.first * self.attempts
        else:
            wait = self.first * 2 ** (self.attempts - 1)
        wait = min(wait, self.limit)
        return wait * (1 + random.uniform(0, self.jitter))

    def reset(self) -> None:
        self.attempts = 0
