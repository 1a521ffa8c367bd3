"""The wall socket's own reader, through ``<prefix>/ws`` with a raw socket client: what a
browser (or anything else) may send, split anywhere, and what the server answers.

Also: a wall holds no thread of its own, so a gunicorn gthread worker with two threads
serves more walls than it has threads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
from typing import Any

import pytest
from conftest import make_app, wait_until, x_post
from scaleout import WebServer, prepare_database
from websockets.sync.client import connect
from ws_client import open_wall

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor

TEXT, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x0, 0x8, 0x9, 0xA


def frame(opcode: int, payload: bytes = b"", final: bool = True, masked: bool = True,
          length: int | None = None) -> bytes:
    """A client's frame (masked, as RFC 6455 requires, unless told otherwise); ``length``
    overrides the header's length (a frame announced bigger than what follows)."""
    size = len(payload) if length is None else length
    head = bytes(((0x80 if final else 0) | opcode,))
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes((mask_bit | size,))
    elif size < 1 << 16:
        head += bytes((mask_bit | 126,)) + size.to_bytes(2, "big")
    else:
        head += bytes((mask_bit | 127,)) + size.to_bytes(8, "big")
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


class RawWall:
    """A client that completes the handshake, then sends and reads frames by hand."""

    def __init__(self, port: int, headers: str = "") -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /twitsocket/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                           f"Sec-WebSocket-Key: {self.key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"{headers}\r\n").encode())
        self.buffer = b""
        self.head = self._until(b"\r\n\r\n").decode()
        assert self.head.startswith("HTTP/1.1 101"), self.head

    def _until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            self._more()
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server hung up")
        self.buffer += data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        taken, self.buffer = self.buffer[:size], self.buffer[size:]
        return taken

    def read(self) -> tuple[int, bytes]:
        """The server's next frame (never masked)."""
        first, second = self._take(2)
        assert not second & 0x80, "a server's frames are not masked"
        size = second & 0x7F
        if size >= 126:
            size = int.from_bytes(self._take(2 if size == 126 else 8), "big")
        return first & 0x0F, self._take(size)

    def control(self) -> tuple[int, bytes]:
        """The server's next control frame, skipping its messages (the count, posts)."""
        while True:
            opcode, payload = self.read()
            if opcode != TEXT:
                return opcode, payload

    def close_code(self) -> int:
        """Read up to the server's close frame; its code."""
        while True:
            opcode, payload = self.control()
            if opcode == CLOSE:
                return int.from_bytes(payload[:2], "big")

    def send_split(self, data: bytes, piece: int = 3) -> None:
        """Send ``data`` a few bytes at a time: a frame arrives across several reads."""
        for start in range(0, len(data), piece):
            self.sock.sendall(data[start:start + piece])

    def hung_up(self) -> bool:
        try:
            while True:
                self._more()
        except (ConnectionError, OSError):
            return True

    def close(self) -> None:
        self.sock.close()


def clients(live_server) -> int:
    return live_server.get_json("/twitsocket/health")["clients"]


@pytest.fixture
def wall(live_server):
    client = RawWall(live_server.port)
    wait_until(lambda: clients(live_server) == 1, message="the wall to be subscribed")
    yield client
    client.close()


def test_the_handshake_accepts_the_key_and_declines_compression(live_server):
    wall = RawWall(live_server.port, "Sec-WebSocket-Extensions: permessage-deflate; "
                                     "client_max_window_bits\r\n")
    headers = dict(line.lower().split(": ", 1) for line in wall.head.split("\r\n")[1:])
    digest = hashlib.sha1((wall.key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
    assert headers["sec-websocket-accept"] == base64.b64encode(digest.digest()).decode().lower()
    assert headers["upgrade"] == "websocket"
    assert "sec-websocket-extensions" not in headers  # every frame goes uncompressed
    assert wall.read()[0] == TEXT  # the opening count, a plain text frame
    wall.close()


@pytest.mark.parametrize("version", ["8", ""])
def test_another_protocol_version_is_refused_426(live_server, version):
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=10) as sock:
        sock.sendall((f"GET /twitsocket/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      f"Sec-WebSocket-Version: {version}\r\n\r\n").encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 426")


def test_a_ping_gets_its_pong(wall):
    wall.sock.sendall(frame(PING, b"are you there?"))
    assert wall.control() == (PONG, b"are you there?")


def test_a_fragmented_message_split_across_reads_is_read_through(wall):
    wall.send_split(frame(TEXT, b"a" * 2000, final=False))
    wall.send_split(frame(PING, b"in between"))  # control frames may interleave
    wall.send_split(frame(CONTINUATION, b"b" * 2000, final=True))
    assert wall.control() == (PONG, b"in between")
    wall.send_split(frame(PING, b"after"), piece=1)
    assert wall.control() == (PONG, b"after")


def test_an_oversized_frame_is_closed_1009_before_its_payload(wall, live_server):
    wall.sock.sendall(frame(TEXT, b"x" * 100, length=5000)[:110])  # announces 5,000 bytes
    assert wall.close_code() == 1009
    assert wall.hung_up()
    wait_until(lambda: clients(live_server) == 0, message="the wall to be unsubscribed")


def test_a_fragmented_message_over_the_limit_is_closed_1009(wall):
    wall.sock.sendall(frame(TEXT, b"a" * 3000, final=False))
    wall.sock.sendall(frame(CONTINUATION, b"b" * 3000, final=True))
    assert wall.close_code() == 1009


@pytest.mark.parametrize("bad", [frame(TEXT, b"hi", masked=False),  # clients must mask
                                 frame(CONTINUATION, b"orphan"),    # no message started
                                 frame(PING, b"x" * 126),           # control frame too long
                                 frame(0x3, b"?")],                 # no such opcode
                         ids=["unmasked", "orphan-continuation", "long-ping", "opcode-3"])
def test_a_protocol_violation_is_closed_1002(wall, live_server, bad):
    wall.sock.sendall(bad)
    assert wall.close_code() == 1002
    wait_until(lambda: clients(live_server) == 0, message="the wall to be unsubscribed")


def test_a_client_that_closes_gets_a_reply_and_is_cleaned_up(wall, live_server):
    wall.send_split(frame(CLOSE, (1001).to_bytes(2, "big") + b"going away"))
    assert wall.close_code() == 1001
    assert wall.hung_up()
    wait_until(lambda: clients(live_server) == 0, message="the wall to be unsubscribed")


def test_a_client_that_vanishes_is_cleaned_up(wall, live_server):
    wall.sock.close()
    wait_until(lambda: clients(live_server) == 0, message="the wall to be unsubscribed")


@pytest.mark.parametrize("app_config", [{"TWITSOCKET_PING_INTERVAL": 0.3}])
def test_a_pong_with_the_wrong_payload_does_not_count(live_server):
    honest = open_wall(f"{live_server.ws_url}/twitsocket/ws")  # answers
    honest.recv(timeout=5)  # the opening count
    liar = RawWall(live_server.port)
    wait_until(lambda: clients(live_server) == 2, message="both walls subscribed")
    try:
        for _ in range(20):  # answer every ping, each with a payload of the right size
            opcode, payload = liar.control()
            if opcode == CLOSE:
                break
            liar.sock.sendall(frame(PONG, bytes(byte ^ 0xFF for byte in payload)))
        else:
            pytest.fail("20 pings answered wrongly and still connected")
        assert int.from_bytes(payload[:2], "big") == 1008
        wait_until(lambda: clients(live_server) == 1, message="the liar to be unsubscribed")
        honest.ping().wait(5)  # the honest wall is still there
    finally:
        liar.close()
        honest.close()


def test_a_wall_holds_no_thread_of_the_gthread_worker(cli_env: dict[str, Any], database_url):
    """Two threads, eight walls: each gets its opening message, the worker still answers,
    and every wall gets a post stored afterwards (gunicorn closing its side of a finished
    request does not end the connection)."""
    prepare_database(database_url)
    server = WebServer({**cli_env, "DATABASE_URL": database_url}, threads=2)
    walls = []
    try:
        server.wait_healthy()
        for _ in range(8):
            walls.append(open_wall(server.ws_url))
            assert '"type":"count"' in walls[-1].recv(timeout=10)
        assert server.wait_healthy()["clients"] == 8
        ingestor = build_ingestor(make_app(database_url).extensions["twitsocket"])
        ingestor.ingest([RawEvent("x", json.dumps(x_post(9)))])
        for each in walls:
            while (message := json.loads(each.recv(timeout=15)))["type"] != "tweet":
                pass
            assert message["tweet"]["id"] == "9"
        walls.pop().close()
        wait_until(lambda: server.health()[1]["clients"] == 7, message="a wall to leave")
    finally:
        for each in walls:
            each.close()
        server.stop()


@pytest.mark.parametrize("app_config", [
    {},  # our own upgrade and reader
    {"SOCK_SERVER_OPTIONS": {"ping_interval": None}},  # a host's pings off: Flask-Sock's feed
], ids=["reader", "flask-sock-fallback"])
def test_a_post_reaches_the_wall_on_either_path(live_server, app):
    ingestor = build_ingestor(app.extensions["twitsocket"])
    with connect(f"{live_server.ws_url}/twitsocket/ws", open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "count"
        ingestor.ingest([RawEvent("x", json.dumps(x_post(7)))])
        while (message := json.loads(ws.recv(timeout=10)))["type"] != "tweet":
            pass
        assert message["tweet"]["id"] == "7"
