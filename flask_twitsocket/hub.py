"""The hub: one reader per web worker, fanning journal messages out to every open wall.

However many browsers are connected, a worker process runs ONE thread that follows the
journal (woken by the bus, or polling) and hands the messages — already serialised, the
exact text to send — to every subscriber. A websocket wall has a *sink*: the hub thread
writes to its socket itself, everything it read in one pass as one write. A server-sent
events client has a bounded queue that its connection handler drains. A subscriber that
cannot keep up (a full queue; a socket whose outbox overflows, see
:mod:`flask_twitsocket.web.outbox`) is dropped rather than allowed to hold memory or delay
anyone else; its browser reconnects and catches up through the JSON API. A sink must never
block: the hub thread is every wall's only writer.

The hub also says how long the journal has been ahead of it (:meth:`Hub.lag_seconds`), so
a worker whose hub stalled can report itself unready.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing

from .bus import Bus
from .messages import Delivery, deliveries, is_count, is_moderator_kind, journal_messages
from .store import PostStore
from .store.journal import JournalRead
from .store.walls import split_walls_key
from .walls import DEFAULT_WALL

log = logging.getLogger("flask_twitsocket.hub")

#: Journal entries read at a time.
READ_ENTRIES = 100
#: About this much text goes to each wall in one write; a burst beyond it goes in several,
#: so one write stays well within a wall's outbox (``TWITSOCKET_WALL_BUFFER_BYTES``).
BATCH_BYTES = 128 * 1024


#: Journal entries' messages, each with its walls (None: every wall), in order.
Run = list[tuple[tuple[str, ...] | None, list[str]]]
#: The audience of every subscriber, whatever its wall (see :meth:`Hub._audience`).
EVERYONE = object()


class Refused(Exception):
    """A new subscriber is not admitted; ``str(error)`` is the reason to tell the client."""


#: Why a full worker refuses (the browser retries with back-off, maybe on another worker).
FULL_REASON = "server full; try again shortly"
#: Why a client over its address's share is refused.
ADDRESS_FULL_REASON = "too many connections from your address; try again later"


class Subscription:
    """One connected wall's (or moderator console's) mailbox."""

    def __init__(self, maxsize: int, moderator: bool = False, address: str | None = None,
                 sink: Callable[[tuple[str, ...]], None] | None = None,
                 wall: str | None = None) -> None:
        #: The wall subscribed to (None: every wall's traffic, e.g. a moderator console).
        self.wall = wall
        #: Messages for a handler thread to send, each with its seq (SSE's ``id:``). Only
        #: without a sink: a queue with its three conditions is ~2.5 KiB per wall under
        #: gevent (measured with ``benchmarks/profile_walls.py``), for nothing.
        self.queue: queue.Queue[Delivery] | None = None if sink else queue.Queue(maxsize)
        #: The client's address, counted against ``per_address`` (see :meth:`Hub.join`).
        self.address = address
        #: Also receives moderator-only messages; set only after the moderator check.
        self.moderator = moderator
        self.dropped = False
        #: Called (from the hub thread, so it must not block) when the subscriber is
        #: dropped: the connection handler may be stuck sending to a phone that stopped
        #: reading, and only its socket can be told.
        self.on_drop: Callable[[], None] | None = None
        #: When set, the hub thread hands messages straight to this callable (which writes
        #: them to the socket) instead of queueing them for a handler thread to wake up
        #: and send. It gets a tuple of messages, the same tuple object for every
        #: subscriber, so the frames can be built once. It must not block for long;
        #: raising OSError drops the subscriber.
        self.sink = sink

    def get(self, timeout: float) -> Delivery | None:
        """The next message, or None when none came within ``timeout`` seconds."""
        if self.queue is None:
            raise TypeError("a subscriber with a sink has no queue")
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    def __init__(self, store_factory: Callable[[], PostStore],
                 bus_factory: Callable[[], Bus], queue_size: int = 256) -> None:
        self._store_factory = store_factory
        self._bus_factory = bus_factory
        self.queue_size = queue_size
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        #: The subscribers of each wall (one set per wall, so a message for a wall is
        #: handed to its subscribers only); those of every wall are under None.
        self._by_wall: dict[str | None, set[Subscription]] = {}
        #: Each audience as a tuple (see :meth:`_audience`), until someone joins or leaves.
        self._frozen: dict[object, tuple[Subscription, ...]] = {}
        self._per_address: Counter[str] = Counter()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._stop = threading.Event()
        self.bus: Bus | None = None
        self.last_id: int | None = None
        self.delivered = 0
        #: Clients dropped for falling behind or failing a write (the metrics read it).
        self.dropped_clients = 0
        #: (journal id, when first seen undelivered): see :meth:`lag_seconds`.
        self._waiting: tuple[int, float] | None = None
        # The opening snapshot (see :meth:`snapshot`) and the count of broadcasts that
        # invalidates it.
        self._generation = 0
        self._snapshot: tuple[int, list[str]] | None = None
        #: The other walls' opening snapshots (see :meth:`snapshot`), by wall.
        self._wall_snapshots: dict[str, tuple[int, list[str]]] = {}

    # --- subscribers --------------------------------------------------------------------

    def subscribe_within(self, limit: int,
                         sink: Callable[[tuple[str, ...]], None] | None = None,
                         moderator: bool = False) -> Subscription | None:
        """:meth:`join`, but None when ``limit`` clients are connected already (0 = no
        limit): a full worker refuses, so the balancer sends the retry elsewhere."""
        try:
            return self.join(limit, sink=sink, moderator=moderator)
        except Refused:
            return None

    def join(self, limit: int, sink: Callable[[tuple[str, ...]], None] | None = None,
             moderator: bool = False, address: str | None = None, per_address: int = 0,
             wall: str | None = None) -> Subscription:
        """Subscribe, or raise :class:`Refused` when ``limit`` clients are connected (0 = no
        limit) or ``per_address`` of them come from ``address`` already (0 = no cap): one
        client (a script, a misbehaving kiosk) must not take every slot of a worker."""
        self.start()
        subscription = Subscription(self.queue_size, moderator=moderator, address=address,
                                    sink=sink, wall=wall)
        with self._lock:
            if limit and len(self._subscribers) >= limit:
                raise Refused(FULL_REASON)
            if per_address and address is not None \
                    and self._per_address[address] >= per_address:
                raise Refused(ADDRESS_FULL_REASON)
            self._subscribers.add(subscription)
            self._by_wall.setdefault(wall, set()).add(subscription)
            self._thaw(wall)
            if address is not None:
                self._per_address[address] += 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription not in self._subscribers:
                return  # twice is harmless (an SSE stream's finally and its on-close)
            self._subscribers.discard(subscription)
            self._by_wall.get(subscription.wall, set()).discard(subscription)
            self._thaw(subscription.wall)
            if subscription.address is not None:
                self._per_address[subscription.address] -= 1
                if not self._per_address[subscription.address]:
                    del self._per_address[subscription.address]

    def _thaw(self, wall: str | None) -> None:
        """Forget the audiences a subscriber of ``wall`` joined or left (lock held)."""
        self._frozen.pop(wall, None)
        self._frozen.pop(EVERYONE, None)

    def clients_from(self, address: str) -> int:
        return self._per_address.get(address, 0)

    @property
    def client_count(self) -> int:
        return len(self._subscribers)

    def broadcast_many(self, messages: tuple[str, ...], moderator_only: bool = False,
                       ) -> None:
        """Hand ``messages``, in order, to every subscriber (moderators only, if so; a
        run for some walls only goes out by :meth:`_deliver_by_wall`).

        A sink gets them all in one call, i.e. one socket write per client however many
        posts came at once: when the hub falls behind, it reads several entries per pass
        and catches up, instead of paying a write per message per client."""
        if not messages:
            return
        with self._lock:
            self._generation += 1  # before anyone gets them: see snapshot()
            audience = self._audience(EVERYONE)
        if moderator_only:
            audience = tuple(each for each in audience if each.moderator)
        self._hand(audience, messages)

    def _audience(self, wall: object) -> tuple[Subscription, ...]:
        """The subscribers of ``wall`` (None: of every wall; :data:`EVERYONE`: all of
        them), as a tuple kept until one joins or leaves: a pass hands it over without
        copying a set per message. Call with the lock held."""
        audience = self._frozen.get(wall)
        if audience is None:
            members = self._subscribers if wall is EVERYONE else self._by_wall.get(wall, ())
            audience = self._frozen[wall] = tuple(members)
        return audience

    def _hand(self, audience: tuple[Subscription, ...], messages: tuple[str, ...]) -> None:
        """Give ``messages`` to each of ``audience``: a sink gets them all in one call; a
        queue, each with its seq."""
        queued: tuple[Delivery, ...] | None = None  # read once, for every queued client
        for subscription in audience:
            sink = subscription.sink
            if sink is not None:
                # One thread writing to every socket beats waking a thread per client:
                # measured at 1,000 walls, ~5 µs per delivery instead of ~250 µs.
                try:
                    sink(messages)
                except OSError as error:  # fell too far behind (outbox full), or gone
                    self._drop(subscription, f"could not be sent to ({error})")
                continue
            if queued is None:
                queued = deliveries(messages)
            try:
                for delivery in queued:
                    subscription.queue.put_nowait(delivery)
            except queue.Full:
                self._drop(subscription, f"fell {self.queue_size} messages behind")
        self.delivered += len(audience) * len(messages)

    def snapshot(self, compute: Callable[[], list[str]], wall: str | None = None,
                 ) -> list[str]:
        """``compute()`` (what a new wall gets first: the count, the pins), reused by every
        wall that connects until the hub broadcasts anything, which may have changed it.

        Why: when a venue's Wi-Fi comes back, thousands of walls reconnect at once, and
        reading the pins and the count for each was a fifth of the worker's time. Call it
        after subscribing: a change broadcast after that arrives live, and a snapshot
        computed while one was broadcast is used once, never kept. ``wall``: the snapshot
        of one wall of a site with several (each wall its own)."""
        with self._lock:
            generation = self._generation
            cached = self._snapshot if wall is None else self._wall_snapshots.get(wall)
        if cached is not None and cached[0] == generation:
            return cached[1]
        value = compute()
        with self._lock:
            if self._generation == generation and wall is None:
                self._snapshot = (generation, value)
            elif self._generation == generation:
                self._wall_snapshots[wall] = (generation, value)
        return value

    def _drop(self, subscription: Subscription, why: str) -> None:
        subscription.dropped = True
        self.dropped_clients += 1
        self.unsubscribe(subscription)
        if subscription.on_drop is not None:
            subscription.on_drop()
        log.warning("Dropped a client that %s", why)

    def lag_seconds(self, journal_head: int) -> float | None:
        """Seconds for which an entry up to ``journal_head`` (the newest now) has been
        waiting undelivered, as seen by the callers (the health probes); None when the hub
        has delivered everything. A healthy hub delivers within its poll interval, so a
        probe mostly sees None or a fraction of a second; a stalled one, a growing number.

        Measured from the first probe that saw the entry rather than from the hub's last
        read: a hub idle for its whole safety interval is not late for a post stored a
        millisecond ago."""
        delivered = self.last_id
        if delivered is None or journal_head <= delivered:
            self._waiting = None
            return None
        now = time.monotonic()
        waiting = self._waiting
        if waiting is None or waiting[0] <= delivered:  # delivered what we waited for
            waiting = self._waiting = (journal_head, now)
        return now - waiting[1]

    # --- the reader thread --------------------------------------------------------------

    def start(self) -> None:
        """Start the reader thread once per process (after a fork, start a new one)."""
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._snapshot = None  # a forked worker starts from the database, not a copy
            self._wall_snapshots = {}
            # Fix the starting point before the first subscriber returns: a post stored
            # between subscribing and the thread's first read must reach the live feed.
            try:
                self.last_id = self._store_factory().journal_head()
            except Exception:  # the database is down: the thread keeps trying
                log.exception("Could not read the journal head; will retry")
                self.last_id = None
            self._thread = threading.Thread(target=self._run, name="twitsocket-hub",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.bus is not None:
            self.bus.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def _run(self) -> None:
        store = self._store_factory()
        self.bus = self._bus_factory()
        failures = 0
        with closing(store.journal_reader()) as read:
            while not self._stop.is_set():
                try:
                    if self.last_id is None:  # start from now: the page rendered the past
                        self.last_id = store.journal_head()
                    self._deliver_new(read)
                    failures = 0
                    self.bus.wait()
                except Exception:  # the database may be restarting: keep trying, say so
                    failures += 1
                    delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                    log.exception("Could not read the journal; retrying in %.1f s", delay)
                    self._stop.wait(delay)

    def _deliver_new(self, read: JournalRead) -> None:
        """Send everything after ``last_id``, read with ``read`` (the store's
        :meth:`~flask_twitsocket.store.PostStore.journal_reader`): each run of entries for
        the same audience goes out in batches (see :meth:`broadcast_many`) of up to
        ``BATCH_BYTES``, in journal order. Reading ``READ_ENTRIES`` at a time bounds the
        memory a burst takes (an entry holds up to 64 messages)."""
        while True:
            entries = read(self.last_id, READ_ENTRIES)
            run: Run = []
            run_bytes = 0
            run_for_moderators = False
            run_by_wall = False
            up_to = self.last_id
            for entry_id, kind, payload, walls in entries:
                moderator_only = is_moderator_kind(kind)
                by_wall = walls is not None and not moderator_only
                if run and (moderator_only != run_for_moderators or run_bytes >= BATCH_BYTES
                            or by_wall != run_by_wall):
                    self._deliver(run, run_for_moderators, up_to)
                    run, run_bytes = [], 0
                run_for_moderators, run_by_wall = moderator_only, by_wall
                run.append((split_walls_key(walls) if by_wall else None,
                            journal_messages(payload)))
                run_bytes += len(payload)
                up_to = entry_id
            if entries:
                self._deliver(run, run_for_moderators, up_to)
            if len(entries) < READ_ENTRIES:
                return

    def _deliver(self, run: Run, moderator_only: bool, up_to: int) -> None:
        """Broadcast a run, then count its entries (up to ``up_to``) as delivered: the
        health probe must see a hub stuck in a broadcast as behind, not done."""
        if run[0][0] is None:
            self.broadcast_many(tuple(text for _, texts in run for text in texts),
                                moderator_only)
        else:
            self._deliver_by_wall(run)
        self.last_id = up_to

    def _deliver_by_wall(self, run: Run) -> None:
        """A run of entries for some walls only (a site with several) goes out as ONE
        batch per wall — that wall's messages, in order — so each subscriber still gets
        one write per pass; subscribers of every wall (consoles) get the whole run once.

        Why not :meth:`broadcast_many` per wall: a pass mostly concerns one or two of 10
        walls, and its fixed costs (the lock, copying sets, batches for walls nobody
        watches) were paid for a tenth of the deliveries (``benchmarks/bench_walls.py``).
        Here a pass takes the lock once and builds batches for watched walls only."""
        per_wall: dict[str, list[str]] = {}
        with self._lock:
            self._generation += 1  # before anyone gets them: see snapshot()
            watched = self._by_wall
            for walls, texts in run:
                for wall in walls or ():
                    if watched.get(wall):
                        per_wall.setdefault(wall, []).extend(texts)
            batches = [(self._audience(wall), tuple(texts)) for wall, texts in per_wall.items()]
            consoles = self._audience(None)
        if consoles:  # every wall's posts, but the default wall's count only
            batches.append((consoles, tuple(
                text for walls, texts in run for text in texts
                if DEFAULT_WALL in (walls or ()) or not is_count(text))))
        for audience, messages in batches:
            self._hand(audience, messages)
