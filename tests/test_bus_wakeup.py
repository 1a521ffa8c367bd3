"""The live default (issue #18): with no broker configured, the wall's own database wakes
the walls — an SQLite file's change counter, PostgreSQL's LISTEN/NOTIFY — and every post
still reaches every wall exactly once, in order, when a wake-up is lost, when the stream
process restarts and when a web worker restarts.

The deployed shape runs here: ``deploy/gunicorn.conf.py`` (gevent) as a separate process,
the ``stream`` command as another. The safety poll is set longer than any test, so a post
that arrives came through a wake-up or a reconnect's catch-up, not the safety net. These
run on SQLite, and on PostgreSQL in the PostgreSQL round of ``make test``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import make_app, wait_until, write_jsonl, x_post
from scaleout import (
    Wall,
    WebServer,
    assert_every_wall_got_every_post_once,
    kill_postgres_listeners,
    prepare_database,
)

from flask_twitsocket.bus import create_bus

NO_SAFETY_POLL = {"TWITSOCKET_BUS_SAFETY_INTERVAL": "300", "TWITSOCKET_BACKOFF_SCALE": "0.2"}


def ids(first: int, last: int) -> list[str]:
    return [str(i) for i in range(first, last + 1)]


@pytest.fixture
def serve(cli_env, database_url) -> Iterator[Callable[..., WebServer]]:
    """Start the shipped gevent deployment with no broker (``serve(workers, **env)``)."""
    prepare_database(database_url)
    started: list[WebServer] = []

    def start(workers: int = 1, **env: str) -> WebServer:
        server = WebServer({**cli_env, **NO_SAFETY_POLL, **env}, workers=workers,
                           deployed_config=True)
        started.append(server)
        server.wait_healthy()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def stream(start_cli, tmp_path) -> Callable[..., object]:
    """Replay posts ``first``..``last`` through a new stream process."""
    def replay(first: int, last: int, rate: int = 40, **env: str):
        recording = write_jsonl(tmp_path / f"posts-{first}-{last}.jsonl",
                                [x_post(i, text=f"post {i}") for i in ids(first, last)])
        return start_cli("stream", "--source", "replay", env={
            **NO_SAFETY_POLL, **env, "TWITSOCKET_REPLAY_FILE": str(recording),
            "TWITSOCKET_REPLAY_RATE": str(rate)})

    return replay


def test_with_no_broker_the_database_wakes_the_walls(serve, stream, database_url):
    server = serve()
    expected = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    assert server.health()[1]["bus"] == {"name": expected, "connected": True}
    walls = [Wall(server.ws_url) for _ in range(3)]
    stream(1, 20)
    assert_every_wall_got_every_post_once(walls, ids(1, 20))


def test_a_lost_wake_up_loses_no_post(serve, stream, database_url):
    """SQLite: the counter is checked only every half second, so dozens of commits make
    one wake-up; PostgreSQL: every listener is cut twice while posts keep coming."""
    server = serve(TWITSOCKET_CHANGE_CHECK_INTERVAL="0.5")
    walls = [Wall(server.ws_url) for _ in range(3)]
    stream(1, 60, rate=60)
    on_postgres = not database_url.startswith("sqlite")
    for seen in (10, 30):
        wait_until(lambda seen=seen: all(len(w.tweets()) >= seen for w in walls),
                   timeout=60, message=f"{seen} posts on every wall")
        if on_postgres:  # once the listener is back from the last cut (it backs off)
            wait_until(lambda: kill_postgres_listeners(database_url) >= 1, timeout=30,
                       message="a listener to cut")
    assert_every_wall_got_every_post_once(walls, ids(1, 60))


def test_a_restarted_stream_process_still_wakes_the_walls(serve, stream):
    server = serve()
    walls = [Wall(server.ws_url) for _ in range(3)]
    first = stream(1, 20)
    wait_until(lambda: all(len(w.tweets()) >= 20 for w in walls), timeout=60,
               message="the first stream's posts")
    first.terminate()
    first.wait(timeout=20)
    stream(21, 40)  # a new process: a new connection to the database, a new notifier
    assert_every_wall_got_every_post_once(walls, ids(1, 40))


def test_a_restarted_worker_delivers_every_later_post_once(serve, stream):
    """A worker killed mid-stream is replaced by gunicorn; walls on the other worker keep
    every post, and walls that connect to the new worker get every later post once."""
    server = serve(workers=2)
    walls = [Wall(server.ws_url) for _ in range(8)]
    stream(1, 10, rate=20)
    wait_until(lambda: all(len(w.tweets()) >= 10 for w in walls), timeout=60,
               message="the first posts")
    victim = server.health()[1]["pid"]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: server.health()[1]["pid"] != victim, timeout=30,
               message="another worker to answer")
    # A wall on the killed worker may not have noticed yet: only a pong proves a wall is
    # still served (by the other worker).
    survivors = [w for w in walls if answers_ping(w)]
    pids = set()
    wait_until(lambda: pids.add(server.health()[1]["pid"]) or len(pids) == 2, timeout=30,
               message="both workers (one of them new) to answer")
    assert victim not in pids
    late = [Wall(server.ws_url) for _ in range(8)]
    stream(11, 30, rate=20)
    assert_every_wall_got_every_post_once(late, ids(11, 30))
    assert_every_wall_got_every_post_once(survivors, ids(1, 30))


def answers_ping(wall: Wall) -> bool:
    try:
        return wall.ws.ping().wait(timeout=5)
    except Exception:  # noqa: BLE001 - closed: the wall was on the killed worker
        return False


def test_the_sqlite_bus_wakes_on_another_connections_commit(tmp_path: Path):
    """The counter moves for commits made elsewhere, not by merely waiting."""
    database = tmp_path / "wall.sqlite3"
    app = make_app(f"sqlite:///{database}", TWITSOCKET_BUS_SAFETY_INTERVAL=300)
    state = app.extensions["twitsocket"]
    state.create_tables()
    bus = create_bus(state.settings, state.engine)
    try:
        assert bus.name == "sqlite"
        assert bus.wait(0.05) is False  # nothing happened
        with sqlite3.connect(database) as other:
            other.execute("CREATE TABLE elsewhere (x)")
        assert bus.wait(5) is True
        assert bus.wait(0.05) is False  # one commit, one wake-up
    finally:
        bus.close()
        state.engine.dispose()


def test_a_failed_check_means_read_the_journal_and_the_bus_recovers(tmp_path: Path):
    """A file that cannot be opened (a missing directory here) is reported, counts as a
    change (the hub reads the journal, which says what the database says), and the bus
    works again once the file is back."""
    database = tmp_path / "not-yet" / "wall.sqlite3"
    app = make_app(f"sqlite:///{database}", TWITSOCKET_BUS_SAFETY_INTERVAL=300)
    state = app.extensions["twitsocket"]
    bus = create_bus(state.settings, state.engine)
    try:
        assert bus.wait(1) is True
        assert bus.connected is False
        database.parent.mkdir()
        state.create_tables()
        assert bus.wait(0.05) is False  # the counter is read again: nothing new since
        assert bus.connected is True
        with sqlite3.connect(database) as other:
            other.execute("CREATE TABLE elsewhere (x)")
        assert bus.wait(5) is True
    finally:
        bus.close()
        state.engine.dispose()


def test_an_in_memory_database_falls_back_to_polling():
    app = make_app("sqlite://")
    state = app.extensions["twitsocket"]
    assert create_bus(state.settings, state.engine).name == "database"
