"""The stream process: run sources side by side and feed their events to the pipeline.

Every source runs in its own thread and puts raw events on one queue; the main thread
takes whatever has accumulated (up to ``BATCH_SIZE``) and ingests it in one transaction.
At a few posts per second that is one post per batch and no added latency; in a burst,
batches grow and the database keeps up. A source that crashes is logged and restarted
after a back-off, so one network's trouble never stops the others.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable

from .pipeline import Ingestor, IngestStats, RawEvent
from .sources.base import Backoff, Source

log = logging.getLogger("flask_twitsocket.stream")

BATCH_SIZE = 500
_DONE = object()


class StreamRunner:
    def __init__(self, sources: Iterable[Source], ingestor: Ingestor,
                 stop: threading.Event, restart_crashed: bool = True) -> None:
        self.sources = list(sources)
        self.ingestor = ingestor
        self.stop = stop
        self.restart_crashed = restart_crashed
        self.events: queue.Queue = queue.Queue(maxsize=10 * BATCH_SIZE)
        self.stats = IngestStats()

    def run(self, on_batch: Callable[[IngestStats], None] | None = None) -> IngestStats:
        """Ingest until every source has finished or ``stop`` is set."""
        threads = [
            threading.Thread(target=self._pump, args=(source,), daemon=True,
                             name=f"source-{source.name}")
            for source in self.sources
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        # Delayed posts (moderation's delay mode) are released from this loop, so it also
        # runs on after the sources finished until none waits; _next_batch wakes it twice
        # a second when idle.
        while (running or self._tick()) and not self.stop.is_set():
            batch, finished = self._next_batch()
            running -= finished
            if batch:
                stats = self._ingest(batch)
                if on_batch:
                    on_batch(stats)
            self._tick()
        self.stop.set()
        batch, _finished = self._next_batch(wait=False)
        if batch:
            self._ingest(batch)
        for thread in threads:
            thread.join(timeout=5)
        return self.stats

    def _ingest(self, batch: list[RawEvent]) -> IngestStats:
        while True:
            try:
                stats = self.ingestor.ingest(batch)
                break
            except Exception:  # the database is down: keep the batch, retry, never drop it
                log.exception("Could not store %d events; retrying in 2 s", len(batch))
                if self.stop.wait(2.0):
                    raise
        self.stats.add(stats)
        return stats

    def _tick(self) -> bool:
        """The ingestor's periodic work; True while it still has some waiting."""
        try:
            self.ingestor.tick()
            return self.ingestor.waiting()
        except Exception:  # the database is down: the next loop tries again
            log.exception("Could not release delayed posts; retrying")
            return not self.stop.wait(2.0)

    def _next_batch(self, wait: bool = True) -> tuple[list[RawEvent], int]:
        batch: list[RawEvent] = []
        finished = 0
        try:
            first = self.events.get(timeout=0.5) if wait else self.events.get_nowait()
        except queue.Empty:
            return batch, finished
        for item in self._drain(first):
            if item is _DONE:
                finished += 1
            else:
                batch.append(item)
        return batch, finished

    def _drain(self, first: object) -> Iterable[object]:
        yield first
        for _ in range(BATCH_SIZE - 1):
            try:
                yield self.events.get_nowait()
            except queue.Empty:
                return

    def _pump(self, source: Source) -> None:
        backoff = Backoff(1.0, 60.0)
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                for event in source.events():
                    self.events.put(event)
                    if self.stop.is_set():
                        break
                break  # the source finished on its own (a replay reached its end)
            except Exception:
                if not self.restart_crashed:
                    log.exception("Source %s crashed", source.name)
                    break
                if time.monotonic() - started > 60:
                    backoff.reset()
                delay = backoff.next()
                log.exception("Source %s crashed; restarting it in %.0f s", source.name, delay)
                if not source.sleep(delay):
                    break
        self.events.put(_DONE)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (systemd) and SIGINT (Ctrl-C) ask for a clean stop: finish the batch, exit."""

    def handler(signum: int, _frame: object) -> None:
        log.info("Received %s; stopping after the current batch",
                 signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
