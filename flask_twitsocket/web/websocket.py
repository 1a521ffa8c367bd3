"""The websocket route, ``<prefix>/ws``: a wall's live feed.

The route holds its connection (a thread under gunicorn's gthread worker) and drains its
hub subscription; per flask-sock#78 it loops on short timeouts so a vanished browser is
noticed, and keep-alive pings come from simple-websocket's ``ping_interval``. Browsers
only listen: whatever they send is read and discarded.
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

from ..extension import TwitSocket
from ..moderation import pin_message, pinned_posts
from ..serialise import count_message

log = logging.getLogger("flask_twitsocket.websocket")


#: The close reason a refused browser gets; it retries with back-off (maybe another worker).
FULL_REASON = "server full; try again shortly"
#: Seconds a dropped client's handler gets to close politely before its socket is shut.
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
#: Seconds the hub thread waits on one wall whose socket buffer is full (a phone that
#: stopped reading, after the kernel buffered hundreds of posts) before dropping it.
SEND_TIMEOUT = 0.5


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


def direct_sink(ws, write_lock: threading.Lock,
                ) -> Callable[[tuple[str, ...]], None] | None:
    """What the hub thread calls to write messages straight to this socket.

    None (fall back to this handler thread draining a queue) when simple-websocket has no
    ping interval: its reader thread then blocks in ``recv`` and would take the send
    timeout on the shared socket for a dead connection."""
    if not ws.ping_interval:
        return None
    sock = ws.sock
    sock.settimeout(SEND_TIMEOUT)
    with contextlib.suppress(OSError):  # a post must not wait for the previous one's ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def sink(messages: tuple[str, ...]) -> None:
        data = text_frames(messages)
        with write_lock:
            # One send() nearly always takes it all; sendall (gevent's asks the buffer
            # size every call: 15% of the hub's time) only finishes a partial write.
            sent = sock.send(data)
            if sent < len(data):
                sock.sendall(memoryview(data)[sent:])

    return sink


def opening_messages(state) -> list[str]:
    """What every new wall gets first, on any transport: the count and the current pins
    (shared by the walls that connect between two broadcasts: see ``Hub.snapshot``)."""
    store = state.store
    return state.hub.snapshot(lambda: [count_message(store.count()),
                                       *(pin_message(post) for post in pinned_posts(store))])


def feed(ws, moderator: bool = False) -> None:
    """A wall's live feed; with ``moderator`` (the console's socket, whose route checked
    the moderator first) moderator-only messages too."""
    state = TwitSocket.state()
    hub = state.hub
    peer = request.headers.get("X-Forwarded-For", request.remote_addr)
    write_lock = threading.Lock()
    sink = direct_sink(ws, write_lock)
    subscription = hub.subscribe_within(state.settings["MAX_CLIENTS"], sink=sink,
                                        moderator=moderator)
    if subscription is None:
        log.warning("Refused a client from %s: %d connected is the cap", peer,
                    hub.client_count)
        hang_up(ws, 1013, FULL_REASON)
        return
    log.info("New client from %s (%d connected)", peer, hub.client_count)
    finished = threading.Event()
    subscription.on_drop = lambda: _abort_if_stuck(ws, finished)
    try:
        with write_lock:
            for message in opening_messages(state):
                ws.send(message)
        while sink is not None and ws.connected and not subscription.dropped:
            # The hub thread sends; this thread only notices the end of the connection
            # (simple-websocket wakes it at once) or a drop. Rare wake-ups: 5,000 idle
            # threads waking every second cost the hub thread a real share of the GIL.
            ws.receive(timeout=IDLE_WAKE)  # walls only listen: what they send is discarded
        while ws.connected:
            message = subscription.get(timeout=1.0)
            if subscription.dropped:
                hang_up(ws, 1013, "too far behind; reconnect and catch up")
                break
            if message is not None:
                ws.send(message)
            while ws.connected and ws.receive(timeout=0) is not None:
                pass  # walls only listen
    except OSError as error:  # the socket was shut down under a stuck send, or reset
        log.info("Connection to %s broke: %s", peer, error)
    finally:
        finished.set()
        hub.unsubscribe(subscription)
        log.info("Client from %s left (%d connected)", peer, hub.client_count)


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
            TwitSocket.state().settings["ALLOWED_ORIGINS"]
        ):
            abort(403)

    @blueprint.before_request
    def _no_compression() -> None:
        if request.endpoint in ("twitsocket.ws", "twitsocket.moderate_ws"):
            decline_compression(request.environ)

    _sock.route("/ws", bp=blueprint, endpoint="ws")(feed)


def decline_compression(environ: dict) -> None:
    """Refuse permessage-deflate, which every browser offers and simple-websocket accepts.

    A post is compressed once per client with that client's own zlib context: measured
    at 1,000 walls it tripled the memory per connection and doubled the CPU per delivery,
    to save bandwidth on ~1 KB messages. simple-websocket rebuilds the handshake from the
    environ's ``HTTP_*`` keys, so without the offer there it answers without the extension.
    """
    environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
