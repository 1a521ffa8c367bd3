"""What every broker bus must do, run against the real Redis and the real PostgreSQL.

``test_bus_redis.py`` and ``test_bus_postgres.py`` import everything here (``__all__``)
and make three fixtures with :func:`broker_fixtures`: ``broker_url`` (the live broker),
``dead_broker_url`` (nothing listens there) and ``kill_subscriptions`` (cuts every wall
worker's subscription, returns how many).

The safety poll is set to a minute, longer than any wait here: a post that arrives did
so through a hint or a reconnect's catch-up, not by polling.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import free_port, wait_until, write_jsonl, x_post
from scaleout import Wall

from flask_twitsocket.bus import Bus, create_bus
from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor

__all__ = [
    "app_config", "channel", "walls", "writer",
    "test_hints_wake_the_walls", "test_a_cut_subscription_is_restored_and_nothing_is_lost",
    "test_connected_follows_the_subscription",
    "test_health_reports_the_bus_but_its_outage_alone_keeps_the_worker_ready",
    "test_the_stream_keeps_storing_while_the_broker_is_down",
]


def broker_fixtures(service: str, dead_url: str, kill: Callable[[str], int]) -> tuple:
    """The three per-broker fixtures: ``service`` is conftest's fixture for the live
    broker, ``dead_url`` has ``{port}`` where a closed port goes, ``kill(url)`` cuts."""

    @pytest.fixture
    def broker_url(request) -> str:
        return request.getfixturevalue(service)

    @pytest.fixture
    def dead_broker_url() -> str:
        return dead_url.replace("{port}", str(free_port()))

    @pytest.fixture
    def kill_subscriptions(broker_url: str) -> Callable[[], int]:
        return lambda: kill(broker_url)

    return broker_url, dead_broker_url, kill_subscriptions


@pytest.fixture
def channel() -> str:
    return f"test_{uuid.uuid4().hex[:12]}"  # tests sharing a broker never hear each other


@pytest.fixture
def app_config(broker_url: str, channel: str) -> dict[str, Any]:
    return {"TWITSOCKET_BROKER_URL": broker_url, "TWITSOCKET_BROKER_CHANNEL": channel,
            "TWITSOCKET_BUS_SAFETY_INTERVAL": 60, "TWITSOCKET_BACKOFF_SCALE": 0.1}


@pytest.fixture
def writer(app) -> Iterator[Callable[..., None]]:
    """Store posts the way the stream process does, hint included."""
    state = app.extensions["twitsocket"]
    bus = create_bus(state.settings, state.engine)
    ingestor = build_ingestor(state, bus)

    def store(*posts: dict[str, Any]) -> None:
        ingestor.ingest([RawEvent("x", json.dumps(post)) for post in posts])

    yield store
    bus.close()


@pytest.fixture
def walls(live_server) -> Iterator[Callable[[], Wall]]:
    opened: list[Wall] = []

    def open_wall() -> Wall:
        wall = Wall(f"{live_server.ws_url}/twitsocket/ws")
        opened.append(wall)
        return wall

    yield open_wall
    for wall in opened:
        wall.close()


def ids(first: int, last: int) -> list[str]:
    return [str(i) for i in range(first, last + 1)]


def test_hints_wake_the_walls(walls, writer):
    wall = walls()
    writer(*[x_post(i) for i in range(1, 4)])
    wait_until(lambda: wall.tweets() == ids(1, 3), message="posts through the broker")


def test_a_cut_subscription_is_restored_and_nothing_is_lost(
        walls, writer, kill_subscriptions, live_server):
    wall = walls()
    writer(x_post(1))
    wait_until(lambda: wall.tweets() == ["1"], message="the first post")
    assert kill_subscriptions() >= 1
    writer(x_post(2), x_post(3))  # maybe while the worker is still reconnecting
    writer(x_post(4))
    wait_until(lambda: len(wall.tweets()) >= 4, message="the posts after the cut")
    health = live_server.get_json("/twitsocket/health")
    assert health["bus"]["connected"] is True
    wall.close()
    assert wall.tweets() == ids(1, 4)  # once each, in order


def test_connected_follows_the_subscription(app, kill_subscriptions):
    bus: Bus = create_bus(app.extensions["twitsocket"].settings)
    try:
        assert bus.connected is False  # nothing subscribed yet
        assert bus.wait(5) is True  # subscribed: the hub must read the journal now
        assert bus.connected is True
        assert kill_subscriptions() >= 1
        assert bus.wait(30) is True  # the cut is noticed: catch up from the journal
        assert bus.connected is False
        wait_until(lambda: bus.wait(1) and bus.connected, message="the bus to reconnect")
    finally:
        bus.close()
    assert bus.connected is False


def test_health_reports_the_bus_but_its_outage_alone_keeps_the_worker_ready(
        live_server, walls, writer, dead_broker_url, database_url):
    """Issue #11: a broker outage used to fail every worker's /health at once although the
    journal still delivered every post; now it is reported, and the worker stays ready."""
    from conftest import LiveServer, make_app

    wall = walls()
    health = live_server.get_json("/twitsocket/health")
    assert health["status"] == "ok" and health["bus"]["connected"] is True
    assert health["clients"] == 1 and health["database"]["connected"] is True
    assert isinstance(health["pid"], int)
    wall.close()

    broken = LiveServer(make_app(database_url, TWITSOCKET_BROKER_URL=dead_broker_url,
                                 TWITSOCKET_BUS_SAFETY_INTERVAL=0.2))
    broken.thread.start()
    try:
        cut_off = Wall(f"{broken.ws_url}/twitsocket/ws")
        writer(x_post(1))  # reaches the cut-off worker through the journal alone
        wait_until(lambda: cut_off.tweets() == ["1"], message="the post without a bus")
        cut_off.close()
        body = broken.get_json("/twitsocket/health")  # 200, or this raises
        assert body["status"] == "ok" and body["bus"]["connected"] is False
        assert body["database"]["connected"] is True and body["hub"]["stalled"] is False
    finally:
        broken.server.shutdown()
        broken.app.extensions["twitsocket"].hub.stop()


def test_the_stream_keeps_storing_while_the_broker_is_down(
        live_server, start_cli, tmp_path, dead_broker_url, app):
    """No broker at all: the stream stores everything, and walls get it by polling."""
    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(i) for i in range(1, 6)])
    stream = start_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "50",
        "TWITSOCKET_BROKER_URL": dead_broker_url})
    wait_until(lambda: live_server.get_json("/twitsocket/api/tweets")["count"] == 5,
               timeout=30, message="the stream to store every post")
    # still running, or finished the recording cleanly: not crashed by the dead broker
    assert stream.poll() in (None, 0)
