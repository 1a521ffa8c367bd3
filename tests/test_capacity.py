"""Holding many walls in one worker: a connection cap with a clean close reason, and a
slow phone that never reads is dropped without delaying anyone else."""

from __future__ import annotations

import base64
import json
import os
import socket
from typing import Any

import pytest
from conftest import wait_until, x_post
from scaleout import Wall
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TWITSOCKET_MAX_CLIENTS": 2, "TWITSOCKET_CLIENT_QUEUE_SIZE": 32,
            "TWITSOCKET_POLL_INTERVAL": 0.02}


def clients(live_server) -> int:
    return live_server.get_json("/twitsocket/health")["clients"]


def test_a_full_worker_refuses_with_1013_and_a_reason(live_server):
    url = f"{live_server.ws_url}/twitsocket/ws"
    first, second = Wall(url), Wall(url)
    with connect(url) as third, pytest.raises(ConnectionClosedError) as refused:
        third.recv(timeout=10)
    assert refused.value.rcvd.code == 1013
    assert refused.value.rcvd.reason == "server full; try again shortly"
    assert clients(live_server) == 2
    first.close()
    wait_until(lambda: clients(live_server) == 1, message="the first wall to leave")
    again = Wall(url)  # room again: accepted
    assert again.first["type"] == "count"
    again.close()
    second.close()


def never_reading_client(live_server) -> socket.socket:
    """A phone that opened the wall and then stopped reading (a tiny receive window)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", live_server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /twitsocket/ws HTTP/1.1\r\nHost: 127.0.0.1:{live_server.port}\r\n"
                  f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert sock.recv(12) == b"HTTP/1.1 101"
    return sock


def test_a_client_that_never_reads_is_dropped_and_the_others_get_everything(
        live_server, app, caplog):
    state = app.extensions["twitsocket"]
    ingestor = build_ingestor(state)
    wall = Wall(f"{live_server.ws_url}/twitsocket/ws")
    slow = never_reading_client(live_server)
    wait_until(lambda: clients(live_server) == 2, message="both clients connected")
    stored: list[str] = []
    big = "word " * 6000  # ~30 kB a post, ~90 kB a message: fills buffers quickly
    while clients(live_server) == 2 and len(stored) < 2000:
        batch = [x_post(len(stored) + i, text=big) for i in range(1, 4)]
        ingestor.ingest([RawEvent("x", json.dumps(post)) for post in batch])
        stored += [post["data"]["id"] for post in batch]
        total = len(stored)
        # the reading wall keeps up (it is never more than a batch behind) …
        wait_until(lambda n=total: len(wall.tweets()) >= n, timeout=30,
                   message="the reading wall to keep up")
    # … while the one that never reads falls behind and is dropped alone
    assert clients(live_server) == 1, "the slow client was never dropped"
    # and its connection handler is freed although the phone still does not read
    wait_until(lambda: any("left (1 connected)" in r.getMessage() for r in caplog.records),
               timeout=30, message="the stuck handler to end")
    wall.close()
    assert wall.tweets() == stored
    slow.close()


def test_bursts_reach_every_wall_in_order_once_with_the_counts(live_server, app):
    """The hub sends what piled up since its last read in one write per wall: the walls
    must still see every message once, in journal order, the count after its posts."""
    state = app.extensions["twitsocket"]
    ingestor = build_ingestor(state)
    walls = [Wall(f"{live_server.ws_url}/twitsocket/ws") for _ in range(2)]
    expected = [str(n) for n in range(1, 121)]
    # three batches back to back; the first is more than one journal entry holds
    for start, end in ((0, 100), (100, 110), (110, 120)):
        ingestor.ingest([RawEvent("x", json.dumps(x_post(int(post_id))))
                         for post_id in expected[start:end]])
    for wall in walls:
        wait_until(lambda wall=wall: [m.get("count") for m in list(wall.messages)
                                      if m["type"] == "count"][-1:] == [120],
                   message="the last count on every wall")
        wall.close()
        assert wall.tweets() == expected
        kinds = [m["type"] for m in wall.messages]
        assert kinds == ["tweet"] * 100 + ["count"] + (["tweet"] * 10 + ["count"]) * 2
