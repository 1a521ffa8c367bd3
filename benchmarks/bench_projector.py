"""A projector left on for days: 20,000 posts at 20/s into the projector page in Chromium.

Starts the demo site under gunicorn (SQLite in a temporary directory), opens
``/twitsocket/wall`` at 1920×1080 in Chromium, stores posts through the real pipeline
(normalise → store + journal → hub → websocket) at a steady rate, and samples the page's
DOM node count and JS heap (after a forced garbage collection, through the DevTools
protocol) at the start, the middle and the end. Bounded means the end is no larger than the
middle by more than noise: the display queue, the packed grid and the client's
de-duplication set all have caps, whatever the number of posts.

``python -m benchmarks.bench_projector [--posts 20000] [--rate 20] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks.bench_e2e import CHROMIUM, CHROMIUM_ARGS
from benchmarks.common import ROOT, say, write_result


def x_event(post_id: int) -> str:
    """One X stream event, of varied length, as the X source hands it to the pipeline."""
    user = str(post_id % 97)
    text = f"Post {post_id} from the hall #devconf26 " + "and more words " * (post_id % 9)
    return json.dumps({
        "data": {"id": str(10**15 + post_id), "text": text, "author_id": user,
                 "created_at": "2026-11-28T10:00:00.000Z"},
        "includes": {"users": [{"id": user, "username": f"person{user}",
                                "name": f"Person {user}"}]}})


def start_server(database_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "TWITSOCKET_BANNED_USERS": "",
           "TWITSOCKET_TRACK_KEYWORDS": "#devconf26"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--threads", "20",
         "--workers", "1", "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "demo_app:create_app()"], cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/twitsocket/health",
                                        timeout=2) as answer:
                if json.loads(answer.read()).get("delivered_id") is not None:
                    return process
        except OSError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("gunicorn did not answer")


def sample(page: Any, cdp: Any, posts: int) -> dict[str, Any]:
    cdp.send("HeapProfiler.collectGarbage")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"posts_sent": posts,
            "dom_nodes": page.evaluate("document.getElementsByTagName('*').length"),
            "cards": page.evaluate("document.querySelectorAll('#tweets article').length"),
            "js_heap_mb": round(metrics["JSHeapUsedSize"] / 2**20, 2),
            "queued": int(page.get_attribute("[data-wall-pacer]", "data-queued") or 0)}


def run(posts: int, rate: float) -> dict[str, Any]:
    from flask_twitsocket.filters import BanList
    from playwright.sync_api import sync_playwright

    from benchmarks.common import make_app
    from flask_twitsocket.bus import create_bus
    from flask_twitsocket.pipeline import Ingestor, RawEvent

    with tempfile.TemporaryDirectory(prefix="twitsocket-projector-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'wall.db'}"
        app = make_app(url)
        state = app.extensions["twitsocket"]
        port = 20000 + os.getpid() % 20000
        server = start_server(url, port)
        bus = create_bus(state.settings, state.engine)
        ingest = Ingestor(state.store, bus, BanList())
        samples = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                     args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(f"http://127.0.0.1:{port}/twitsocket/wall")
                page.wait_for_selector('[data-twitsocket-status-badge][data-state="live"]')
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                samples.append(sample(page, cdp, 0))
                batch = max(1, int(rate / 5))  # five deliveries a second
                started = time.monotonic()
                for first in range(1, posts + 1, batch):
                    ingest.ingest([RawEvent("x", x_event(i))
                                   for i in range(first, min(posts + 1, first + batch))])
                    sent = min(posts, first + batch - 1)
                    if sent in (posts // 2, posts) or (sent >= posts // 2 > sent - batch):
                        page.wait_for_timeout(1000)  # let the hub deliver what was sent
                        samples.append(sample(page, cdp, sent))
                    pause = started + sent / rate - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                browser.close()
        finally:
            bus.close()
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
            state.engine.dispose()
    start, middle, end = samples[0], samples[len(samples) // 2], samples[-1]
    return {"posts": posts, "rate_per_s": rate, "viewport": "1920x1080", "layout": "grid",
            "samples": {"start": start, "middle": middle, "end": end},
            "bounded": end["dom_nodes"] <= middle["dom_nodes"] * 1.1 + 50
            and end["js_heap_mb"] <= middle["js_heap_mb"] * 1.25 + 1}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="600 posts (30 s)")
    args = parser.parse_args(argv)
    result = run(600 if args.quick else args.posts, args.rate)
    write_result("projector", result)
    for name, figures in result["samples"].items():
        say(f"projector {name}: {figures}")
    say(f"projector: bounded = {result['bounded']}")
    return result


if __name__ == "__main__":
    main()
