"""``<prefix>/health`` (readiness) and ``<prefix>/health/live`` (liveness): what a load
balancer, systemd or an operator probes on each web worker.

``/health/live`` is 200 whenever the worker answers at all: restart a worker only when
that fails. ``/health`` answers for the worker process that served it: whether the
database answers, whether its hub delivers (how far the journal is ahead of what the hub
delivered, and for how long), whether its bus is connected, how many walls it holds and
how old the newest post is. It is 503 when this worker cannot serve walls — the database
unreachable, or the hub stalled (the journal ahead of it for ``HUB_STALL_TIMEOUT``) — so
the balancer sends new phones elsewhere. A bus outage alone is reported, not failed: the
hub then reads the journal every few seconds and every post still arrives, and failing
every worker at once (they share the bus) would take the whole wall down. A quiet wall (an
old last post) is reported, not failed either: a keynote break is not an outage.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..models import Post
from ..state import current_state

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


def _hub_status(hub: Any, database: dict[str, Any], bound: float) -> dict[str, Any]:
    """How far behind the journal this worker's hub is; stalled past ``bound`` seconds."""
    head = database.get("journal_id")
    lag = hub.lag_seconds(head) if head is not None else None
    behind = max(0, head - hub.last_id) if head is not None and hub.last_id is not None \
        else None
    return {"delivered_id": hub.last_id, "journal_id": head, "behind": behind,
            "lag_seconds": None if lag is None else round(lag, 1),
            "stalled": lag is not None and lag > bound}


def health() -> tuple[Response, int]:
    state = current_state()
    hub = state.hub
    bus = _bus_status(hub)
    database = _database_status(state)
    hub_status = _hub_status(hub, database, state.settings["HUB_STALL_TIMEOUT"])
    ready = database["connected"] and not hub_status["stalled"]
    body = {
        "status": "ok" if ready else "unavailable",
        "pid": os.getpid(),
        "bus": bus,
        "database": database,
        "hub": hub_status,
        "last_post_age": database.get("last_post_age"),
        "clients": hub.client_count,
        "max_clients": state.settings["MAX_CLIENTS"],
        "delivered_id": hub.last_id,
    }
    response = jsonify(body)
    response.cache_control.no_store = True
    return response, 200 if ready else 503


def live() -> Response:
    """200 while the worker answers: it checks nothing else, on purpose (a database or
    broker outage is not cured by restarting web workers)."""
    response = jsonify({"status": "ok", "pid": os.getpid()})
    response.cache_control.no_store = True
    return response


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/health", "health", health)
    blueprint.add_url_rule("/health/live", "health_live", live)
