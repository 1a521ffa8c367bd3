"""Page cost with a big archive: 1M stored posts, then the server time of what a page does.

Measured in-process (no network): ``render_tweets(30)`` alone, the demo wall page (which
also shows the count and the top lists), the JSON API ``/twitsocket/api/tweets``, the
count, and the ``flask twitsocket top`` command. The rows are realistic posts (built by
the real store code from the demo recording) copied with fresh ids by a bare
``executemany`` — generating 1M through the pipeline would only measure ingest again.

``python -m benchmarks.bench_page --posts 1000000 [--postgres]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.bench_ingest import make_lines, prepared_rows
from benchmarks.common import postgres_url, say, write_result

TEMPLATE = ('{% from "twitsocket/macros.html" import render_tweets %}'
            '{{ render_tweets(30) }}')


def fill(app, count: int, chunk: int = 20_000) -> float:
    """Insert ``count`` posts by copying 2,000 real rows with new ids; returns seconds."""
    from flask_twitsocket.models import Post

    engine = app.extensions["twitsocket"].engine
    templates = prepared_rows(make_lines(min(count, 2_000), first_id=1_700_000_000_000_000_000))
    columns = [c.name for c in Post.__table__.columns if c.name != "seq"]
    mark = "%s" if engine.dialect.name == "postgresql" else "?"
    sql = (f"INSERT INTO twitsocket_posts ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for start in range(0, count, chunk):
            values = []
            for index in range(start, min(count, start + chunk)):
                row = dict(templates[index % len(templates)], post_id=str(10**15 + index))
                values.append(tuple(row[c] for c in columns))
            cursor.executemany(sql, values)
            raw.commit()
        if engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = True
            cursor.execute("VACUUM ANALYZE twitsocket_posts")
        else:
            cursor.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def timed(action: Callable[[], Any], repeat: int) -> dict[str, float]:
    action()  # warm: caches, compiled statements, the template
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(samples), 2),
            "max_ms": round(max(samples), 2), "runs": repeat}


def measure(app, repeat: int) -> dict[str, Any]:
    from flask import render_template_string

    state = app.extensions["twitsocket"]
    client = app.test_client()

    def macro() -> None:
        with app.test_request_context("/"):
            assert "data-seq" in render_template_string(TEMPLATE)

    def page() -> None:
        assert client.get("/").status_code == 200

    def api() -> None:
        assert client.get("/twitsocket/api/tweets").status_code == 200

    def fresh_count() -> None:  # the query itself, which count() now reuses for 1 s
        with state.engine.connect() as conn:
            state.store._count(conn)

    def top() -> None:
        result = app.test_cli_runner().invoke(args=["twitsocket", "top"])
        assert result.exit_code == 0, result.output

    return {
        "render_tweets_30": timed(macro, repeat),
        "wall_page": timed(page, repeat),
        "json_api": timed(api, repeat),
        "count": timed(state.store.count, repeat),
        "count_query": timed(fresh_count, repeat),
        "top_command": timed(top, max(1, repeat // 10)),
    }


def bench(label: str, url: str, count: int, repeat: int) -> dict[str, Any]:
    from demo_app import create_app
    from flask_twitsocket.models import metadata

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TWITSOCKET_BANNED_USERS": []})
    state = app.extensions["twitsocket"]
    metadata.drop_all(state.engine)
    state.create_tables()
    say(f"page {label}: storing {count:,} posts…")
    seconds = fill(app, count)
    figures = measure(app, repeat)
    state.engine.dispose()
    say(f"page {label}: " + "  ".join(f"{name} {value['median_ms']} ms"
                                      for name, value in figures.items()))
    return {"posts": count, "fill_seconds": round(seconds, 1), **figures}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="twitsocket-page-") as tmp:
        results["sqlite"] = bench("SQLite", f"sqlite:///{Path(tmp) / 'page.db'}",
                                  args.posts, args.repeat)
    if args.postgres:
        url = postgres_url()
        if url:
            results["postgresql"] = bench("PostgreSQL", url, args.posts, args.repeat)
    write_result("page", results)
    return results


if __name__ == "__main__":
    main()
