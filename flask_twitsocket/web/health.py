"""``<prefix>/health``: what a load balancer (or an operator) probes on each web worker.

It answers for the worker process that served it: whether its hub's bus is connected,
whether the database answers, how many walls it holds, and how old the newest post is.
The status is 503 when this worker cannot deliver — bus or database down — so the balancer
stops sending new phones here; a quiet wall (an old last post) is reported, not failed,
because a keynote break is not an outage.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..extension import TwitSocket
from ..models import Post

#: How long a probe waits for a worker's first bus connection attempt (after start-up).
FIRST_CONNECT_WAIT = 2.0


def _bus_status(hub: Any) -> dict[str, Any]:
    hub.start()  # a worker with no wall open yet must still report its bus
    deadline = time.monotonic() + FIRST_CONNECT_WAIT
    while time.monotonic() < deadline and (
            hub.bus is None or not (hub.bus.connected or getattr(hub.bus, "tried", True))):
        time.sleep(0.05)
    bus = hub.bus
    return {"name": bus.name if bus else "starting", "connected": bool(bus and bus.connected)}


def _database_status(state: Any) -> dict[str, Any]:
    try:
        with state.engine.connect() as conn:
            newest = conn.execute(select(func.max(Post.__table__.c.stored_at))).scalar()
        head = state.store.journal_head()
    except SQLAlchemyError as error:
        return {"connected": False, "error": type(error).__name__}
    age = None
    if newest is not None:
        if newest.tzinfo is None:  # SQLite keeps no zone; the store writes UTC
            newest = newest.replace(tzinfo=timezone.utc)
        age = max(0.0, round((datetime.now(timezone.utc) - newest).total_seconds(), 1))
    return {"connected": True, "journal_id": head, "last_post_age": age}


def health() -> tuple[Response, int]:
    state = TwitSocket.state()
    hub = state.hub
    bus = _bus_status(hub)
    database = _database_status(state)
    healthy = bus["connected"] and database["connected"]
    body = {
        "status": "ok" if healthy else "unavailable",
        "pid": os.getpid(),
        "bus": bus,
        "database": database,
        "last_post_age": database.get("last_post_age"),
        "clients": hub.client_count,
        "max_clients": state.settings["MAX_CLIENTS"],
        "delivered_id": hub.last_id,
    }
    response = jsonify(body)
    response.cache_control.no_store = True
    return response, 200 if healthy else 503


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/health", "health", health)
