"""A websocket wall's outbox: every byte written to one socket goes through it, never blocking.

The hub thread writes each batch to every wall in turn. A blocking send to a phone that
stopped reading (venue Wi-Fi gone, the connection never closed) held the hub for its
timeout, so twenty such phones delayed every other wall by seconds. Here a write sends
what the kernel takes at once (``send`` on a non-blocking socket, nearly always all of
it) and keeps the rest in a small per-wall queue; the wall's own connection handler
waits for the socket to drain it. A wall whose queue grows beyond ``limit_bytes``, or
whose oldest queued byte has waited ``timeout`` seconds, is dropped: its browser
reconnects and catches up through the JSON API.

simple-websocket writes to the same socket from its reader thread (keep-alive pings,
pong replies, the close frame). :class:`OutboxSocket` stands in for the socket, so those
frames queue behind ours instead of landing in the middle of a partly written frame.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from typing import Any


class OutboxOverflow(OSError):
    """The wall cannot take its share: dropped (an OSError, as a broken socket is)."""


class Outbox:
    """Bytes for one socket, sent in order, the unsent rest queued (see module docstring)."""

    # Slots, and a list rather than a deque (632 bytes even when empty): one per open wall,
    # and an idle wall's whole footprint is a few KiB.
    __slots__ = ("_sock", "limit_bytes", "timeout", "_lock", "_pending", "_pending_bytes",
                 "_held", "closed")

    def __init__(self, sock: socket.socket, limit_bytes: int, timeout: float) -> None:
        self._sock = sock
        self.limit_bytes = limit_bytes
        self.timeout = timeout
        self._lock = threading.Lock()
        #: (unsent bytes, when they were queued), oldest first.
        self._pending: list[tuple[memoryview, float]] = []
        self._pending_bytes = 0
        #: Held while the wall's opening messages are prepared: the hub's writes queue up
        #: behind them (see :meth:`release`).
        self._held = True
        self.closed = False
        sock.settimeout(0)  # non-blocking: a full buffer answers at once, never waits

    # --- writing (any thread) -----------------------------------------------------------

    def write(self, data: bytes | memoryview) -> bool:
        """Send ``data`` after what is queued; True when some of it had to be queued.

        Raises OSError when the connection is gone, and :class:`OutboxOverflow` when the
        wall is too far behind (the caller drops it)."""
        with self._lock:
            if self.closed:
                raise BrokenPipeError("the wall was dropped")
            view = memoryview(data)
            if not self._pending and not self._held:
                sent = self._send(view)
                if sent == len(view):
                    return False
                view = view[sent:]
            self._pending.append((view, time.monotonic()))
            self._pending_bytes += len(view)
            self._check_bounds()
        return True

    def release(self, first: bytes) -> None:
        """Send ``first`` (the wall's opening messages), then what queued while held."""
        with self._lock:
            self._held = False
            if first:
                self._pending.insert(0, (memoryview(first), time.monotonic()))
                self._pending_bytes += len(first)
            self._flush_locked()

    def close(self) -> None:
        """Stop writing (the wall is dropped or gone); queued bytes are discarded."""
        with self._lock:
            self.closed = True
            self._pending.clear()
            self._pending_bytes = 0

    # --- draining (the wall's own handler) ----------------------------------------------

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    def flush(self) -> int:
        """Send what the socket takes now; returns the bytes still queued."""
        with self._lock:
            if self.closed:
                raise BrokenPipeError("the wall was dropped")
            self._flush_locked()
            self._check_bounds()
            return self._pending_bytes

    def drain(self, selector: selectors.BaseSelector, wait: float) -> int:
        """Wait up to ``wait`` seconds (less if the oldest queued byte is due sooner) for
        the socket to take more, then flush. Raises OutboxOverflow once overdue."""
        with self._lock:
            oldest = self._pending[0][1] if self._pending else None
        if oldest is not None:
            remaining = oldest + self.timeout - time.monotonic()
            selector.select(max(0.0, min(wait, remaining)))
        return self.flush()

    # --- internals (lock held) ----------------------------------------------------------

    def _send(self, view: memoryview) -> int:
        try:
            return self._sock.send(view)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return 0

    def _flush_locked(self) -> None:
        while self._pending:
            view, queued = self._pending[0]
            sent = self._send(view)
            self._pending_bytes -= sent
            if sent < len(view):
                self._pending[0] = (view[sent:], queued)
                return
            del self._pending[0]  # a short list: a few batches at most

    def _check_bounds(self) -> None:
        if self._pending_bytes > self.limit_bytes:
            raise OutboxOverflow(f"{self._pending_bytes} bytes waiting, over the "
                                 f"{self.limit_bytes}-byte cap")
        if self._pending and time.monotonic() - self._pending[0][1] > self.timeout:
            raise OutboxOverflow(f"took nothing for {self.timeout:g} s")


class OutboxSocket:
    """The socket as simple-websocket sees it once the wall has an outbox: its writes (pings,
    pong replies, the close frame) join the outbox's queue; everything else (``recv``,
    ``fileno``, ``close``…) is the real socket's."""

    def __init__(self, sock: socket.socket, outbox: Outbox) -> None:
        self._sock = sock
        self._outbox = outbox

    def send(self, data: bytes) -> int:
        self._outbox.write(data)
        return len(data)

    def sendall(self, data: bytes) -> None:
        self._outbox.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def writable_selector(sock: socket.socket) -> selectors.BaseSelector:
    """A selector that wakes when ``sock`` can take more bytes (or is broken)."""
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_WRITE)
    return selector


def shut(sock: socket.socket) -> None:
    """End the TCP connection now (from any thread): simple-websocket's reader wakes and
    gives up, so the wall's handler ends too."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
