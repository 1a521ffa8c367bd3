"""``<prefix>/ws`` without a handler held per wall: our own upgrade, then the worker's reader.

The route checks the upgrade (RFC 6455; the Origin and unknown-wall checks ran before it,
in :func:`.websocket.register`), writes the ``101`` itself, takes the connection's socket
from the server, subscribes the wall to the hub (the caps refuse with 1013, as before),
hands the socket to the worker's one reader (:mod:`.wall_reactor`), sends the opening
messages through the wall's outbox and returns: under gunicorn (gevent or gthread) no
greenlet or thread stays behind, so an idle wall is a socket, its outbox and a few slots.

Ending the request without the server writing a response is each server's own matter:
gunicorn gives up a connection whose response raises ``StopIteration`` (and closes its
socket object, detached from the descriptor, which is now ours); the werkzeug dev server
would read the socket dry and answer on it, so its request thread waits for the wall to
end and then reports the connection gone. A server that gives no raw socket, or a host
that turned the pings off (``SOCK_SERVER_OPTIONS``), gets the Flask-Sock route as before.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request

from ..hub import Refused
from ..state import current_state
from .client_address import client_address
from .frames import INTERNAL_ERROR, TRY_AGAIN, accept_key, close_frame
from .outbox import Outbox, shut
from .wall_reactor import Wall, reactor
from .walls import requested_wall
from .websocket import _sink, _sock, feed, opening_messages, text_frame

log = logging.getLogger("flask_twitsocket.websocket")

#: The frame size limit when the host's ``SOCK_SERVER_OPTIONS`` names none.
MAX_MESSAGE_SIZE = 4096


class _GunicornDone(Response):
    """gunicorn closes a connection whose response raises StopIteration, writing nothing."""

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        raise StopIteration()


class _WerkzeugDone(Response):
    """The werkzeug dev server writes nothing on a connection reported dropped."""

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        raise ConnectionAbortedError("the websocket ended")


def register(blueprint: Blueprint) -> None:
    fallback = _flask_sock_view()
    blueprint.add_url_rule("/ws", endpoint="ws", view_func=lambda: serve(fallback),
                           websocket=True)


def _flask_sock_view() -> Callable[[], Any]:
    """``feed`` wrapped by Flask-Sock, as the route was, without registering it."""

    class Capture:
        view: Callable[[], Any]

        def route(self, _path: str, **_options: Any) -> Callable:
            def keep(view: Callable[[], Any]) -> Callable[[], Any]:
                self.view = view
                return view
            return keep

    capture = Capture()
    _sock.route("/ws", bp=capture)(feed)
    return capture.view


def serve(fallback: Callable[[], Any]) -> Any:
    environ = request.environ
    options = current_app.config.get("SOCK_SERVER_OPTIONS") or {}
    server = next((name for name in ("gunicorn", "werkzeug") if f"{name}.socket" in environ),
                  None)
    if server is None or not options.get("ping_interval"):
        return fallback()
    accept = _check_upgrade(environ)
    if isinstance(accept, Response):
        return accept
    handshake = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept)
    sock = _take_socket(environ, server)
    ended = threading.Event() if server == "werkzeug" else None
    try:
        handed = _connect(sock, handshake, options, ended)
    except Exception:  # before the handshake was sent (_connect guards what follows it)
        log.exception("Could not open a wall for %s", client_address())
        _refuse(sock, handshake + close_frame(INTERNAL_ERROR, "server error; try again"))
        handed = False
    if handed and ended is not None:
        ended.wait()
    return _done(server)


def _check_upgrade(environ: dict) -> bytes | Response:
    """The ``Sec-WebSocket-Accept`` value, or the error response (RFC 6455 §4.2.1)."""
    connection = {token.strip().lower() for token in environ.get("HTTP_CONNECTION", "").split(",")}
    if environ["REQUEST_METHOD"] != "GET" or "upgrade" not in connection \
            or environ.get("HTTP_UPGRADE", "").lower() != "websocket":
        return Response("Not a websocket handshake.\n", 400, mimetype="text/plain")
    if environ.get("HTTP_SEC_WEBSOCKET_VERSION", "").strip() != "13":
        return Response("Unsupported websocket version.\n", 426, mimetype="text/plain",
                        headers={"Sec-WebSocket-Version": "13"})
    accept = accept_key(environ.get("HTTP_SEC_WEBSOCKET_KEY", ""))
    if accept is None:
        return Response("Bad Sec-WebSocket-Key.\n", 400, mimetype="text/plain")
    return accept.encode("ascii")


def _take_socket(environ: dict, server: str) -> socket.socket:
    """Our own socket object for the connection (non-blocking, no Nagle delay).

    gunicorn's is detached (its object closes nothing, so gthread's graceful close cannot
    shut our connection down); the dev server's is duplicated (its thread still uses it
    until the wall ends)."""
    if server == "werkzeug":
        sock = environ["werkzeug.socket"].dup()
    else:
        theirs = environ["gunicorn.socket"]
        sock = socket.socket(theirs.family, theirs.type, theirs.proto, fileno=theirs.detach())
    sock.settimeout(0)
    with contextlib.suppress(OSError):  # a post must not wait for the previous one's ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _connect(sock: socket.socket, handshake: bytes, options: dict,
             ended: threading.Event | None) -> bool:
    """Subscribe the wall and hand it to the reader (True; ``ended`` is set when the wall
    ends), or refuse it (1013) when full. The handshake and the opening messages go in one
    write: a system call per wall fewer while thousands reconnect at once."""
    state = current_state()
    settings = state.settings
    hub = state.hub
    peer = client_address()
    slug = requested_wall()
    outbox = Outbox(sock, settings["WALL_BUFFER_BYTES"], settings["WALL_SEND_TIMEOUT"])
    wall = Wall(sock, outbox, hub, peer, options.get("max_message_size") or MAX_MESSAGE_SIZE,
                options["ping_interval"])
    loop = reactor()
    try:
        wall.subscription = hub.join(
            settings["MAX_CLIENTS"], address=peer, wall=slug,
            per_address=settings["MAX_CLIENTS_PER_ADDRESS"],
            sink=_sink(outbox, lambda: loop.wants_write(wall)))
    except Refused as refusal:
        log.warning("Refused a client from %s (%s; %d connected)", peer, refusal,
                    hub.client_count)
        _refuse(sock, handshake + close_frame(TRY_AGAIN, str(refusal)))
        return False
    log.info("New client from %s (%d connected)", peer, hub.client_count)
    wall.subscription.on_drop = lambda: loop.drop(wall)
    if ended is not None:
        wall.on_end = ended.set
    loop.add(wall)
    failed = False
    try:
        opening = b"".join(map(text_frame, opening_messages(state, slug)))
    except Exception:  # the database, say: the browser retries (1011)
        log.exception("Could not send the opening messages to %s", peer)
        opening, failed = close_frame(INTERNAL_ERROR, "server error; try again"), True
    try:
        outbox.release(handshake + opening)
    except OSError as error:
        log.info("Connection to %s broke: %s", peer, error)
        failed = True
    if failed:
        loop.call_soon(lambda: loop.close(wall))
    return True


def _refuse(sock: socket.socket, farewell: bytes) -> None:
    """Answer a wall the reader never saw (the handshake and a close frame), hang up."""
    with contextlib.suppress(OSError):  # a few bytes: a fresh socket takes them at once
        sock.send(farewell)
    shut(sock)
    sock.close()


def _done(server: str) -> Response:
    return _GunicornDone() if server == "gunicorn" else _WerkzeugDone()
