"""The Flask-Sock feed: the moderator console's socket, and the walls' fallback.

A wall's ``<prefix>/ws`` is served by :mod:`.wall_socket` (no handler held per wall);
this feed serves it only where that cannot (a server giving no raw socket, a host that
turned the pings off), and always serves the console (``moderate_ws``, which must notice
a logout). The checks that run before any upgrade (Origin, unknown wall, no compression)
and what every wall gets first (:func:`opening_messages`, :func:`text_frames`) are here.

The feed holds its connection (a thread under gunicorn's gthread worker, a greenlet under
gevent). The hub thread writes every wall's posts itself, through the wall's non-blocking
:class:`~flask_twitsocket.web.outbox.Outbox`; this handler only drains what a slow socket
left queued, notices the end of the connection, and discards what the browser sends
(walls only listen). Keep-alive pings come from simple-websocket's ``ping_interval``;
only a pong answering our own ping counts as a sign of life (see :mod:`.liveness`).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Blueprint, abort, request
from flask_sock import Sock

from ..hub import Hub, Refused, Subscription
from ..messages import count_message, pin_message
from ..state import current_state
from .client_address import client_address
from .liveness import check_pongs
from .outbox import Outbox, OutboxOverflow, OutboxSocket, shut, writable_selector
from .walls import requested_wall

log = logging.getLogger("flask_twitsocket.websocket")


#: Seconds a dropped client's handler gets to close politely before its socket is shut
#: (only without an outbox: see :func:`_queued_feed`).
STUCK_GRACE = 5.0

_sock = Sock()


def origin_allowed(allowed: tuple[str, ...]) -> bool:
    """Refuse cross-site websocket hijacking: a browser's Origin must be this site."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (curl, a test client, a monitoring probe)
    if origin in allowed or "*" in allowed:
        return True
    return urlsplit(origin).netloc == request.host


def hang_up(ws, code: int, reason: str) -> None:
    """Send a close frame, then end the TCP connection ourselves (RFC 6455: the server
    closes first); otherwise simple-websocket's reader thread notices only at its next
    ping, and the browser waits that long to learn it should retry."""
    ws.close(reason=code, message=reason)
    with contextlib.suppress(OSError):
        ws.sock.shutdown(socket.SHUT_RDWR)


#: Seconds between an idle handler's checks for a drop, with the hub thread sending.
IDLE_WAKE = 5.0
#: Seconds between a stuck wall's handler's checks while it waits for its socket.
DRAIN_WAKE = 1.0


def text_frame(message: str) -> bytes:
    """A server's text frame for ``message`` (RFC 6455 §5.2: FIN, unmasked, one frame)."""
    payload = message.encode()
    size = len(payload)
    if size < 126:
        header = bytes((0x81, size))
    elif size < 1 << 16:
        header = bytes((0x81, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 127)) + size.to_bytes(8, "big")
    return header + payload


@lru_cache(maxsize=4)
def text_frames(messages: tuple[str, ...]) -> bytes:
    """The frames of several messages, back to back: one write sends them all.

    With no extension negotiated (see :func:`decline_compression`) the frames are the same
    bytes for every client. Cached on the tuple, which the hub hands to every client, so
    they are built once per batch, not once per socket."""
    return b"".join(map(text_frame, messages))


def opening_messages(state, wall: str | None = None) -> list[str]:
    """What every new wall gets first, on any transport: the count and the current pins
    (shared by the walls that connect between two broadcasts: see ``Hub.snapshot``);
    with ``wall``, that wall's count and pins (every wall's and its own) on a site with
    several."""
    store = state.store
    if wall is None or store.router is None:
        return state.hub.snapshot(lambda: [
            count_message(store.count()),
            *(pin_message(post) for post in store.pinned_posts())])
    return state.hub.snapshot(lambda: [
        count_message(store.count_on(wall)),
        *(pin_message(post) for post in store.pinned_posts(wall))], wall)


def feed(ws, moderator: bool = False,
         still_allowed: Callable[[], bool] | None = None) -> None:
    """A wall's live feed; with ``moderator`` (the console's socket, whose route checked
    the moderator first) moderator-only messages too. ``still_allowed`` is asked again at
    every idle wake-up (at most every ``IDLE_WAKE`` seconds): once it says no (the
    moderator logged out, everywhere), the socket is closed with 1008."""
    state = current_state()
    settings = state.settings
    hub = state.hub
    peer = client_address()
    wall = None if moderator else requested_wall()  # a console follows every wall
    outbox = None
    if ws.ping_interval:  # else simple-websocket's reader blocks in recv: no outbox
        outbox = Outbox(ws.sock, settings["WALL_BUFFER_BYTES"], settings["WALL_SEND_TIMEOUT"])
    try:
        subscription = hub.join(settings["MAX_CLIENTS"], moderator=moderator, address=peer,
                                per_address=settings["MAX_CLIENTS_PER_ADDRESS"],
                                sink=outbox and _sink(outbox, ws.event.set), wall=wall)
    except Refused as refusal:
        log.warning("Refused a client from %s (%s; %d connected)", peer, refusal,
                    hub.client_count)
        hang_up(ws, 1013, str(refusal))  # a few bytes: a fresh socket takes them at once
        return
    log.info("New client from %s (%d connected)", peer, hub.client_count)
    try:
        if outbox is None:
            _queued_feed(ws, hub, subscription, state, still_allowed)
        else:
            _direct_feed(ws, outbox, subscription, state, peer, still_allowed)
    except OSError as error:  # the socket was shut down under a stuck send, or reset
        log.info("Connection to %s broke: %s", peer, error)
    finally:
        hub.unsubscribe(subscription)
        log.info("Client from %s left (%d connected)", peer, hub.client_count)


def _sink(outbox: Outbox, wake: Callable[[], None]) -> Callable[[tuple[str, ...]], None]:
    """What the hub thread calls to write a batch to this wall: never blocks. One thread
    writing to every socket beats waking a thread per client (measured at 1,000 walls,
    ~5 µs per delivery instead of ~250 µs); the handler is woken only when the socket
    could not take everything at once."""

    def sink(messages: tuple[str, ...]) -> None:
        if outbox.write(text_frames(messages)):
            wake()

    return sink


def _direct_feed(ws, outbox: Outbox, subscription: Subscription, state, peer: str,
                 still_allowed: Callable[[], bool] | None) -> None:
    """The hub writes; this handler sends the opening messages, drains what a slow socket
    left queued, and notices the end of the connection or a drop."""
    sock = ws.sock
    ws.sock = OutboxSocket(sock, outbox)  # pings and pongs queue behind our frames
    check_pongs(ws)
    with contextlib.suppress(OSError):  # a post must not wait for the previous one's ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def drop() -> None:  # from the hub thread: must not block
        outbox.close()
        shut(sock)
        ws.event.set()

    subscription.on_drop = drop
    outbox.release(b"".join(map(text_frame, opening_messages(state, subscription.wall))))
    selector = None
    try:
        while ws.connected and not subscription.dropped:
            if outbox.pending_bytes:
                selector = selector or writable_selector(sock)
                outbox.drain(selector, DRAIN_WAKE)
            else:
                # Rare wake-ups: 5,000 idle threads waking every second cost the hub thread
                # a real share of the GIL. simple-websocket wakes this at once when the
                # connection ends, the sink when the socket could not take a batch.
                ws.event.wait(IDLE_WAKE)
                ws.event.clear()
                if _revoked(ws, still_allowed):
                    break
            while ws.connected and ws.receive(timeout=0) is not None:
                pass  # walls only listen: what they send is discarded
    except OutboxOverflow as error:
        log.warning("Dropped a client from %s that %s", peer, error)
        drop()
    finally:
        if selector is not None:
            selector.close()


def _queued_feed(ws, hub: Hub, subscription: Subscription, state,
                 still_allowed: Callable[[], bool] | None) -> None:
    """Without keep-alive pings (a host's own ``SOCK_SERVER_OPTIONS``) simple-websocket's
    reader blocks in ``recv`` on the socket, which therefore cannot be non-blocking: this
    handler drains a queue and sends itself."""
    finished = threading.Event()
    subscription.on_drop = lambda: _abort_if_stuck(ws, finished)
    try:
        for message in opening_messages(state, subscription.wall):
            ws.send(message)
        while ws.connected:
            message = subscription.get(timeout=1.0)
            if subscription.dropped:
                hang_up(ws, 1013, "too far behind; reconnect and catch up")
                break
            if message is not None:
                ws.send(message.text)
            elif _revoked(ws, still_allowed):
                break
            while ws.connected and ws.receive(timeout=0) is not None:
                pass  # walls only listen
    finally:
        finished.set()


def _revoked(ws, still_allowed: Callable[[], bool] | None) -> bool:
    """Whether the connection lost its right to the feed; if so, tell the browser (1008)."""
    if still_allowed is None or still_allowed():
        return False
    hang_up(ws, 1008, "logged out")
    return True


def _abort_if_stuck(ws, finished: threading.Event) -> None:
    """A dropped client gets ``STUCK_GRACE`` seconds to be closed politely (1013) by its
    handler; a handler still blocked in ``send`` to a phone that stopped reading by then
    is freed by shutting the socket down, so a thread is never held by a dead wall."""

    def abort() -> None:
        if not finished.is_set():
            with contextlib.suppress(OSError):
                ws.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(STUCK_GRACE, abort)
    timer.daemon = True
    timer.start()


def register(blueprint: Blueprint) -> None:
    @blueprint.before_request
    def _check_origin() -> None:
        if request.endpoint == "twitsocket.ws" and not origin_allowed(
            current_state().settings["ALLOWED_ORIGINS"]
        ):
            abort(403)
        if request.endpoint == "twitsocket.ws":
            requested_wall()  # an unknown wall: 404 before the upgrade

    @blueprint.before_request
    def _no_compression() -> None:
        if request.endpoint in ("twitsocket.ws", "twitsocket.moderate_ws"):
            decline_compression(request.environ)

    # The route itself: web/wall_socket.py (this feed is its fallback).


def decline_compression(environ: dict) -> None:
    """Refuse permessage-deflate, which every browser offers and simple-websocket accepts.

    A post is compressed once per client with that client's own zlib context: measured
    at 1,000 walls it tripled the memory per connection and doubled the CPU per delivery,
    to save bandwidth on ~1 KB messages. simple-websocket rebuilds the handshake from the
    environ's ``HTTP_*`` keys, so without the offer there it answers without the extension.
    """
    environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
