"""``<prefix>/metrics``: Prometheus metrics, when ``TWITSOCKET_METRICS`` is on.

Where each number lives, since the stream process and the web workers are separate
processes that share only the database:

* **From the database** (the same in every worker, written by the stream process every
  few seconds, :mod:`flask_twitsocket.store.sources`): the ingest totals
  (``twitsocket_ingest_total{outcome=stored|duplicates|malformed|…}``), and per source
  its events, state, reconnects, age of the last post and cursor lag. Any worker can be
  scraped for them; they reset when the stream process restarts (a counter reset, which
  Prometheus' ``rate()`` handles).
* **From the worker that answers** (label ``pid``): walls connected, deliveries,
  dropped slow clients, and the hub's lag behind the journal (the bus hint lag). Scrape
  every worker for these (each gunicorn worker answers for itself, like ``/health``).

A registry is built per scrape from those values (no global state, nothing to reset
after a fork). ``prometheus_client`` is the ``metrics`` extra; without it the endpoint
says so (501).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, abort

from ..state import current_state
from ..store.sources import read_counters, read_status

try:
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
except ImportError:  # the optional "metrics" extra
    generate_latest = None  # type: ignore[assignment]

STATES = ("connecting", "streaming", "backing off", "stopped", "finished")


class WallCollector:
    """The metrics of one scrape (see the module's docstring for who knows what)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Any]:
        yield from self._stream()
        yield from self._sources()
        yield from self._worker()

    def _stream(self) -> Iterator[Any]:
        ingest = CounterMetricFamily("twitsocket_ingest", "Events the stream process handled "
                                     "since it started, by outcome.", labels=["outcome"])
        for outcome, value in sorted(read_counters(self.state.engine).items()):
            ingest.add_metric([outcome], value)
        yield ingest

    def _sources(self) -> Iterator[Any]:
        now = datetime.now(timezone.utc)
        events = CounterMetricFamily("twitsocket_source_events", "Events read from the "
                                     "network by each source.", labels=["source", "network"])
        state = GaugeMetricFamily("twitsocket_source_state", "1 for the state each source is "
                                  "in.", labels=["source", "state"])
        up = GaugeMetricFamily("twitsocket_source_up", "1 while the source streams.",
                               labels=["source"])
        reconnects = CounterMetricFamily("twitsocket_source_reconnects", "Transient failures "
                                         "followed by a retry.", labels=["source"])
        age = GaugeMetricFamily("twitsocket_source_last_event_age_seconds", "Seconds since "
                                "the source's last post.", labels=["source"])
        lag = GaugeMetricFamily("twitsocket_source_lag_seconds", "How far the source's "
                                "cursor is behind now (Bluesky).", labels=["source"])
        for row in read_status(self.state.engine):
            name = row["source"]
            events.add_metric([name, row["network"]], row["events"] or 0)
            for each in STATES:
                state.add_metric([name, each], 1.0 if row["state"] == each else 0.0)
            up.add_metric([name], 1.0 if row["state"] == "streaming" else 0.0)
            reconnects.add_metric([name], row["reconnects"] or 0)
            if row["last_event_at"] is not None:
                age.add_metric([name], (now - row["last_event_at"]).total_seconds())
            if row["lag_seconds"] is not None:
                lag.add_metric([name], row["lag_seconds"])
        yield from (events, state, up, reconnects, age, lag)

    def _worker(self) -> Iterator[Any]:
        hub, pid = self.state.hub, str(os.getpid())
        walls = GaugeMetricFamily("twitsocket_walls_connected", "Walls (websocket and SSE) "
                                  "this worker holds.", labels=["pid"])
        walls.add_metric([pid], hub.client_count)
        delivered = CounterMetricFamily("twitsocket_deliveries", "Messages this worker handed "
                                        "to walls.", labels=["pid"])
        delivered.add_metric([pid], hub.delivered)
        dropped = CounterMetricFamily("twitsocket_dropped_clients", "Walls this worker dropped "
                                      "for falling behind.", labels=["pid"])
        dropped.add_metric([pid], getattr(hub, "dropped_clients", 0))
        behind = GaugeMetricFamily("twitsocket_hub_lag_seconds", "Seconds the journal has "
                                   "been ahead of what this worker delivered (bus hint lag).",
                                   labels=["pid"])
        head = self.state.store.journal_head()
        behind.add_metric([pid], hub.lag_seconds(head) or 0.0)
        yield from (walls, delivered, dropped, behind)


def metrics() -> Response:
    state = current_state()
    if not state.settings["METRICS"]:
        abort(404)
    if generate_latest is None:
        return Response("TWITSOCKET_METRICS is on but prometheus_client is not installed: "
                        "pip install 'flask-twitsocket[metrics]'\n", 501,
                        mimetype="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WallCollector(state))
    response = Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
    response.cache_control.no_store = True
    return response


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/metrics", "metrics", metrics)
