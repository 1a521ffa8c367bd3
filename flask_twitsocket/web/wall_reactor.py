"""One reader per worker for every wall socket: what browsers send, pings, slow sockets.

Under Flask-Sock each wall held two greenlets (or threads) for its whole life: the route's
handler and simple-websocket's reader, ~11 KiB of frames per idle wall under gevent plus
wsproto's state (``docs/performance.md``, item 8). Walls only listen, so one thread per
worker (a greenlet under gevent) does all of it here with a ``selectors`` loop over every
wall's socket: it answers pings, counts pongs (only one echoing our own ping's random
payload is a sign of life, as in :mod:`.liveness`), closes on a close frame or a protocol
error, pings every wall every ``ping_interval`` and drops one that did not answer the
previous ping, finishes what a slow socket left in its outbox, and unsubscribes a wall
from the hub however it ends. The hub thread still writes the posts itself, through each
wall's :class:`~.outbox.Outbox`; so does this reader, so its frames queue behind them.

Every socket is non-blocking and every wall's trouble is caught and logged: no wall can
stop or slow the loop. Other threads (the hub, a route handler) never touch the selector:
they queue a call and wake the loop through a socket pair.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable

from ..hub import Hub, Subscription
from .frames import (
    NORMAL,
    PING,
    POLICY_VIOLATION,
    PONG,
    FrameReader,
    ProtocolError,
    close_frame,
    control_frame,
)
from .outbox import Outbox, OutboxOverflow, shut

log = logging.getLogger("flask_twitsocket.websocket")

#: Bytes read from a wall at a time: a flood from one client waits its turn.
READ_BYTES = 8192
#: Seconds between checks of a slow wall's outbox (its oldest byte's deadline).
DRAIN_WAKE = 1.0


class Wall:
    """One connected wall as the reader keeps it: a few slots, no thread."""

    __slots__ = ("sock", "outbox", "hub", "subscription", "peer", "frames", "expected",
                 "answered", "closed", "registered", "on_end", "ping_interval")

    def __init__(self, sock: socket.socket, outbox: Outbox, hub: Hub, peer: str,
                 limit: int, ping_interval: float) -> None:
        self.sock = sock
        self.outbox = outbox
        self.hub = hub
        self.subscription: Subscription | None = None
        self.peer = peer
        self.frames = FrameReader(limit)
        #: Our last ping's payload (None before the first) and whether it was answered.
        self.expected: bytes | None = None
        self.answered = True
        self.closed = False
        self.registered = False
        #: Called once when the wall ends (the werkzeug dev server's request waits on it).
        self.on_end: Callable[[], None] | None = None
        self.ping_interval = ping_interval


class Reactor:
    """The loop (see the module docstring); :func:`reactor` gives the process's one."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._calls: deque[Callable[[], None]] = deque()
        self._woken = False
        #: (when, tie-breaker, wall): each wall's next ping.
        self._pings: list[tuple[float, int, Wall]] = []
        self._order = itertools.count()
        #: Walls whose outbox holds bytes the socket did not take yet.
        self._pending: set[Wall] = set()
        self._next_sweep = 0.0
        self.walls = 0
        self._thread = threading.Thread(target=self._run, name="twitsocket-walls",
                                        daemon=True)
        self._thread.start()

    # --- from any thread ----------------------------------------------------------------

    def call_soon(self, call: Callable[[], None]) -> None:
        """Run ``call`` on the reader's thread at its next turn (never blocks)."""
        self._calls.append(call)
        if not self._woken:
            self._woken = True
            with contextlib.suppress(OSError):  # full: a wake-up is on its way already
                self._wake_write.send(b"\0")

    def add(self, wall: Wall) -> None:
        self.call_soon(lambda: self._register(wall))

    def wants_write(self, wall: Wall) -> None:
        """The hub left bytes in ``wall``'s outbox: finish them when the socket can."""
        self.call_soon(lambda: self._watch_writable(wall))

    def drop(self, wall: Wall) -> None:
        """Called from the hub thread when it drops ``wall``: must not block."""
        wall.outbox.close()
        shut(wall.sock)
        self.call_soon(lambda: self.close(wall))

    # --- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                self._turn()
            except Exception:  # never let one surprise stop every wall's reader
                log.exception("The wall reader failed a turn; going on")
                time.sleep(0.1)

    def _turn(self) -> None:
        for key, events in self._selector.select(self._timeout()):
            if key.data is None:
                self._woke()
            else:
                self._guarded(key.data, self._ready, events)
        while self._calls:
            call = self._calls.popleft()
            try:
                call()
            except Exception:  # a wall gone under a queued call: that call only
                log.exception("A queued call of the wall reader failed")
        self._ping_due()
        if self._pending and time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + DRAIN_WAKE
            for wall in list(self._pending):  # a stuck one is dropped once overdue
                self._guarded(wall, self._flush)

    def _timeout(self) -> float | None:
        if self._calls:
            return 0
        timeout = None
        if self._pings:
            timeout = max(0.0, self._pings[0][0] - time.monotonic())
        if self._pending:
            timeout = DRAIN_WAKE if timeout is None else min(timeout, DRAIN_WAKE)
        return timeout

    def _woke(self) -> None:
        with contextlib.suppress(OSError):
            while self._wake_read.recv(4096):
                pass
        # Only now: a caller that saw the flag still set queued its call before this, so
        # this turn runs it; one that sees it cleared sends a byte nobody drained yet.
        self._woken = False

    def _guarded(self, wall: Wall, step: Callable[..., None], *args: int) -> None:
        """One wall's step; its failure ends that wall only."""
        try:
            step(wall, *args)
        except ProtocolError as error:
            log.info("Closing a wall from %s: %s", wall.peer, error.reason)
            self.close(wall, error.code, error.reason)
        except OutboxOverflow as error:
            log.warning("Dropped a client from %s that %s", wall.peer, error)
            self.close(wall)
        except OSError as error:
            log.info("Connection to %s broke: %s", wall.peer, error)
            self.close(wall)
        except Exception:
            log.exception("Closing a wall from %s after an error", wall.peer)
            self.close(wall)

    # --- one wall -----------------------------------------------------------------------

    def _register(self, wall: Wall) -> None:
        if wall.closed:
            return
        try:
            self._selector.register(wall.sock, selectors.EVENT_READ, wall)
        except (OSError, ValueError) as error:  # gone before its turn
            log.info("Connection to %s broke: %s", wall.peer, error)
            self.close(wall)
            return
        wall.registered = True
        self.walls += 1
        self._schedule_ping(wall)
        if wall.outbox.pending_bytes or wall in self._pending:
            self._pending.discard(wall)
            self._watch_writable(wall)

    def _watch_writable(self, wall: Wall) -> None:
        if wall.closed or wall in self._pending:
            return
        self._pending.add(wall)
        if wall.registered:  # else _register watches it
            self._selector.modify(wall.sock, selectors.EVENT_READ | selectors.EVENT_WRITE,
                                  wall)

    def _flush(self, wall: Wall) -> None:
        if wall.closed:
            self._pending.discard(wall)
        elif not wall.outbox.flush():  # raises OutboxOverflow once overdue
            self._pending.discard(wall)
            self._selector.modify(wall.sock, selectors.EVENT_READ, wall)

    def _ready(self, wall: Wall, events: int) -> None:
        if events & selectors.EVENT_WRITE:
            self._flush(wall)
        if events & selectors.EVENT_READ and not wall.closed:
            self._read(wall)

    def _read(self, wall: Wall) -> None:
        try:
            data = wall.sock.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            self.close(wall)  # the browser went away without a close frame
            return
        for opcode, payload in wall.frames.feed(data):
            if opcode == PING:
                self._send(wall, control_frame(PONG, payload))
            elif opcode == PONG:
                if payload == wall.expected:  # an unsolicited pong proves nothing
                    wall.answered = True
            else:  # CLOSE: answer with its code (RFC 6455 §5.5.1), then hang up
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else NORMAL
                self.close(wall, code if 1000 <= code < 5000 else NORMAL)
                return

    def _schedule_ping(self, wall: Wall) -> None:
        heapq.heappush(self._pings, (time.monotonic() + wall.ping_interval,
                                     next(self._order), wall))

    def _ping_due(self) -> None:
        now = time.monotonic()
        while self._pings and self._pings[0][0] <= now:
            wall = heapq.heappop(self._pings)[2]
            if not wall.closed:
                self._guarded(wall, self._ping)

    def _ping(self, wall: Wall) -> None:
        if not wall.answered:
            self.close(wall, POLICY_VIOLATION, "Ping/Pong timeout")
            return
        wall.answered = False
        wall.expected = os.urandom(8)
        self._send(wall, control_frame(PING, wall.expected))
        self._schedule_ping(wall)

    def _send(self, wall: Wall, frame: bytes) -> None:
        """Our own frame, behind the hub's; what the socket did not take is drained later."""
        if wall.outbox.write(frame):
            self._watch_writable(wall)

    def close(self, wall: Wall, code: int | None = None, reason: str = "") -> None:
        """End ``wall`` (a close frame first if ``code``), forget it, unsubscribe it."""
        if wall.closed:
            return
        wall.closed = True
        if wall.subscription is not None:  # first: the hub stops writing to it
            wall.hub.unsubscribe(wall.subscription)
        if code is not None:
            with contextlib.suppress(OSError):
                wall.outbox.write(close_frame(code, reason))
        wall.outbox.close()
        self._pending.discard(wall)
        if wall.registered:
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(wall.sock)
            self.walls -= 1
        shut(wall.sock)
        with contextlib.suppress(OSError):
            wall.sock.close()
        log.info("Client from %s left (%d connected)", wall.peer, wall.hub.client_count)
        if wall.on_end is not None:
            wall.on_end()


_lock = threading.Lock()
_reactor: tuple[int, Reactor] | None = None


def reactor() -> Reactor:
    """This process's reader, started on first use (and again in a forked worker)."""
    global _reactor
    with _lock:
        if _reactor is None or _reactor[0] != os.getpid():
            _reactor = (os.getpid(), Reactor())
        return _reactor[1]
