"""The websocket route, ``<prefix>/ws``: a wall's live feed.

The route holds its connection (a thread under gunicorn's gthread worker) and drains its
hub subscription; per flask-sock#78 it loops on short timeouts so a vanished browser is
noticed, and keep-alive pings come from simple-websocket's ``ping_interval``. Browsers
only listen: whatever they send is read and discarded.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, abort, request
from flask_sock import Sock

from ..extension import TwitSocket
from ..serialise import count_message

log = logging.getLogger("flask_twitsocket.websocket")

_sock = Sock()


def origin_allowed(allowed: tuple[str, ...]) -> bool:
    """Refuse cross-site websocket hijacking: a browser's Origin must be this site."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser (curl, a test client, a monitoring probe)
    if origin in allowed or "*" in allowed:
        return True
    return urlsplit(origin).netloc == request.host


def feed(ws) -> None:
    state = TwitSocket.state()
    hub = state.hub
    subscription = hub.subscribe()
    peer = request.headers.get("X-Forwarded-For", request.remote_addr)
    log.info("New client from %s (%d connected)", peer, hub.client_count)
    try:
        ws.send(count_message(state.store.count()))
        while ws.connected:
            message = subscription.get(timeout=1.0)
            if subscription.dropped:
                ws.close(reason=1013, message="too far behind; reconnect and catch up")
                break
            if message is not None:
                ws.send(message)
            while ws.connected and ws.receive(timeout=0) is not None:
                pass  # walls only listen
    finally:
        hub.unsubscribe(subscription)
        log.info("Client from %s left (%d connected)", peer, hub.client_count)


def register(blueprint: Blueprint) -> None:
    @blueprint.before_request
    def _check_origin() -> None:
        if request.endpoint == "twitsocket.ws" and not origin_allowed(
            TwitSocket.state().settings["ALLOWED_ORIGINS"]
        ):
            abort(403)

    _sock.route("/ws", bp=blueprint, endpoint="ws")(feed)
