"""The interface every source implements (the back-off they share is :mod:`..backoff`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from ..config import Settings
from ..shapes import RawEvent


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
