"""Shared fixtures: apps on a real database, a real HTTP/websocket server, real services.

* ``app`` — a Flask app with the extension, on a fresh SQLite file, or on PostgreSQL when
  ``TWITSOCKET_TEST_DATABASE_URL`` names one (its tables are dropped and recreated).
* ``live_server`` — the same app served by a threaded werkzeug server on 127.0.0.1.
* ``run_cli`` — runs ``flask --app demo_app twitsocket …`` as a separate process, as an
  operator would, against the same database.
* ``redis_url`` / ``postgres_url`` — the real services; a newcomer without them gets a
  skip with the reason, CI (``CI=true``) gets a failure.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_jetstream import FakeJetstream
from fake_mastodon import FakeMastodon
from flask import Flask
from werkzeug.serving import make_server

from flask_twitsocket import TwitSocket

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEST_DATABASE_URL = os.environ.get("TWITSOCKET_TEST_DATABASE_URL")


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05,
               message: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def need_service(name: str, host: str, port: int) -> None:
    """Skip (newcomer) or fail (CI) when a real service is not reachable."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return
    except OSError as error:
        reason = f"{name} is not reachable at {host}:{port} ({error})"
    if IN_CI:
        pytest.fail(f"{reason}; CI must provide it (.ci/run starts it)")
    pytest.skip(f"{reason}; start it to run this test")


@pytest.fixture
def redis_url() -> str:
    need_service("Redis", "127.0.0.1", 6379)
    return "redis://127.0.0.1:6379/0"


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL round's database when it is PostgreSQL, else the machine's ``test``."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    if TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"):
        return TEST_DATABASE_URL
    return "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    """A fake Mastodon instance on 127.0.0.1 (REST and the streaming API's SSE)."""
    fake = FakeMastodon()
    yield fake
    fake.close()


@pytest.fixture
def jetstream() -> Iterator[FakeJetstream]:
    """A fake Bluesky Jetstream on 127.0.0.1 (the real websocket wire format)."""
    fake = FakeJetstream()
    yield fake
    fake.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path / 'wall.sqlite3'}"


def make_app(database_url: str, **config: Any) -> Flask:
    app = Flask("wall_under_test")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, TESTING=True, **config)
    TwitSocket(app)
    return app


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module (or parametrize) to configure the ``app`` fixture."""
    return {}


def fresh_app(database_url: str, **config: Any) -> Flask:
    """:func:`make_app` on empty tables: a shared PostgreSQL test database keeps the rows of
    earlier tests, so its tables are dropped and created again (SQLite files are new)."""
    app = make_app(database_url, **config)
    state = app.extensions["twitsocket"]
    if not database_url.startswith("sqlite"):
        from flask_twitsocket.models import metadata

        metadata.drop_all(state.engine)
    state.create_tables()
    return app


@pytest.fixture
def app(database_url: str, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = fresh_app(database_url, **app_config)
    state = app.extensions["twitsocket"]
    yield app
    state.hub.stop()
    state.engine.dispose()


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def get_json(self, path: str) -> Any:
        import urllib.request

        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.thread.start()
    yield server
    server.server.shutdown()


@pytest.fixture
def cli_env(database_url: str) -> dict[str, str]:
    """Environment for ``flask --app demo_app …`` processes sharing the test database."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("TWITSOCKET_")}
    env.update(DATABASE_URL=database_url, PYTHONUNBUFFERED="1",
               TWITSOCKET_BANNED_USERS="", TWITSOCKET_REPLAY_LOOP="false",
               TWITSOCKET_TRACK_KEYWORDS="", TWITSOCKET_REPLAY_FRESH_IDS="false")
    return env


@pytest.fixture
def run_cli(cli_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess]:
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
            ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "demo_app", "twitsocket", *args],
            cwd=ROOT, env={**cli_env, **(env or {})}, capture_output=True, text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture
def start_cli(cli_env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a long-running CLI command (``stream``); stopped with SIGTERM at teardown."""
    processes: list[subprocess.Popen] = []

    def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "demo_app", "twitsocket", *args],
            cwd=ROOT, env={**cli_env, **(env or {})}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def write_jsonl(path: Path, events: list[Any]) -> Path:
    """Write a replay file; str items are written as they are (to test malformed lines)."""
    with path.open("w", encoding="utf-8") as out:
        for event in events:
            out.write((event if isinstance(event, str) else json.dumps(event)) + "\n")
    return path


def x_post(post_id: str | int, text: str = "Hello #devconf26", username: str = "alice",
           user_id: str = "42", name: str = "Alice", **data: Any) -> dict[str, Any]:
    """A minimal X API v2 stream event."""
    return {
        "data": {"id": str(post_id), "text": text, "author_id": user_id,
                 "created_at": "2026-11-28T10:00:00.000Z", **data},
        "includes": {"users": [{"id": user_id, "username": username, "name": name,
                                "profile_image_url": "https://img.example/a.jpg"}]},
    }


sys.path.insert(0, str(ROOT))  # demo_app and the tests' helper modules import from the root
