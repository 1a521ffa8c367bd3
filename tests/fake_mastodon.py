"""A fake Mastodon instance on 127.0.0.1: REST (instance, hashtag timeline) and SSE streaming.

It speaks the real wire format: ``/api/v2/instance`` names a SEPARATE streaming host (as
big instances do), the stream is chunked ``text/event-stream`` opening with ``:)`` and
sending ``:thump`` heartbeats, events are ``update`` / ``status.update`` (JSON) and
``delete`` (a bare id), the timeline pages with ``min_id``/``since_id`` and sends the
``X-RateLimit-*`` headers. Tests drive it: ``post`` (optionally only to the timeline, as if
posted while the client was disconnected), ``edit``, ``delete``, ``send_raw``, ``drop``.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DOMAIN = "wall.example"
_DROP = object()


def serve_http(handler: type[BaseHTTPRequestHandler], owner: Any) -> ThreadingHTTPServer:
    """Start a threaded HTTP/1.1 server on an ephemeral port; ``handler.owner`` is the fake."""
    handler_class = type(handler.__name__, (handler,), {"owner": owner})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: Any = None

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def query(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        return unquote(parts.path), parse_qs(parts.query)

    def send_json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None,
                  ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class FakeMastodon:
    def __init__(self, token: str = "secret-token", heartbeat: float = 0.5) -> None:
        self.token = token
        self.heartbeat = heartbeat
        self.statuses: list[dict[str, Any]] = []
        self.streams: list[tuple[str, queue.Queue]] = []
        self.stream_connections = 0
        self.timeline_requests: list[dict[str, list[str]]] = []
        self.accept_streams = True
        self.rate_limited_once = False
        self.lock = threading.Lock()
        self.ids = itertools.count(110_000_000_000_000_001)
        self.api = serve_http(_ApiHandler, self)
        self.streaming = serve_http(_StreamingHandler, self)
        self.url = f"http://127.0.0.1:{self.api.server_port}"
        self.streaming_url = f"ws://127.0.0.1:{self.streaming.server_port}"

    def close(self) -> None:
        self.drop()
        for server in (self.api, self.streaming):
            server.shutdown()
            server.server_close()

    # --- building statuses ----------------------------------------------------------------

    def status(self, content: str, acct: str = "alice", tag: str = "devconf26",
               name: str = "Alice", **extra: Any) -> dict[str, Any]:
        status_id = str(next(self.ids))
        username, _, domain = acct.partition("@")
        home = domain or DOMAIN
        return {
            "id": status_id,
            "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "uri": f"https://{home}/users/{username}/statuses/{status_id}",
            "url": f"https://{home}/@{username}/{status_id}",
            "content": content,
            "spoiler_text": "",
            "visibility": "public",
            "reblog": None,
            "edited_at": None,
            "reblogs_count": 0,
            "tags": [{"name": tag, "url": f"https://{DOMAIN}/tags/{tag}"}],
            "mentions": [],
            "account": {
                "id": str(abs(hash(acct)) % 10**9), "username": username, "acct": acct,
                "display_name": name, "url": f"https://{home}/@{username}",
                "avatar": f"https://{home}/avatars/{username}.png",
                "avatar_static": f"https://{home}/avatars/{username}.png",
            },
            **extra,
        }

    # --- driving it -------------------------------------------------------------------------

    def post(self, status: dict[str, Any], stream: bool = True) -> dict[str, Any]:
        with self.lock:
            self.statuses.append(status)
        if stream:
            self._push(status["tags"][0]["name"], "update", json.dumps(status))
        return status

    def edit(self, status: dict[str, Any]) -> None:
        status = dict(status, edited_at=datetime.now(timezone.utc).isoformat())
        with self.lock:
            self.statuses = [status if s["id"] == status["id"] else s for s in self.statuses]
        self._push(status["tags"][0]["name"], "status.update", json.dumps(status))

    def delete(self, status: dict[str, Any]) -> None:
        with self.lock:
            self.statuses = [s for s in self.statuses if s["id"] != status["id"]]
        self._push(status["tags"][0]["name"], "delete", status["id"])

    def send_raw(self, tag: str, text: str) -> None:
        """Anything at all, written to the stream as it is (malformed events)."""
        self._send(tag, text)

    def drop(self) -> None:
        """Cut every open stream (the client sees the connection break mid-stream)."""
        with self.lock:
            streams = list(self.streams)
        for _tag, stream in streams:
            stream.put(_DROP)

    def connected(self) -> int:
        with self.lock:
            return len(self.streams)

    def _push(self, tag: str, event: str, data: str) -> None:
        self._send(tag, f"event: {event}\ndata: {data}\n\n")

    def _send(self, tag: str, text: str) -> None:
        with self.lock:
            streams = [stream for name, stream in self.streams if name.lower() == tag.lower()]
        for stream in streams:
            stream.put(text)

    def timeline(self, tag: str, params: dict[str, list[str]]) -> list[dict[str, Any]]:
        def key(status_id: str) -> tuple[int, str]:
            return (len(status_id), status_id)

        limit = min(int(params.get("limit", ["20"])[0]), 40)
        with self.lock:
            found = [s for s in self.statuses
                     if any(t["name"].lower() == tag.lower() for t in s["tags"])]
        found.sort(key=lambda s: key(s["id"]))
        if "min_id" in params:  # the page just after min_id, newest first
            found = [s for s in found if key(s["id"]) > key(params["min_id"][0])][:limit]
        else:
            if "since_id" in params:
                found = [s for s in found if key(s["id"]) > key(params["since_id"][0])]
            found = found[-limit:]
        return found[::-1]


class _ApiHandler(JsonHandler):
    owner: FakeMastodon

    def do_GET(self) -> None:  # noqa: N802
        path, params = self.query()
        fake = self.owner
        if path == "/api/v2/instance":
            self.send_json({"domain": DOMAIN, "title": "Fake",
                            "configuration": {"urls": {"streaming": fake.streaming_url}}})
        elif path.startswith("/api/v1/timelines/tag/"):
            fake.timeline_requests.append(params)
            remaining, reset = "299", datetime.now(timezone.utc) + timedelta(minutes=5)
            if fake.rate_limited_once:
                fake.rate_limited_once = False
                remaining, reset = "0", datetime.now(timezone.utc) + timedelta(seconds=1)
            self.send_json(fake.timeline(path.rsplit("/", 1)[1], params), headers={
                "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": remaining,
                "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")})
        else:
            self.send_json({"error": "Not found"}, 404)


class _StreamingHandler(JsonHandler):
    owner: FakeMastodon

    def do_GET(self) -> None:  # noqa: N802
        path, params = self.query()
        fake = self.owner
        if path != "/api/v1/streaming/hashtag" or "tag" not in params:
            self.send_json({"error": "Unknown stream type"}, 400)
            return
        if self.headers.get("Authorization") != f"Bearer {fake.token}":
            self.send_json({"error": "Error while trying to authenticate"}, 401)
            return
        if not fake.accept_streams:
            self.send_json({"error": "Service unavailable"}, 503)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        stream: queue.Queue = queue.Queue()
        entry = (params["tag"][0], stream)
        with fake.lock:
            fake.streams.append(entry)
            fake.stream_connections += 1
        try:
            self._chunk(":)\n")
            while True:
                try:
                    item = stream.get(timeout=fake.heartbeat)
                except queue.Empty:
                    item = ":thump\n"
                if item is _DROP:
                    break
                self._chunk(item)
        except OSError:
            pass
        finally:
            with fake.lock:
                fake.streams.remove(entry)
            self.close_connection = True

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
