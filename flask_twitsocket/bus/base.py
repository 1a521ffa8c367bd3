"""The bus's interface, and the bus without a broker (the hub polls the journal)."""

from __future__ import annotations

import threading

from ..config import Settings


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

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (a closed bus is replaced, not reused)."""
        return self._closed.is_set()

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
