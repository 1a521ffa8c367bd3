"""End to end: a stream line arrives → the post is visible in a real browser's DOM.

For each bus backend available (the default with no broker, SQLite's change counter; Redis
and PostgreSQL NOTIFY when their modules and services exist) it starts the demo site under
gunicorn, opens the wall in headless Chromium (Playwright), and feeds X v2 lines one at a
time, measuring from the moment a line is written to the moment a MutationObserver sees
``article[data-id]``.

The line's way in: the real X source (``XSource``, ``--source x``) connected to the fake
X API v2 server of the tests (``tests/fake_x_server.py``, the wire format of the filtered
stream), in the real ``StreamRunner`` + ``Ingestor`` — the stream process's code, run in
this process. The clock starts when the line is handed to the fake server, so it includes
the chunked HTTP stream, the source's line reader, the pipeline, the bus, the hub, the
websocket and the browser's rendering.

``python -m benchmarks.bench_e2e --posts 40``
"""

from __future__ import annotations

import argparse
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
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


class XFeed:
    """The real X source (``XSource``: tweepy for the rules, its own chunked-stream reader)
    connected to the fake X API v2 server of the tests, run by the real ``StreamRunner``
    + ``Ingestor`` in this process, as ``flask twitsocket stream --source x`` runs it.

    The fake server plays one scripted connection; here that script is a generator fed
    from a queue, so each line goes on the wire the moment :meth:`send` is called.
    """

    way_in = ("the real X source (`XSource`, `--source x`) reading the fake X API v2 "
              "filtered stream (`tests/fake_x_server.py`: HTTP/1.1 chunked, one JSON line "
              "per post), run by the real `StreamRunner` + `Ingestor` in the benchmark "
              "process")

    def __init__(self) -> None:
        from tests.fake_x_server import FakeX

        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.fake = FakeX(script=[self._steps()])
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.bus: Any = None

    def _steps(self) -> Iterator[tuple[str, Any]]:
        while (event := self.lines.get()) is not None:
            yield ("post", event)

    def config(self) -> dict[str, Any]:
        return {"TWITSOCKET_X_API_URL": self.fake.url,
                "TWITSOCKET_X_BEARER_TOKEN": self.fake.token,
                "TWITSOCKET_TRACK_KEYWORDS": "#devconf26"}

    def start(self, app) -> None:
        from flask_twitsocket.bus import create_bus
        from flask_twitsocket.sources.x_stream import XSource
        from flask_twitsocket.state import build_ingestor
        from flask_twitsocket.stream import StreamRunner

        state = app.extensions["twitsocket"]
        self.bus = create_bus(state.settings, state.engine)
        source = XSource(state.settings, self.stop)
        runner = StreamRunner([source], build_ingestor(state, self.bus),
                              self.stop, restart_crashed=False)
        self.thread = threading.Thread(target=runner.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.fake.connections >= 1, 20, "the X source to connect")

    def send(self, event: dict[str, Any]) -> None:
        self.lines.put(event)

    def close(self) -> None:
        self.lines.put(None)
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
        if self.bus is not None:
            self.bus.close()
        self.fake.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def measure_backend(bus: str, count: int, gap: float, tmp: Path, browser) -> dict[str, Any]:
    from demo_app.recording import generate

    if bus == "postgres":
        database_url = postgres_url()
        broker = database_url
    else:
        database_url = f"sqlite:///{tmp / f'e2e-{bus}.db'}"
        broker = REDIS_URL if bus == "redis" else None
    feed = XFeed()
    config = feed.config()
    if broker:
        config["TWITSOCKET_BROKER_URL"] = broker
    app = make_app(database_url, **config)
    server = OurServer(free_port(), 20, database_url, broker)  # bus settings: the defaults
    feed.start(app)
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
            feed.send(event)
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
    results: dict[str, Any] = {"way_in": XFeed.way_in, "source": "x",
                               "change_check_interval_s": 0.005, "backends": []}
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
