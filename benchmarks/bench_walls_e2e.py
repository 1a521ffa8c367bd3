"""Fan-out by wall end to end (issue #17): 1,000 websocket clients on ONE wall against
1,000 spread over 10 walls (100 each), 5 posts/s per wall, on the real deployment: the
demo app under gunicorn's gevent worker (one worker), SQLite with its default bus (the
file's change counter), posts published through the production pipeline in this process,
clients held by the Node load generator of :mod:`benchmarks.bench_fanout`.

What it reports per configuration: the worker process's CPU seconds (utime + stime from
``/proc/<pid>/stat``) from the first publish until every client has every post of its wall,
divided by the tweets delivered; p50/p99 publish → receive latency; whether every post
reached every client of its wall (and only those: a client counts the tweets it gets).
The two configurations run one after the other in the same run; their ratio is what issue
#17 asks about. The hub-level benchmark (:mod:`benchmarks.bench_walls`) explains it.

``python -m benchmarks.bench_walls_e2e --clients 1000 --walls 10 --rate 5 --seconds 20``
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_fanout import (
    Clients,
    OurPublisher,
    OurServer,
    ensure_loadgen,
    free_port,
    marked_events,
    merge,
)
from benchmarks.bench_walls import traffic_arguments
from benchmarks.common import make_app, raise_fd_limit, say, write_result


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wall_config(walls: int) -> tuple[list[str], dict[str, Any]]:
    """The walls' slugs and their ``TWITSOCKET_WALLS`` (none for a single-wall site)."""
    if walls == 1:
        return ["main"], {}
    slugs = [f"room-{n}" for n in range(walls)]
    return slugs, {slug: {"track_keywords": [f"#{slug.replace('-', '')}"]} for slug in slugs}


def run(clients: int, walls: int, rate: int, seconds: int, folder: Path) -> dict[str, Any]:
    """One configuration on a fresh database and server."""
    slugs, spec = wall_config(walls)
    url = f"sqlite:///{folder / f'walls-{walls}.sqlite3'}"
    # the recording's templates, said by many accounts, would be held as raids
    app = make_app(url, TWITSOCKET_AUTO_MODERATION=[],
                   **({"TWITSOCKET_WALLS": spec} if spec else {}))
    server = OurServer(free_port(), clients, url, None,
                       extra_env={"TWITSOCKET_WALLS": json.dumps(spec)} if spec else None)
    groups: list[Clients] = []
    try:
        groups = [Clients(f"{server.ws_url}?wall={slug}", clients // walls, deflate=True)
                  for slug in slugs]
        time.sleep(2)  # let the worker settle after the connections
        per_wall = rate * seconds
        events = marked_events(per_wall * walls, first_id=1_900_000_000_000_000_000)
        publisher = OurPublisher(app)
        for group in groups:
            group.command("reset")
        before = cpu_seconds(server.pid)
        started = time.time()
        next_at = time.monotonic()
        try:
            for index, event in enumerate(events):
                tag = f" #{slugs[index % walls].replace('-', '')}" if spec else ""
                event = dict(event, data=dict(event["data"],
                                              text=event["data"]["text"] + tag))
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                publisher.publish(event)
                next_at += 1.0 / (rate * walls)
            replies = [reply for group in groups
                       for reply in group.command(f"expect {per_wall} {seconds * 2 + 10}")]
            used = cpu_seconds(server.pid) - before
        finally:
            publisher.close()
        opened = sum(group.open for group in groups)
        result = merge(replies, per_wall, opened, started)
        return {"walls": walls, "clients": clients, "connected": opened,
                "posts": len(events), "worker_cpu_seconds": round(used, 3),
                "cpu_us_per_delivery": round(used / max(result["received"], 1) * 1e6, 2),
                # each client counts the tweets it got: more would be another wall's
                "only_its_walls_posts": result["received"] == result["expected_deliveries"],
                **result}
    finally:
        for group in groups:
            group.close()
        server.stop()
        app.extensions["twitsocket"].engine.dispose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = traffic_arguments(__doc__).parse_args(argv)
    raise_fd_limit()
    ensure_loadgen()
    result: dict[str, Any] = {"worker": "gunicorn gevent, 1 worker", "database": "SQLite",
                              "bus": "the default (SQLite's change counter)"}
    with tempfile.TemporaryDirectory() as folder:
        for key, walls in (("one_wall", 1), ("many_walls", args.walls)):
            row = result[key] = run(args.clients, walls, args.rate, args.seconds,
                                    Path(folder))
            say(f"{walls:>2} wall(s): {row['connected']} clients, {row['posts']} posts, "
                f"{row['received']}/{row['expected_deliveries']} delivered, worker CPU "
                f"{row['worker_cpu_seconds']} s = {row['cpu_us_per_delivery']} µs/delivery, "
                f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, "
                f"only its wall's posts: {row['only_its_walls_posts']}")
    one, many = result["one_wall"]["cpu_us_per_delivery"], result["many_walls"][
        "cpu_us_per_delivery"]
    result["cpu_ratio_per_delivery"] = round(many / one, 2) if one else None
    say(f"worker CPU per delivery, {args.walls} walls / 1 wall: "
        f"{result['cpu_ratio_per_delivery']}")
    write_result("walls_e2e", result)
    return result


def section(data: dict[str, Any]) -> list[str]:
    """This benchmark's part of docs/performance.md (:mod:`benchmarks.report`)."""
    one, many = data["one_wall"], data["many_walls"]
    rows = [f"| {row['walls']} | {row['connected']:,} | {row['posts']:,} | "
            f"{row['received']:,} / {row['expected_deliveries']:,} | "
            f"{'yes' if row['only_its_walls_posts'] else 'NO'} | {row['worker_cpu_seconds']} | "
            f"{row['cpu_us_per_delivery']} | {row['p50_ms']} | {row['p99_ms']} |"
            for row in (one, many)]
    return ["### 6b. The same, end to end", "",
            f"{data['worker']}, {data['database']}, {data['bus']} bus; Node clients "
            "(`benchmarks.bench_walls_e2e`, machine load average at the start: "
            f"{data['machine']['loadavg_at_start'][0]}). Worker CPU from `/proc/<pid>/stat` "
            "between the first publish and the last delivery. Ratio of worker CPU per "
            f"delivery, {many['walls']} walls / 1 wall: **{data['cpu_ratio_per_delivery']}**.",
            "", "| walls | clients | posts | tweets delivered | only its wall's | worker CPU s "
            "| CPU µs/delivery | p50 ms | p99 ms |",
            "|---:|---:|---:|---:|---|---:|---:|---:|---:|", *rows, ""]


if __name__ == "__main__":
    main()
