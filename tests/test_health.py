"""``/health`` says whether this worker can serve walls; ``/health/live`` only that it answers."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, make_app, wait_until, x_post

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TWITSOCKET_POLL_INTERVAL": 0.02, "TWITSOCKET_HUB_STALL_TIMEOUT": 0.5}


def probe(server: LiveServer, path: str = "/twitsocket/health") -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(server.url + path, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_healthy_worker_is_live_and_ready_and_reports_its_hub(live_server):
    assert probe(live_server, "/twitsocket/health/live")[0] == 200
    status, body = probe(live_server)
    assert status == 200 and body["status"] == "ok"
    assert body["hub"]["stalled"] is False and body["hub"]["lag_seconds"] is None
    assert body["hub"]["behind"] == 0 and body["delivered_id"] == body["hub"]["journal_id"]


def test_database_down_is_not_ready_but_live(tmp_path: Path):
    server = LiveServer(make_app(f"sqlite:///{tmp_path / 'missing' / 'wall.sqlite3'}"))
    server.thread.start()
    try:
        status, body = probe(server)
        assert status == 503 and body["status"] == "unavailable"
        assert body["database"]["connected"] is False
        assert probe(server, "/twitsocket/health/live") == (200, {"status": "ok",
                                                                  "pid": body["pid"]})
    finally:
        server.server.shutdown()
        server.app.extensions["twitsocket"].hub.stop()


def test_a_stalled_hub_fails_readiness_until_it_delivers_again(live_server, app):
    state = app.extensions["twitsocket"]
    release = threading.Event()
    # a subscriber whose writes hang (what a blocking send to a dead phone used to do)
    stuck = state.hub.subscribe_within(0, sink=lambda messages: release.wait(60))
    ingestor = build_ingestor(state)
    ingestor.ingest([RawEvent("x", json.dumps(x_post(1)))])

    def unready() -> dict[str, Any] | None:
        status, body = probe(live_server)
        return body if status == 503 else None

    body = wait_until(unready, message="the stalled hub to fail readiness")
    assert body["hub"]["stalled"] is True and body["hub"]["behind"] >= 1
    assert body["database"]["connected"] is True
    assert probe(live_server, "/twitsocket/health/live")[0] == 200
    release.set()
    state.hub.unsubscribe(stuck)
    wait_until(lambda: probe(live_server)[0] == 200, message="ready again once delivered")
