"""Ingest: raw X v2 JSON lines → Ingestor (parse, normalise, filter, store + journal, bus
notify), in batches as the stream process makes them in a burst, on SQLite and PostgreSQL.

Baseline, same run, same database: the same rows (already built, nothing to compute) put
into the same table by a bare DBAPI ``executemany``, one transaction per batch — what the
database itself can take. ``python -m benchmarks.bench_ingest --posts 100000``;
``--profile --posts 20000`` prints where our side's time goes (needs pyinstrument).
"""

from __future__ import annotations

import argparse
import gc
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REDIS_URL, make_app, postgres_url, redis_available, say, write_result
from demo_app.recording import generate

BATCH = 500  # the stream process's BATCH_SIZE: what a burst batches into


def make_lines(count: int, first_id: int = 1_862_000_000_000_000_000) -> list[str]:
    return [json.dumps(event, ensure_ascii=False) for event in generate(count, seed=7,
                                                                         first_id=first_id)]


def run_ours(app, lines: list[str]) -> dict[str, Any]:
    from flask_twitsocket.bus import create_bus
    from flask_twitsocket.pipeline import IngestStats, RawEvent
    from flask_twitsocket.state import build_ingestor

    state = app.extensions["twitsocket"]
    bus = create_bus(state.settings, state.engine)
    ingestor = build_ingestor(state, bus)
    events = [RawEvent("x", line) for line in lines]
    total = IngestStats()
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(events), BATCH):
        total.add(ingestor.ingest(events[start:start + BATCH]))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    bus.close()
    # cpu_seconds: this process's own CPU time (not a database server's), which a busy
    # neighbour on a shared machine slows far less than the wall clock
    return {"seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3),
            "stored": total.stored,
            "posts_per_s": round(len(lines) / elapsed), "bus": bus.name,
            "malformed": total.malformed}


def prepared_rows(lines: list[str]) -> list[dict[str, Any]]:
    """The rows the store would write, computed before the clock starts."""
    from flask_twitsocket.normalise import PostData
    from flask_twitsocket.pipeline import RawEvent, parse
    from flask_twitsocket.store import post_row as _row

    rows = []
    for line in lines:
        item = parse(RawEvent("x", line))
        if isinstance(item, PostData):
            rows.append(_row(item))
    return rows


def run_baseline(app, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Bare executemany into the (emptied) posts table on a raw DBAPI connection."""
    from flask_twitsocket.models import Post

    state = app.extensions["twitsocket"]
    engine = state.engine
    columns = [c.name for c in Post.__table__.columns if c.name != "seq"]
    postgres = engine.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    sql = (f"INSERT INTO twitsocket_posts ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    values = [tuple(row[c] for c in columns) for row in rows]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("DELETE FROM twitsocket_posts")
        raw.commit()
        started = time.perf_counter()
        for start in range(0, len(values), BATCH):
            cursor.executemany(sql, values[start:start + BATCH])
            raw.commit()
        elapsed = time.perf_counter() - started
    finally:
        raw.close()
    return {"seconds": round(elapsed, 3), "rows": len(values),
            "posts_per_s": round(len(values) / elapsed)}


#: The recording is a few sentence templates said by many accounts: the raid rule would
#: hold most of it (as the demo, this runs the other default rules; all rules on vs off:
#: ``benchmarks.bench_auto_moderation``).
RULES = {"TWITSOCKET_AUTO_MODERATION": ["profanity", "consent"]}


def bench_database(label: str, url: str, lines: list[str], rows) -> dict[str, Any]:
    config = {"TWITSOCKET_BROKER_URL": REDIS_URL} if redis_available() else {}
    config.update(RULES)
    app = make_app(url, **config)
    ours = run_ours(app, lines)
    baseline = run_baseline(app, rows)
    app.extensions["twitsocket"].engine.dispose()
    ratio = ours["posts_per_s"] / baseline["posts_per_s"]
    say(f"ingest {label:10s} ours {ours['posts_per_s']:>7,} posts/s   bare executemany "
        f"{baseline['posts_per_s']:>7,} rows/s   ratio {ratio:.0%}")
    return {"ours": ours, "baseline": baseline, "ratio": round(ratio, 3)}


def profile(lines: list[str]) -> None:
    """Where our side's time goes: pyinstrument's call tree of ``run_ours`` on SQLite."""
    from pyinstrument import Profiler

    with tempfile.TemporaryDirectory(prefix="twitsocket-bench-") as tmp:
        app = make_app(f"sqlite:///{Path(tmp) / 'ingest.db'}")
        profiler = Profiler(interval=0.0005)
        with profiler:
            ours = run_ours(app, lines)
        app.extensions["twitsocket"].engine.dispose()
    say(f"ingest SQLite (profiled, so slower) {ours['posts_per_s']:,} posts/s")
    say(profiler.output_text(unicode=False, color=False))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="only profile our side on SQLite with pyinstrument (no result)")
    args = parser.parse_args(argv)
    say(f"ingest: generating {args.posts:,} X v2 lines…")
    lines = make_lines(args.posts)
    if args.profile:
        profile(lines)
        return {}
    rows = prepared_rows(lines)
    # The harness holds 100k lines and 100k prepared rows that a stream process never
    # has: out of the collector's sight, or every full collection during our run walks
    # them (that alone cost our side 15%).
    gc.collect()
    gc.freeze()
    results: dict[str, Any] = {"posts": args.posts, "batch": BATCH}
    with tempfile.TemporaryDirectory(prefix="twitsocket-bench-") as tmp:
        results["sqlite"] = bench_database("SQLite", f"sqlite:///{Path(tmp) / 'ingest.db'}",
                                           lines, rows)
    pg = None if args.no_postgres else postgres_url()
    if pg:
        results["postgresql"] = bench_database("PostgreSQL", pg, lines, rows)
    write_result("ingest", results)
    return results


if __name__ == "__main__":
    main()
