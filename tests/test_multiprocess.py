"""The deployed shape: one stream process, two web servers (gunicorn, two workers each) on
two ports, walls on each — every wall shows every post exactly once, with Redis and with
PostgreSQL NOTIFY as the bus, even when the bus connections are cut mid-run."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from conftest import wait_until, write_jsonl, x_post
from scaleout import (
    Wall,
    WebServer,
    assert_every_wall_got_every_post_once,
    kill_postgres_listeners,
    kill_redis_subscriptions,
    prepare_database,
)

POSTS = 60


@dataclass
class Deployment:
    env: dict[str, str]
    kill_bus: Callable[[], int]


@pytest.fixture(params=["redis", "postgresql"])
def deployment(request, cli_env, database_url) -> Deployment:
    if request.param == "redis":
        broker = request.getfixturevalue("redis_url")
        database, kill = database_url, lambda: kill_redis_subscriptions(broker)
    else:  # NOTIFY only makes sense with PostgreSQL as the wall's database
        broker = database = request.getfixturevalue("postgres_url")
        kill = lambda: kill_postgres_listeners(broker)  # noqa: E731
    prepare_database(database)
    env = {**cli_env, "DATABASE_URL": database, "TWITSOCKET_BROKER_URL": broker,
           "TWITSOCKET_BROKER_CHANNEL": f"test_{uuid.uuid4().hex[:12]}",
           # longer than the test: posts must come by hints and reconnect catch-up
           "TWITSOCKET_BUS_SAFETY_INTERVAL": "300", "TWITSOCKET_BACKOFF_SCALE": "0.2"}
    return Deployment(env, kill)


@pytest.fixture
def servers(deployment: Deployment) -> Iterator[list[WebServer]]:
    started = [WebServer(deployment.env, workers=2) for _ in range(2)]
    try:
        for server in started:
            server.wait_healthy()
        yield started
    finally:
        for server in started:
            server.stop()


def test_every_wall_on_every_worker_gets_every_post_once_across_bus_cuts(
        deployment, servers, start_cli, tmp_path):
    walls = [Wall(server.ws_url) for server in servers for _ in range(4)]
    pids = {server.health()[1]["pid"] for server in servers}
    assert len(pids) == 2  # two separate web processes answer
    recording = write_jsonl(tmp_path / "r.jsonl",
                            [x_post(i, text=f"post {i}") for i in range(1, POSTS + 1)])
    start_cli("stream", "--source", "replay", env={
        **deployment.env, "TWITSOCKET_REPLAY_FILE": str(recording),
        "TWITSOCKET_REPLAY_RATE": "30"})

    wait_until(lambda: all(len(w.tweets()) >= 10 for w in walls), timeout=60,
               message="the first posts on every wall")
    assert deployment.kill_bus() >= 2  # at least one subscribed worker per server
    wait_until(lambda: all(len(w.tweets()) >= 30 for w in walls), timeout=60,
               message="posts after the first cut")
    assert deployment.kill_bus() >= 2  # and once more, while posts keep coming

    expected = [str(i) for i in range(1, POSTS + 1)]
    assert_every_wall_got_every_post_once(walls, expected)
    for server in servers:
        status, health = server.health()
        assert status == 200 and health["bus"]["connected"] is True


def test_the_shipped_gevent_config_serves_every_post_to_every_wall(
        cli_env, database_url, start_cli, tmp_path):
    """``deploy/gunicorn.conf.py`` as the systemd unit runs it (gevent, two workers), on
    the default bus: the hub as a greenlet, every wall's writes through gevent sockets."""
    prepare_database(database_url)
    server = WebServer({**cli_env, "TWITSOCKET_POLL_INTERVAL": "0.1"}, workers=2,
                       deployed_config=True)
    try:
        server.wait_healthy()
        walls = [Wall(server.ws_url) for _ in range(6)]
        recording = write_jsonl(tmp_path / "r.jsonl",
                                [x_post(i, text=f"post {i}") for i in range(1, POSTS + 1)])
        start_cli("stream", "--source", "replay", env={
            "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "60"})
        assert_every_wall_got_every_post_once(walls, [str(i) for i in range(1, POSTS + 1)])
        assert server.health()[1]["status"] == "ok"
    finally:
        server.stop()
