"""Helpers for the moderation tests: a logged-in console client, ingesting through the
moderation gate as the stream process does, and websocket clients of a live server."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from websockets.sync.client import ClientConnection
from ws_client import open_wall

from flask_twitsocket.pipeline import IngestStats, RawEvent
from flask_twitsocket.state import build_ingestor

PREFIX = "/twitsocket"
MODERATOR_COOKIE = "twitsocket_moderator"
PASSWORD = "correct horse battery staple"
MODERATED = {"SECRET_KEY": "test-secret", "TWITSOCKET_MODERATOR_PASSWORD": PASSWORD}


def ingest(app: Flask, *events: dict[str, Any], network: str = "x") -> IngestStats:
    """Events through the real pipeline, with the moderation gate of the stream process."""
    state = app.extensions["twitsocket"]
    return build_ingestor(state).ingest(
        [RawEvent(network, json.dumps(event)) for event in events])


def csrf_of(html: str) -> str:
    match = re.search(r'(?:data-csrf|name="csrf_token" value)="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Console:
    """A moderator's browser session, through the Flask test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def login(self, password: str = PASSWORD, address: str = "127.0.0.1",
              forwarded_for: str | None = None) -> Any:
        """Log in from ``address``, or through a proxy that forwards for ``forwarded_for``."""
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        page = self.client.get(f"{PREFIX}/moderate", environ_base={"REMOTE_ADDR": address},
                               headers=headers)
        return self.client.post(f"{PREFIX}/moderate/login",
                                data={"password": password, "csrf_token": csrf_of(page.text)},
                                environ_base={"REMOTE_ADDR": address}, headers=headers)

    def open(self) -> Console:
        answer = self.login()
        assert answer.status_code == 303, answer.text
        page = self.client.get(f"{PREFIX}/moderate")
        assert page.status_code == 200
        self.token = csrf_of(page.text)
        return self

    def act(self, action: str, target: str, status: int = 200) -> dict[str, Any]:
        answer = self.client.post(f"{PREFIX}/moderate/api/{action}", json={"target": target},
                                  headers={"X-CSRF-Token": self.token})
        assert answer.status_code == status, answer.get_json()
        return answer.get_json()

    def state(self) -> dict[str, Any]:
        answer = self.client.get(f"{PREFIX}/moderate/api/state")
        assert answer.status_code == 200
        return answer.get_json()

    def session_cookie(self) -> str:
        """The Cookie header a copy of this browser's cookies would send to the console:
        the app's session (the CSRF token) and the moderator login."""
        session = self.client.get_cookie("session")
        login = self.client.get_cookie(MODERATOR_COOKIE, path=f"{PREFIX}/moderate")
        assert session is not None and login is not None
        return f"session={session.value}; {MODERATOR_COOKIE}={login.value}"


def api_ids(client: FlaskClient) -> list[str]:
    return [post["id"] for post in client.get(f"{PREFIX}/api/tweets").get_json()["tweets"]]


def api_count(client: FlaskClient) -> int:
    return client.get(f"{PREFIX}/api/tweets").get_json()["count"]


class Listener:
    """A websocket client that keeps every message it receives (bounded waits only)."""

    def __init__(self, url: str, **options: Any) -> None:
        self.ws: ClientConnection = open_wall(url, **options)
        self.messages: list[dict[str, Any]] = []

    def next(self, timeout: float = 15.0) -> dict[str, Any]:
        message = json.loads(self.ws.recv(timeout=timeout))
        self.messages.append(message)
        return message

    def wait_for(self, predicate, timeout: float = 15.0) -> dict[str, Any]:
        """The first message (already received or new) that satisfies ``predicate``."""
        for message in self.messages:
            if predicate(message):
                return message
        while True:
            message = self.next(timeout)
            if predicate(message):
                return message

    def types(self) -> list[str]:
        return [message["type"] for message in self.messages]

    def close(self) -> None:
        self.ws.close()
