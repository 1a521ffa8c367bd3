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

``sources`` lists what the stream process last saved about each source (state, last
post, last error, reconnects, cursor/lag; :mod:`flask_twitsocket.store.sources`). A source
``stopped`` (refused for good, or its stream process stopped), or silent longer than
``TWITSOCKET_SOURCE_SILENT_AFTER``, or a stream process that stopped saving its status for
as long, makes the status ``degraded`` (a replay that reached its end is ``finished``,
which is not) — still 200, because every worker shares the sources and failing them all
would take the wall down; ``TWITSOCKET_HEALTH_FAIL_ON_DEGRADED`` turns it into a 503 for
those who alert on it.
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
from ..store.sources import read_status

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


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, round((now - moment).total_seconds(), 1))


def source_health(engine: Any, silent_after: float) -> list[dict[str, Any]]:
    """Each source's saved status, with ages, and whether it is ``silent`` (no post for
    ``silent_after`` seconds while running, or its stream process quiet that long)."""
    now = datetime.now(timezone.utc)
    sources = []
    for row in read_status(engine):
        event_age = _age(row["last_event_at"], now)
        quiet_for = event_age if event_age is not None else _age(row["started_at"], now)
        report_age = _age(row["updated_at"], now) or 0.0
        sources.append({
            "name": row["source"], "network": row["network"], "state": row["state"],
            "last_event_at": _iso(row["last_event_at"]), "last_event_age": event_age,
            "last_error": row["last_error"], "last_error_at": _iso(row["last_error_at"]),
            "reconnects": row["reconnects"], "events": row["events"],
            "cursor": row["cursor"], "lag_seconds": row["lag_seconds"],
            "reported_age": report_age, "pid": row["pid"],
            "silent": row["state"] not in ("stopped", "finished") and (
                (quiet_for or 0.0) > silent_after or report_age > silent_after),
        })
    return sources


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def degraded(sources: list[dict[str, Any]]) -> bool:
    return any(source["state"] == "stopped" or source["silent"] for source in sources)


def health() -> tuple[Response, int]:
    state = current_state()
    hub = state.hub
    bus = _bus_status(hub)
    database = _database_status(state)
    hub_status = _hub_status(hub, database, state.settings["HUB_STALL_TIMEOUT"])
    ready = database["connected"] and not hub_status["stalled"]
    settings = state.settings
    sources = source_health(state.engine, settings["SOURCE_SILENT_AFTER"]) \
        if database["connected"] else []
    status = "ok" if not degraded(sources) else "degraded"
    if settings["HEALTH_FAIL_ON_DEGRADED"] and status == "degraded":
        ready = False
    body = {
        "status": status if database["connected"] and not hub_status["stalled"]
        else "unavailable",
        "pid": os.getpid(),
        "bus": bus,
        "database": database,
        "hub": hub_status,
        "last_post_age": database.get("last_post_age"),
        "clients": hub.client_count,
        "max_clients": state.settings["MAX_CLIENTS"],
        "delivered_id": hub.last_id,
        "sources": sources,
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
