"""End to end: a stream line arrives → the post is visible in a real browser's DOM.

For each bus backend available (database polling; Redis and PostgreSQL NOTIFY when their
modules and services exist) it starts the demo site under gunicorn, opens the wall in
headless Chromium (Playwright), and feeds X v2 lines one at a time, measuring from the
moment a line is written to the moment a MutationObserver sees ``article[data-id]``.

The line's way in: with ``sources/x.py`` and ``tests/fake_x.py`` present, the real X source
reading a fake X stream server; otherwise (so far) the real replay source reading a named
pipe, in the real ``StreamRunner`` + ``Ingestor`` — the stream process's code, run in this
process. The JSON result says which.

``python -m benchmarks.bench_e2e --posts 40``
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_fanout import OurServer, free_port
from benchmarks.common import (
    REDIS_URL,
    ROOT,
    make_app,
    percentile,
    postgres_url,
    redis_available,
    say,
    write_result,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: Records when each post element appears (epoch ms), before any page script runs.
OBSERVER = """
window.__seen = {};
new MutationObserver(function (records) {
  var at = Date.now();
  records.forEach(function (record) {
    record.addedNodes.forEach(function (node) {
      if (node.nodeType === 1 && node.matches("article[data-id]")) {
        var id = node.getAttribute("data-id");
        if (!(id in window.__seen)) { window.__seen[id] = at; }
      }
    });
  });
}).observe(document, {childList: true, subtree: true});
"""


def backends() -> list[str]:
    found = ["database"]
    bus_dir = ROOT / "flask_twitsocket" / "bus"
    if (bus_dir / "redis.py").exists() and redis_available():
        found.append("redis")
    if (bus_dir / "postgres.py").exists() and postgres_url(fresh=False):
        found.append("postgres")
    return found


def real_x_source_available() -> bool:
    return (ROOT / "flask_twitsocket" / "sources" / "x.py").exists() and (
        ROOT / "tests" / "fake_x.py").exists()


class PipeFeed:
    """The real ReplaySource reading a named pipe, run by the real StreamRunner."""

    way_in = "replay source reading a named pipe (StreamRunner + Ingestor in-process)"

    @staticmethod
    def config(tmp: Path, bus: str) -> dict[str, Any]:
        fifo = tmp / f"lines-{bus}.fifo"
        os.mkfifo(fifo)
        # No pacing (a line is handed on as it comes), one pass, the pipe as the "file".
        return {"TWITSOCKET_REPLAY_FILE": str(fifo), "TWITSOCKET_REPLAY_RATE": 10_000.0,
                "TWITSOCKET_REPLAY_LOOP": False}

    def __init__(self, app, fifo: Path) -> None:
        from flask_twitsocket.bus import create_bus
        from flask_twitsocket.pipeline import Ingestor
        from flask_twitsocket.sources.replay import ReplaySource
        from flask_twitsocket.stream import StreamRunner

        state = app.extensions["twitsocket"]
        self.fifo = fifo
        settings = state.settings
        self.stop = threading.Event()
        self.bus = create_bus(settings)
        source = ReplaySource(settings, self.stop)
        runner = StreamRunner([source], Ingestor(state.store, self.bus, state.banned),
                              self.stop, restart_crashed=False)
        self.thread = threading.Thread(target=runner.run, daemon=True)
        self.thread.start()
        self.writer = open(self.fifo, "w", encoding="utf-8")  # noqa: SIM115 - held open

    def send(self, line: str) -> None:
        self.writer.write(line + "\n")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
        self.stop.set()
        self.thread.join(timeout=10)
        self.bus.close()


def measure_backend(bus: str, count: int, gap: float, tmp: Path, browser) -> dict[str, Any]:
    from demo_app.recording import generate

    if bus == "postgres":
        database_url = postgres_url()
        broker = database_url
    else:
        database_url = f"sqlite:///{tmp / f'e2e-{bus}.db'}"
        broker = REDIS_URL if bus == "redis" else None
    config = PipeFeed.config(tmp, bus)
    if broker:
        config["TWITSOCKET_BROKER_URL"] = broker
    app = make_app(database_url, **config)
    server = OurServer(free_port(), 20, database_url, broker,
                       extra_env={"TWITSOCKET_POLL_INTERVAL": "0.25"})  # the default
    feed = PipeFeed(app, Path(config["TWITSOCKET_REPLAY_FILE"]))
    page = browser.new_page()
    latencies: list[float] = []
    missing = 0
    try:
        page.add_init_script(OBSERVER)
        page.goto(server.url + "/", wait_until="load")
        page.wait_for_function(
            "() => document.documentElement.getAttribute('data-twitsocket-status') === 'live'",
            timeout=20_000)
        first_id = 1_990_000_000_000_000_000 + hash(bus) % 1000 * 10**12
        events = [e for e in generate(count * 2, seed=5, first_id=first_id)
                  if "data" in e and not e["data"].get("referenced_tweets")][:count]
        for event in events:
            post_id = event["data"]["id"]
            sent = time.time() * 1000
            feed.send(json.dumps(event, ensure_ascii=False))
            try:
                # A function, not a string: the page's CSP forbids eval of strings.
                seen = page.wait_for_function("(id) => window.__seen[id]", arg=post_id,
                                              timeout=10_000).json_value()
                latencies.append(seen - sent)
            except Exception as error:  # noqa: BLE001 - a post that never showed is counted
                say(f"  post {post_id} not seen: {str(error)[:200]}")
                missing += 1
            time.sleep(gap)
    finally:
        page.close()
        feed.close()
        server.stop()
        app.extensions["twitsocket"].engine.dispose()
    latencies.sort()
    result = {
        "bus": bus, "database": "postgresql" if bus == "postgres" else "sqlite",
        "posts": count, "missing": missing,
        "median_ms": round(percentile(latencies, 0.5) or 0, 1),
        "p99_ms": round(percentile(latencies, 0.99) or 0, 1),
        "max_ms": round(latencies[-1], 1) if latencies else None,
    }
    say(f"e2e {bus:9s} median {result['median_ms']} ms  p99 {result['p99_ms']} ms  "
        f"max {result['max_ms']} ms  missing {missing}/{count}")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between posts")
    parser.add_argument("--buses", default=None, help="comma list; default: all available")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    buses = args.buses.split(",") if args.buses else backends()
    results: dict[str, Any] = {"way_in": PipeFeed.way_in, "real_x_source_available":
                               real_x_source_available(), "poll_interval_s": 0.25,
                               "backends": []}
    with tempfile.TemporaryDirectory(prefix="twitsocket-e2e-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for bus in buses:
                results["backends"].append(
                    measure_backend(bus, args.posts, args.gap, Path(tmp), browser))
        finally:
            browser.close()
    write_result("e2e", results)
    return results


if __name__ == "__main__":
    main()
