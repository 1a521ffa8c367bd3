"""Helpers for the scale-out tests: real web servers in their own processes, websocket
clients that record everything they receive, and ways to cut a worker's bus connection."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import Any

from conftest import ROOT, free_port, make_app, wait_until
from websockets.sync.client import connect


class WebServer:
    """``gunicorn demo_app:create_app()`` on its own port: a web process, as deployed."""

    def __init__(self, env: dict[str, str], workers: int = 1, threads: int = 50,
                 deployed_config: bool = False) -> None:
        """gthread with ``threads``, or with ``deployed_config`` the shipped
        ``deploy/gunicorn.conf.py`` (gevent) exactly as the systemd unit runs it."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/twitsocket/ws"
        bind = f"127.0.0.1:{self.port}"
        if deployed_config:
            options = ["-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
            env = {**env, "GUNICORN_BIND": bind, "GUNICORN_WORKERS": str(workers),
                   "GUNICORN_ACCESSLOG": "", "GUNICORN_LOGLEVEL": "warning"}
        else:
            options = ["--worker-class", "gthread", "--threads", str(threads), "--workers",
                       str(workers), "--bind", bind, "--log-level", "warning"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *options, "demo_app:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    def health(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.url + "/twitsocket/health", timeout=10) as reply:
                return reply.status, json.loads(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_healthy(self) -> dict[str, Any]:
        def healthy() -> dict[str, Any] | None:
            assert self.process.poll() is None, self.process.stdout.read()
            try:
                status, body = self.health()
            except OSError:
                return None
            return body if status == 200 else None

        return wait_until(healthy, timeout=30, message=f"{self.url} to be healthy")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Wall:
    """One browser's websocket: a thread records every message until closed."""

    def __init__(self, ws_url: str) -> None:
        self._closing = contextlib.ExitStack()
        self.ws = self._closing.enter_context(connect(ws_url, open_timeout=10))
        self.messages: list[dict[str, Any]] = []
        self.first = json.loads(self.ws.recv(timeout=10))  # the count on connect
        self.thread = threading.Thread(target=self._record, daemon=True)
        self.thread.start()

    def _record(self) -> None:
        try:
            for text in self.ws:
                self.messages.append(json.loads(text))
        except Exception:  # noqa: BLE001 - the test closed it, or it failed: seen below
            return

    def tweets(self) -> list[str]:
        return [m["tweet"]["id"] for m in list(self.messages) if m["type"] == "tweet"]

    def close(self) -> None:
        self._closing.close()
        self.thread.join(timeout=5)


def assert_every_wall_got_every_post_once(walls: list[Wall], expected: list[str]) -> None:
    for wall in walls:
        wait_until(lambda wall=wall: len(wall.tweets()) >= len(expected), timeout=60,
                   message=f"{len(expected)} posts on every wall")
    for wall in walls:
        wall.close()
    for wall in walls:
        assert sorted(wall.tweets(), key=int) == expected  # each post once, none extra
        assert wall.tweets() == expected  # and in the order they were stored


def kill_redis_subscriptions(redis_url: str) -> int:
    """Cut every wall worker's subscription, as a Redis restart or failover would."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        ids = [c["id"] for c in client.client_list(_type="pubsub")
               if c.get("name", "").startswith("twitsocket-sub-")]
        for client_id in ids:
            client.client_kill_filter(_id=client_id)
        return len(ids)
    finally:
        client.close()


def kill_postgres_listeners(postgres_url: str) -> int:
    """Terminate every wall worker's LISTEN connection, as a database failover would."""
    import psycopg

    from flask_twitsocket.bus.postgres import libpq_url

    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name LIKE 'twitsocket-listen-%%' "
            "AND datname = current_database()").fetchall()
    return len(rows)


def prepare_database(url: str) -> None:
    """Empty tables for a deployment test (a shared PostgreSQL keeps earlier rows)."""
    app = make_app(url)
    state = app.extensions["twitsocket"]
    if not url.startswith("sqlite"):
        from flask_twitsocket.models import metadata

        metadata.drop_all(state.engine)
    state.create_tables()
    state.engine.dispose()
