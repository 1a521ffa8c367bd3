"""The demo's web server, sized as shipped: with every wall slot taken — by several
clients, or by one client trying to take them all — the page and the API still answer."""

from __future__ import annotations

import socket
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest
from conftest import ROOT, free_port, fresh_app, wait_until
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import ClientConnection
from ws_client import open_wall

from demo_app.__main__ import THREADS, WALL_SLOTS, web_server_command

PER_ADDRESS = 50  # the code's default TWITSOCKET_MAX_CLIENTS_PER_ADDRESS


@pytest.fixture
def demo_server(cli_env: dict[str, str], database_url: str) -> Iterator[str]:
    fresh_app(database_url).extensions["twitsocket"].engine.dispose()
    port = free_port()
    env = {**cli_env, "TWITSOCKET_MAX_CLIENTS": str(WALL_SLOTS)}  # as `python -m demo_app`
    process = subprocess.Popen(web_server_command(f"127.0.0.1:{port}"), cwd=ROOT, env=env,
                               start_new_session=True)
    url = f"127.0.0.1:{port}"
    wait_until(lambda: answers(f"http://{url}/twitsocket/health/live"), timeout=30,
               message="the demo's gunicorn to answer")
    yield url
    process.terminate()  # gunicorn waits for its open walls up to its graceful timeout
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status == 200
    except OSError:
        return False


def wall(url: str, address: str) -> ClientConnection | None:
    """A wall opened from ``address`` (any 127.x.y.z is this machine), or None if refused."""
    host, port = url.split(":")
    sock = socket.create_connection((host, int(port)), timeout=10, source_address=(address, 0))
    ws = open_wall(f"ws://{url}/twitsocket/ws", sock=sock)
    try:
        ws.recv(timeout=10)  # the opening count: admitted
    except ConnectionClosedError as refused:
        assert refused.rcvd is not None and refused.rcvd.code == 1013
        return None
    return ws


def test_the_demo_keeps_threads_for_the_page_when_its_wall_slots_are_full(demo_server):
    assert WALL_SLOTS < THREADS  # the sizing under test
    walls: list[ClientConnection] = []
    try:
        # one greedy client tries to take every slot: it gets its share and no more
        greedy = [wall(demo_server, "127.0.0.2") for _ in range(PER_ADDRESS + 5)]
        assert sum(ws is not None for ws in greedy) == PER_ADDRESS
        walls += [ws for ws in greedy if ws is not None]
        # ordinary visitors fill the rest of the worker
        for index in range(WALL_SLOTS - PER_ADDRESS):
            ws = wall(demo_server, f"127.0.1.{index % 200 + 1}")
            assert ws is not None, f"wall {index} refused before the worker was full"
            walls.append(ws)
        assert wall(demo_server, "127.0.2.1") is None  # full: 1013, try again
        # the page, the API and the health check still answer
        for path in ("/", "/twitsocket/api/tweets", "/twitsocket/health"):
            assert answers(f"http://{demo_server}{path}"), path
    finally:
        for ws in walls:
            ws.close()
