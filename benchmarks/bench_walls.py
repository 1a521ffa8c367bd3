"""Fan-out by wall (issue #17): the hub's cost per delivery with 1,000 clients on ONE wall,
against 1,000 clients spread over 10 walls (100 each), 5 posts/s per wall — both in the
same run, and their ratio (the target: ≤ 1).

Real parts in one process: the app on SQLite, posts through the production pipeline
(``build_ingestor``: normalise, route, store, journal by wall), and the real
:class:`~flask_twitsocket.hub.Hub` reading the journal with its own reader
(``PostStore.journal_reader``) and handing each run to its subscribers' sinks, which build
the websocket frames as :mod:`flask_twitsocket.web.websocket` does (once per batch, cached
on the tuple) and count the bytes. No socket: what is measured is the hub's own work per
delivery — the whole reading pass (``Hub._deliver_new``: the journal read, parsing the
entries, choosing the subscribers of the entries' walls, handing the batches over,
building frames), the part several walls could make dearer. A pass is run per second of
traffic's share (each post stored in its own batch, as at a live pace) and timed twice:
the wall clock, and this thread's CPU time (which a neighbour's burst on a shared machine
moves far less). Each configuration runs ``--rounds`` times; the least is quoted, the
spread kept.

``python -m benchmarks.bench_walls --clients 1000 --walls 10 --rate 5 --seconds 20``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import make_app, say, write_result


def x_event(post_id: int, text: str) -> str:
    import json

    return json.dumps({
        "data": {"id": str(post_id), "text": text, "author_id": "42",
                 "created_at": "2026-11-28T10:00:00.000Z"},
        "includes": {"users": [{"id": "42", "username": "alice", "name": "Alice"}]}})


class Passes:
    """The hub's reading passes, run here (not by its thread) and timed."""

    def __init__(self, hub: Any, read: Any) -> None:
        self.hub, self.read = hub, read
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.count = 0

    def run(self) -> None:
        started, cpu_started = time.perf_counter(), time.thread_time()
        self.hub._deliver_new(self.read)  # noqa: SLF001 - the hub thread's own pass
        self.cpu_seconds += time.thread_time() - cpu_started
        self.seconds += time.perf_counter() - started
        self.count += 1


def run(clients: int, walls: int, rate: int, seconds: int, database_url: str,
        interval: float) -> dict[str, Any]:
    """One configuration: ``walls`` walls (1: a single-wall site), ``clients`` spread over
    them, ``rate`` posts/s per wall for ``seconds`` seconds of traffic; the hub reads what
    ``interval`` seconds brought (0: after every post, as a bus hint wakes it)."""
    from flask_twitsocket.pipeline import RawEvent
    from flask_twitsocket.state import build_ingestor
    slugs = [f"room-{n}" for n in range(walls)] if walls > 1 else ["main"]
    config = {"TWITSOCKET_WALLS": {slug: {"track_keywords": [f"#{slug.replace('-', '')}"]}
                                   for slug in slugs}} if walls > 1 else {}
    app = make_app(database_url, **config)
    state = app.extensions["twitsocket"]
    hub, store = state.hub, state.store
    sent = [[0] for _ in range(clients)]  # each client's bytes, as each socket has its state
    for n in range(clients):
        hub.join(0, sink=client_sink(sent[n]), wall=slugs[n % len(slugs)])
    hub.stop()  # the passes are run (and timed) here, not by the hub's thread
    ingestor = build_ingestor(state)
    passes = Passes(hub, store.journal_reader())
    before = hub.delivered
    post_id = 1
    # the posts the hub finds per pass: those of one poll interval (at least one)
    per_pass = max(1, round(rate * walls * interval))
    for _ in range(seconds * rate):
        for slug in slugs:
            tag = f" #{slug.replace('-', '')}" if walls > 1 else ""
            ingestor.ingest([RawEvent("x", x_event(post_id, f"post {post_id}{tag}"))])
            if post_id % per_pass == 0:
                passes.run()
            post_id += 1
    passes.run()
    passes.read.close()
    state.engine.dispose()
    deliveries = hub.delivered - before
    return {"walls": walls, "clients": clients, "posts": post_id - 1, "passes": passes.count,
            "deliveries": deliveries, "hub_seconds": round(passes.seconds, 4),
            "us_per_delivery": per_delivery(passes.seconds, deliveries),
            "hub_cpu_seconds": round(passes.cpu_seconds, 4),
            "cpu_us_per_delivery": per_delivery(passes.cpu_seconds, deliveries),
            "us_per_pass": round(passes.seconds / passes.count * 1e6, 2),
            "cpu_us_per_pass": round(passes.cpu_seconds / passes.count * 1e6, 2),
            "bytes_sent": sum(bytes_sent for bytes_sent, in sent)}


def client_sink(sent: list[int]) -> Callable[[tuple[str, ...]], None]:
    """A client's sink: the frames as :mod:`flask_twitsocket.web.websocket`'s sink builds
    them (once per batch, for every client), counted instead of written. One closure and
    counter per client, as each socket has its own sink and outbox."""
    from flask_twitsocket.web.websocket import text_frames

    def sink(messages: tuple[str, ...]) -> None:
        sent[0] += len(text_frames(messages))

    return sink


def per_delivery(seconds: float, deliveries: int) -> float | None:
    return round(seconds / deliveries * 1e6, 3) if deliveries else None


def best(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The least of each timing over the rounds (what the machine's neighbours disturbed
    least), with its spread."""
    chosen = dict(rounds[0])
    for key in ("hub_seconds", "us_per_pass", "us_per_delivery", "hub_cpu_seconds",
                "cpu_us_per_pass", "cpu_us_per_delivery"):
        values = [row[key] for row in rounds]
        chosen[key] = min(values)
        chosen[f"{key}_spread"] = [min(values), max(values)]
    chosen["rounds"] = len(rounds)
    return chosen


def compare(args: argparse.Namespace, folder: Path, interval: float) -> dict[str, Any]:
    """One wall and ``args.walls`` walls, alternating round by round (so a neighbour's
    burst falls on both), and their ratios per delivery."""
    runs: dict[int, list[dict[str, Any]]] = {1: [], args.walls: []}
    for round_ in range(args.rounds):
        for walls in runs:
            url = f"sqlite:///{folder / f'{walls}-{interval}-{round_}.sqlite3'}"
            runs[walls].append(run(args.clients, walls, args.rate, args.seconds, url,
                                   interval))
    one, many = best(runs[1]), best(runs[args.walls])
    return {"one_wall": one, "many_walls": many, **split_costs(one, many),
            "ratio_per_delivery": ratio(many["us_per_delivery"], one["us_per_delivery"]),
            "cpu_ratio_per_delivery": ratio(many["cpu_us_per_delivery"],
                                            one["cpu_us_per_delivery"])}


def split_costs(one: dict[str, Any], many: dict[str, Any]) -> dict[str, float | None]:
    """CPU per pass = a fixed part F (read the journal, parse, choose, build the frames)
    + c per client handed a batch. With one post per pass in both configurations,
    F + clients·c and F + (clients/walls)·c give both: per delivery, several walls cost
    walls·(F + c·clients/walls) / (F + c·clients) times one wall, above 1 whenever F > 0."""
    served_one, served_many = one["clients"], one["clients"] // max(1, many["walls"])
    if one["passes"] != one["posts"] + 1 or many["passes"] != many["posts"] + 1 \
            or served_one == served_many:
        return {"fixed_cpu_us_per_pass": None, "cpu_us_per_client_batch": None}
    per_client = (one["cpu_us_per_pass"] - many["cpu_us_per_pass"]) / (served_one - served_many)
    return {"fixed_cpu_us_per_pass": round(many["cpu_us_per_pass"] - served_many * per_client, 2),
            "cpu_us_per_client_batch": round(per_client, 4)}


def ratio(many: float | None, one: float | None) -> float | None:
    return round(many / one, 2) if many and one else None


def traffic_arguments(description: str | None) -> argparse.ArgumentParser:
    """The options both walls benchmarks take: issue #17's traffic by default."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--walls", type=int, default=10)
    parser.add_argument("--rate", type=int, default=5, help="posts/s per wall")
    parser.add_argument("--seconds", type=int, default=20)
    return parser


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = traffic_arguments(__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="runs of each configuration")
    args = parser.parse_args(argv)
    modes: dict[str, Any] = {}
    result: dict[str, Any] = {"clients": args.clients, "walls": args.walls,
                              "rate_per_wall": args.rate, "seconds": args.seconds,
                              "rounds": args.rounds, "modes": modes}
    with tempfile.TemporaryDirectory() as folder:
        for mode, interval in (("bus, a pass per post", 0.0),
                               ("polling every 0.25 s (the default)", 0.25)):
            modes[mode] = entry = compare(args, Path(folder), interval)
            for label, row in (("1 wall  ", entry["one_wall"]),
                               (f"{args.walls} walls", entry["many_walls"])):
                say(f"[{mode}] {label}: {row['clients']} clients, {row['posts']} posts, "
                    f"{row['passes']} passes, {row['deliveries']} deliveries, "
                    f"{row['us_per_delivery']} µs/delivery "
                    f"(rounds {row['us_per_delivery_spread']}), "
                    f"CPU {row['cpu_us_per_delivery']} µs/delivery "
                    f"(rounds {row['cpu_us_per_delivery_spread']}), "
                    f"{row['us_per_pass']} µs/pass")
            say(f"[{mode}] per delivery, {args.walls} walls / 1 wall: "
                f"{entry['ratio_per_delivery']} (CPU: {entry['cpu_ratio_per_delivery']})")
            if entry["fixed_cpu_us_per_pass"] is not None:
                say(f"[{mode}] CPU per pass = {entry['fixed_cpu_us_per_pass']} µs fixed + "
                    f"{entry['cpu_us_per_client_batch']} µs per client handed a batch")
    write_result("walls", result)
    return result


#: What section 6 of docs/performance.md says it measures (``{}``: from the result).
ABOUT = (
    "{clients:,} clients on one wall, then spread over {walls} walls, {rate_per_wall} "
    "posts/s per wall for {seconds} s of traffic (`benchmarks.bench_walls`; machine load "
    "average at the start: {load}). The hub's whole reading pass is timed — the journal "
    "read, parsing, choosing each entry's walls' subscribers, handing the batches to the "
    "sinks, building the frames — in wall-clock and in this thread's CPU time, least of "
    "{rounds} alternating rounds (the CPU spread in brackets). *bus*: a pass per post, as "
    "a bus hint per commit wakes the hub; *polling*: a pass per 0.25 s of traffic.")
TABLE = ("| mode | walls | passes | deliveries | µs/delivery | CPU µs/delivery | CPU µs/pass "
         "| walls / 1 wall, CPU (wall clock) |\n|---|---:|---:|---:|---:|---:|---:|---:|")


def section(data: dict[str, Any]) -> list[str]:
    """This benchmark's part of docs/performance.md (:mod:`benchmarks.report`)."""
    rows, notes = [], []
    for mode, entry in data["modes"].items():
        for key in ("one_wall", "many_walls"):
            row = entry[key]
            spread = row["cpu_us_per_delivery_spread"]
            ratios = (f"{entry['cpu_ratio_per_delivery']} ({entry['ratio_per_delivery']})"
                      if key == "many_walls" else "")
            rows.append(
                f"| {mode} | {row['walls']} | {row['passes']:,} | {row['deliveries']:,} | "
                f"{row['us_per_delivery']} | {row['cpu_us_per_delivery']} "
                f"[{spread[0]}–{spread[1]}] | {row['cpu_us_per_pass']} | {ratios} |")
        if entry.get("fixed_cpu_us_per_pass") is not None:
            notes.append(
                f"*{mode}*: CPU per pass ≈ {entry['fixed_cpu_us_per_pass']} µs fixed + "
                f"{entry['cpu_us_per_client_batch']} µs per client handed the post.")
    about = ABOUT.format(**data, load=data["machine"]["loadavg_at_start"][0])
    return ["## 6. Walls: one wall against several, per delivery (issue #17)", "", about, "",
            TABLE, *rows, "", *notes, ""]


if __name__ == "__main__":
    main()
