"""Fan-out by wall: the hub's cost per delivery (journal read included) with 1,000 clients
on ONE wall, against 1,000 clients spread over 10 walls (100 each), 5 posts/s per wall.

Real parts in one process: the app on SQLite, posts through the production pipeline
(``build_ingestor``: normalise, route, store, journal by wall), and the real
:class:`~flask_twitsocket.hub.Hub` handing each journal run to its subscribers' sinks,
which build the websocket frames as :mod:`flask_twitsocket.web.websocket` does (once per
batch, cached on the tuple) and count the bytes. No socket: what is measured is the hub's
own work per delivery (choosing the subscribers, handing the batch over, building frames),
the part several walls could make dearer. One reading pass (``Hub._deliver_new``) is timed
per second of traffic, each post stored in its own batch as at a live pace.

``python -m benchmarks.bench_walls --clients 1000 --walls 10 --rate 5 --seconds 20``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import make_app, say, write_result


def x_event(post_id: int, text: str) -> str:
    import json

    return json.dumps({
        "data": {"id": str(post_id), "text": text, "author_id": "42",
                 "created_at": "2026-11-28T10:00:00.000Z"},
        "includes": {"users": [{"id": "42", "username": "alice", "name": "Alice"}]}})


def _pass(hub: Any, store: Any, elapsed: float, deliveries: int) -> tuple[float, int]:
    """One reading pass of the hub, timed; the totals so far."""
    before = hub.delivered
    started = time.perf_counter()
    hub._deliver_new(store)  # noqa: SLF001 - the hub thread's own pass, run here
    return elapsed + time.perf_counter() - started, deliveries + hub.delivered - before


def run(clients: int, walls: int, rate: int, seconds: int, database_url: str,
        interval: float) -> dict[str, Any]:
    """One configuration: ``walls`` walls (1: a single-wall site), ``clients`` spread over
    them, ``rate`` posts/s per wall for ``seconds`` seconds of traffic; the hub reads what
    ``interval`` seconds brought (0: after every post, as a bus hint wakes it)."""
    from flask_twitsocket.pipeline import RawEvent
    from flask_twitsocket.state import build_ingestor
    from flask_twitsocket.web.websocket import text_frames

    slugs = [f"room-{n}" for n in range(walls)] if walls > 1 else ["main"]
    config = {"TWITSOCKET_WALLS": {slug: {"track_keywords": [f"#{slug.replace('-', '')}"]}
                                   for slug in slugs}} if walls > 1 else {}
    app = make_app(database_url, **config)
    state = app.extensions["twitsocket"]
    hub, store = state.hub, state.store
    sent = [0]

    def sink(messages: tuple[str, ...]) -> None:
        sent[0] += len(text_frames(messages))

    for n in range(clients):
        hub.join(0, sink=sink, wall=slugs[n % len(slugs)])
    hub.stop()  # the passes are run (and timed) here, not by the hub's thread
    ingestor = build_ingestor(state)
    elapsed = 0.0
    deliveries = 0
    post_id = 1
    # the posts the hub finds per pass: those of one poll interval (at least one)
    per_pass = max(1, round(rate * walls * interval))
    for _ in range(seconds * rate):
        for slug in slugs:
            tag = f" #{slug.replace('-', '')}" if walls > 1 else ""
            ingestor.ingest([RawEvent("x", x_event(post_id, f"post {post_id}{tag}"))])
            if post_id % per_pass == 0:
                elapsed, deliveries = _pass(hub, store, elapsed, deliveries)
            post_id += 1
    elapsed, deliveries = _pass(hub, store, elapsed, deliveries)
    posts = post_id - 1
    state.engine.dispose()
    return {"walls": walls, "clients": clients, "posts": posts, "deliveries": deliveries,
            "hub_seconds": round(elapsed, 4),
            "us_per_delivery": round(elapsed / deliveries * 1e6, 3) if deliveries else None,
            "bytes_sent": sent[0]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--walls", type=int, default=10)
    parser.add_argument("--rate", type=int, default=5, help="posts/s per wall")
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args(argv)
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for mode, interval in (("bus, a pass per post", 0.0),
                               ("polling every 0.25 s (the default)", 0.25)):
            one = run(args.clients, 1, args.rate, args.seconds,
                      f"sqlite:///{Path(folder) / f'one-{interval}.sqlite3'}", interval)
            many = run(args.clients, args.walls, args.rate, args.seconds,
                       f"sqlite:///{Path(folder) / f'many-{interval}.sqlite3'}", interval)
            ratio = round(many["us_per_delivery"] / one["us_per_delivery"], 2)
            result[mode] = {"one_wall": one, "many_walls": many, "ratio_per_delivery": ratio}
            for label, row in (("1 wall  ", one), (f"{args.walls} walls", many)):
                say(f"[{mode}] {label}: {row['clients']} clients, {row['posts']} posts, "
                    f"{row['deliveries']} deliveries, {row['us_per_delivery']} µs/delivery")
            say(f"[{mode}] per delivery, {args.walls} walls / 1 wall: {ratio}")
    write_result("walls", result)
    return result


if __name__ == "__main__":
    main()
