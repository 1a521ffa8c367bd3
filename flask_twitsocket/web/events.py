"""``<prefix>/events``: the same live feed as the websocket, as Server-Sent Events.

Some venue proxies let plain HTTP through but not websockets (the 2010 wall shipped a
Flash socket for this; an ``EventSource`` is its modern, script-free equivalent). The
client falls back here when its websocket cannot open — or always, or never, as
``TWITSOCKET_FALLBACK`` says. Each message is the exact JSON text the websocket sends.

Like the websocket route, a connection holds one hub subscription and drains it with
bounded waits. A plain HTTP response only learns that the browser left when a write fails,
so a comment line is written at least every :data:`HEARTBEAT` seconds: a vanished wall is
unsubscribed within that time, and proxies see traffic and keep the stream open.

Each ``tweet`` message carries its post's ``seq`` as the event id, so a reconnecting
``EventSource`` (which sends ``Last-Event-ID`` by itself) — or a client passing
``?last_event_id=`` — first receives, in order, what it missed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Blueprint, Response, request

from ..hub import FULL_REASON, Refused, Subscription
from ..messages import tweet_message
from ..state import current_state
from ..store import PostStore
from .client_address import client_address
from .params import lenient_int
from .walls import requested_wall
from .websocket import opening_messages

log = logging.getLogger("flask_twitsocket.events")

#: Seconds between keep-alive comments; also the longest a vanished browser stays subscribed.
HEARTBEAT = 15.0
#: How long the browser waits before reconnecting on its own (the client also backs off).
RETRY_MS = 3000


def sse_event(message: str, event_id: str | None = None) -> str:
    """One SSE event; JSON text has no raw newlines, but a data line must never carry one."""
    lines = [f"id: {event_id}"] if event_id else []
    lines.extend(f"data: {line}" for line in message.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


def _resume_from() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("last_event_id")
    return lenient_int(raw, None)  # past any seq there is nothing to replay: clamped


def _missed(store: PostStore, since: int | None, limit: int, wall: str | None = None,
            ) -> list[str]:
    """Events for posts stored after ``since``, oldest first (a wall shows the newest)."""
    if since is None:
        return []
    return [sse_event(tweet_message(post), post["seq"])
            for post in reversed(store.recent_on(wall, limit, since_seq=since))]


def stream(subscription: Subscription, first: list[str], unsubscribe, peer: str,
           ) -> Iterator[str]:
    """Drain the subscription; the ``finally`` runs when a write to a gone browser fails
    (the server closes this generator), so the hub never keeps a dead wall."""
    try:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        yield from first
        last_write = time.monotonic()
        while not subscription.dropped:
            message = subscription.get(timeout=1.0)
            if message is not None:  # the hub read the seq once for every client
                yield sse_event(message.text, message.seq)
                last_write = time.monotonic()
            elif time.monotonic() - last_write >= HEARTBEAT:
                yield ": heartbeat\n\n"
                last_write = time.monotonic()
        # fell too far behind: end the stream, the client reconnects and catches up
    finally:
        unsubscribe(subscription)
        log.info("Event-stream client from %s left", peer)


def events() -> Response | tuple[str, int, dict[str, str]]:
    state = current_state()
    if state.settings["FALLBACK"] == "never":
        return "Server-sent events are disabled (TWITSOCKET_FALLBACK=never)", 404, {}
    hub = state.hub
    peer = client_address()
    wall = requested_wall()
    try:
        subscription = hub.join(state.settings["MAX_CLIENTS"], address=peer,
                                per_address=state.settings["MAX_CLIENTS_PER_ADDRESS"],
                                wall=wall)
    except Refused as refusal:
        log.warning("Refused an event-stream client from %s (%s; %d connected)", peer,
                    refusal, hub.client_count)
        # a full worker: 503, the balancer may try another; one address's share: 429
        status = 503 if str(refusal) == FULL_REASON else 429
        return str(refusal), status, {"Retry-After": "5"}
    log.info("New event-stream client from %s (%d connected)", peer, hub.client_count)
    try:  # subscribed first, then the catch-up: nothing falls between (the client de-dups)
        first = [sse_event(message) for message in opening_messages(state, wall)]
        first.extend(_missed(state.store, _resume_from(), state.settings["MAX_LIMIT"], wall))
    except Exception:
        hub.unsubscribe(subscription)
        raise
    response = Response(stream(subscription, first, hub.unsubscribe, peer),
                        mimetype="text/event-stream")
    # also when the browser left before the first write (a generator never started
    # never runs its ``finally``); unsubscribing twice is harmless
    response.call_on_close(lambda: hub.unsubscribe(subscription))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/events", "events", events)
