"""The stream process: run sources side by side and feed their events to the pipeline.

Every source runs in its own thread and puts raw events on one queue; the main thread
takes whatever has accumulated (up to ``BATCH_SIZE``) and ingests it in one transaction.
At a few posts per second that is one post per batch and no added latency; in a burst,
batches grow and the database keeps up. A source that crashes is logged and restarted
after a back-off, so one network's trouble never stops the others.

Nothing a network sends can stop this loop: the ingestor drops what it cannot store, and
only a lost database connection comes back here. Then the batch is kept and retried until
the database answers — for at most ``TWITSOCKET_DATABASE_DOWN_EXIT`` seconds, after which
:class:`DatabaseDown` ends the process with a non-zero status, so that systemd (or any
supervisor) restarts it and the outage shows as a failed unit rather than as a log that
merely looks busy. Nothing is lost by exiting: sources save their resume position only
for events already stored (``RawEvent.acknowledge``), so a restart reads the rest again.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable

from .backoff import Backoff
from .pipeline import Ingestor, IngestStats
from .shapes import RawEvent
from .sources.base import FINISHED, STOPPED, PermanentFailure, Source
from .store import is_connection_error

log = logging.getLogger("flask_twitsocket.stream")

BATCH_SIZE = 500
#: Seconds between two tries to store a batch while the database is unreachable.
RETRY_WAIT = 2.0
#: Seconds between two saves of the sources' status (what /health reads).
STATUS_EVERY = 2.0
_DONE = object()


class DatabaseDown(RuntimeError):
    """The database stayed unreachable longer than the bound: the process should exit."""


#: The stream's exit status when every source stopped for a permanent reason (bad
#: credentials, no access, usage cap): the systemd unit does not restart on it
#: (``RestartPreventExitStatus=``), since a restart would be refused the same way.
ALL_SOURCES_STOPPED = 3


class StreamRunner:
    def __init__(self, sources: Iterable[Source], ingestor: Ingestor,
                 stop: threading.Event, restart_crashed: bool = True,
                 database_down_exit: float = 300.0,
                 chores: Callable[[bool], None] | None = None) -> None:
        self.sources = list(sources)
        self.ingestor = ingestor
        self.stop = stop
        self.restart_crashed = restart_crashed
        self.database_down_exit = database_down_exit
        self.events: queue.Queue = queue.Queue(maxsize=10 * BATCH_SIZE)
        self.stats = IngestStats()
        #: Periodic work of the main loop (status rows, top lists): see :class:`Chores`.
        self.chores = chores or (lambda final: None)
        #: Sources stopped by a permanent failure.
        self.failed: set[str] = set()

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
                try:
                    stats = self._ingest(batch)
                except DatabaseDown:
                    self.stop.set()  # the sources stop too; their positions stay saved
                    raise
                if on_batch and stats is not None:
                    on_batch(stats)
            self._tick()
            self.chores(False)
        self.stop.set()
        batch, _finished = self._next_batch(wait=False)
        if batch:
            self._ingest(batch)
        for thread in threads:
            thread.join(timeout=5)
        for source in self.sources:
            if source.status.state not in (STOPPED, FINISHED):
                source.status.stopped()
        self.chores(True)
        return self.stats

    def all_stopped_for_good(self) -> bool:
        """Whether every source stopped on a permanent failure (none finished normally)."""
        return bool(self.sources) and self.failed == {source.name for source in self.sources}

    def _ingest(self, batch: list[RawEvent]) -> IngestStats | None:
        """Store a batch, waiting for the database while it is unreachable (bounded);
        None if asked to stop meanwhile (the batch is not acknowledged: read again later).
        """
        down_since: float | None = None
        while True:
            try:
                stats = self.ingestor.ingest(batch)
                break
            except Exception as error:
                if not is_connection_error(error):
                    raise  # the ingestor drops what the database refuses: this is a bug
                down_since = down_since or time.monotonic()
                if not self._wait_for_database(error, len(batch),
                                               time.monotonic() - down_since):
                    return None
        if down_since is not None:
            log.info("The database is back; stored the waiting batch")
        for event in batch:  # only now may the sources move their resume positions
            if event.acknowledge is not None:
                event.acknowledge()
        self.stats.add(stats)
        return stats

    def _wait_for_database(self, error: Exception, size: int, down_for: float) -> bool:
        """Wait before the next try; False if asked to stop, DatabaseDown past the bound."""
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        if down_for >= self.database_down_exit:
            raise DatabaseDown(
                f"the database has been unreachable for {down_for:.0f} s (limit "
                f"TWITSOCKET_DATABASE_DOWN_EXIT = {self.database_down_exit:g} s): "
                f"{type(error).__name__}: {reason}") from error
        log.warning("Could not store %d events, the database is unreachable (%s: %s); "
                    "retrying in %.0f s", size, type(error).__name__, reason, RETRY_WAIT)
        return not self.stop.wait(RETRY_WAIT)

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
                    source.status.saw_event()
                    self.events.put(event)
                    if self.stop.is_set():
                        break
                if self.stop.is_set():
                    source.status.stopped()
                else:  # the source finished on its own (a replay reached its end)
                    source.status.finished()
                break
            except PermanentFailure as failure:  # only this source stops; the others go on
                self.failed.add(source.name)
                source.status.failed(str(failure), permanent=True)
                log.error("Source %s stopped: %s", source.name, failure)
                break
            except Exception as error:
                source.status.failed(f"crashed: {type(error).__name__}: {error}")
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


class Chores:
    """The stream process's periodic work, run from its main loop between batches.

    * Every :data:`STATUS_EVERY` seconds, each source's status and the ingest totals are
      saved to the database (``save``), where every web worker's ``/health``, console and
      metrics read them.
    * Every ``top_interval`` seconds (``TWITSOCKET_TOP_INTERVAL``; 0 = never) the top
      lists are refreshed (``refresh_top``), so "most active" and "most shared" fill
      without a cron job. One aggregate query each, measured cheap at 1M posts
      (``benchmarks/bench_page.py``); run here, between batches, it never races a write.

    * Every :data:`STATUS_EVERY` seconds too, ``check_walls`` looks whether the site's
      walls changed in the console (the walls table): then new posts are routed by the
      new walls and every source follows their tracking, without a restart.

    A failure (the database away) is logged and tried again next time: chores never stop
    the stream.
    """

    def __init__(self, sources: Iterable[Source], stats: Callable[[], IngestStats],
                 save: Callable[[list[dict], dict[str, int]], None],
                 refresh_top: Callable[[], object] | None = None,
                 top_interval: float = 0.0,
                 check_walls: Callable[[], object] | None = None) -> None:
        self.sources = list(sources)
        self.stats, self.save, self.refresh_top = stats, save, refresh_top
        self.check_walls = check_walls
        self.top_interval = top_interval
        started = time.monotonic()
        self._status_due = started
        self._top_due = started + top_interval

    def __call__(self, final: bool = False) -> None:
        now = time.monotonic()
        if final or now >= self._status_due:
            self._status_due = now + STATUS_EVERY
            self._try("save the sources' status", lambda: self.save(
                [source.report() for source in self.sources], dataclasses.asdict(self.stats())))
            if self.check_walls is not None and not final:
                self._try("look for changed walls", self.check_walls)
        if self.refresh_top and self.top_interval > 0 and now >= self._top_due and not final:
            self._top_due = now + self.top_interval
            self._try("refresh the top lists", self.refresh_top)

    @staticmethod
    def _try(what: str, job: Callable[[], object]) -> None:
        try:
            job()
        except Exception as error:  # the database is away: next time
            log.warning("Could not %s: %s: %s", what, type(error).__name__,
                        str(error).splitlines()[0][:200] if str(error) else "")


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (systemd) and SIGINT (Ctrl-C) ask for a clean stop: finish the batch, exit."""

    def handler(signum: int, _frame: object) -> None:
        log.info("Received %s; stopping after the current batch",
                 signal.Signals(signum).name)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handler)
