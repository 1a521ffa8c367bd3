"""A local stand-in for the X API v2, speaking its wire format, with scripted faults.

* ``GET /2/tweets/search/stream`` — HTTP/1.1 chunked, one ``\\r\\n``-terminated JSON line
  per post, ``\\r\\n`` keep-alives. Each connection plays the next entry of ``script``:
  an int is an HTTP status answered instead of streaming (429, 503…); a list of steps is
  streamed: ``("post", event)``, ``("raw", bytes)``, ``("keepalive",)``, ``("stall", s)``,
  ``("disconnect",)`` (drops the socket in the middle of a chunk), ``("error_object", obj)``.
  When the script is exhausted a connection sends keep-alives until the client leaves,
  and the posts handed to ``deliver`` meanwhile (on the open connection, as X does).
* ``GET/POST /2/tweets/search/stream/rules`` — rules with ids and tags; a rule containing
  ``INVALID`` is rejected in an ``errors`` array, as X does.
* ``POST /2/lists/<id>/members`` — OAuth 1.0a only; 429 with ``x-rate-limit-reset`` on the
  calls numbered in ``member_429_calls``; 403 "member limit" once ``list_capacity`` is hit.

A script entry may also name one of :data:`PROBLEMS` (``"client-not-enrolled"``,
``"usage-capped"``, ``"too-many-connections"``): the stream is refused with X's status and
problem body for it, as the X API v2 sends them (``title``, ``detail``, ``type``, and the
problem's own fields such as ``reason`` or ``connection_issue``). A wrong bearer token
gets X's 401 problem.

Every request is recorded (method, path, query, headers without Authorization, body).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Step = tuple

#: X API v2 problems (status, body) as X sends them on the filtered stream.
PROBLEMS: dict[str, tuple[int, dict[str, Any]]] = {
    "unauthorized": (401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                           "detail": "Unauthorized"}),
    "client-not-enrolled": (403, {
        "client_id": "28413307",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use "
                  "keys and tokens from a Twitter developer App that is attached to a Project. "
                  "You can create a project via the developer portal.",
        "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
        "title": "Client Forbidden", "required_enrollment": "Appropriate Level of API Access",
        "reason": "client-not-enrolled",
        "type": "https://api.twitter.com/2/problems/client-forbidden"}),
    "usage-capped": (429, {
        "title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap",
        "type": "https://api.twitter.com/2/problems/usage-capped", "period": "Monthly",
        "scope": "Product"}),
    "too-many-connections": (429, {
        "title": "ConnectionException",
        "detail": "This stream is currently at the maximum allowed connection limit.",
        "connection_issue": "TooManyConnections",
        "type": "https://api.twitter.com/2/problems/streaming-connection"}),
}


class FakeX:
    def __init__(self, token: str = "test-bearer-5ecret", script: list[Any] | None = None,
                 ) -> None:
        self.token = token
        self.script: list[Any] = list(script or [])
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.rules: dict[str, dict[str, str]] = {}
        self.members: list[str] = []
        self.member_calls = 0
        self.member_429_calls: set[int] = set()
        self.list_capacity: int | None = None
        self.stopping = threading.Event()
        self._next_rule = 1000
        self._live: queue.Queue[dict[str, Any]] = queue.Queue()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_rule(self, value: str, tag: str) -> str:
        with self.lock:
            self._next_rule += 1
            rule_id = str(self._next_rule)
            self.rules[rule_id] = {"id": rule_id, "value": value, "tag": tag}
        return rule_id

    def deliver(self, event: dict[str, Any]) -> None:
        """Send ``event`` on the open stream (after its script), matched against the
        rules as they are when it is sent."""
        self._live.put(event)

    def with_matching_rules(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as X delivers it: with ``matching_rules`` (id and tag of each rule
        whose terms match: a keyword in the text, case-insensitive, or ``from:<id>``),
        unless the script gave its own."""
        if "matching_rules" in event or "data" not in event:
            return event
        text = str(event["data"].get("text", "")).lower()
        author = str(event["data"].get("author_id", ""))
        with self.lock:
            rules = list(self.rules.values())
        matching = [{"id": rule["id"], "tag": rule["tag"]} for rule in rules
                    if any(term == f"from:{author}" or (not term.startswith("from:")
                                                        and term.strip('"').lower() in text)
                           for term in rule["value"].split(" OR "))]
        return {**event, "matching_rules": matching} if matching else event

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _record(self) -> tuple[str, Any]:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append({
                    "method": self.command, "path": parts.path, "query": parse_qs(parts.query),
                    "headers": {k: v for k, v in self.headers.items()
                                if k.lower() != "authorization"},
                    "auth": (self.headers.get("Authorization") or "").split(" ")[0],
                    "body": body})
                return parts.path, body

            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None,
                      ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _bearer_ok(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {fake.token}":
                    return True
                self._json(*PROBLEMS["unauthorized"])
                return False

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                path, _ = self._record()
                if not self._bearer_ok():
                    return
                if path == "/2/tweets/search/stream/rules":
                    rules = list(fake.rules.values())
                    body: dict[str, Any] = {"meta": {"result_count": len(rules),
                                                     "sent": "2026-11-28T10:00:00.000Z"}}
                    if rules:
                        body["data"] = rules
                    self._json(200, body)
                elif path == "/2/tweets/search/stream":
                    self._stream()
                else:
                    self._json(404, {"title": "Not Found", "status": 404})

            def do_POST(self) -> None:  # noqa: N802
                path, body = self._record()
                if path == "/2/tweets/search/stream/rules":
                    if self._bearer_ok():
                        self._rules(body or {})
                elif path.startswith("/2/lists/") and path.endswith("/members"):
                    self._member(body or {})
                else:
                    self._json(404, {"title": "Not Found", "status": 404})

            def _rules(self, body: dict[str, Any]) -> None:
                if "delete" in body:
                    ids = body["delete"].get("ids", [])
                    with fake.lock:
                        deleted = [fake.rules.pop(i) for i in ids if i in fake.rules]
                    self._json(200, {"meta": {"summary": {"deleted": len(deleted),
                                                          "not_deleted": len(ids) - len(deleted)}}})
                    return
                created, errors = [], []
                for rule in body.get("add", []):
                    if "INVALID" in rule["value"]:
                        errors.append({"value": rule["value"], "title": "UnprocessableEntity",
                                       "type": "https://api.twitter.com/2/problems/invalid-rules",
                                       "details": ["Reference to invalid operator 'INVALID'"]})
                    else:
                        rule_id = fake.add_rule(rule["value"], rule.get("tag", ""))
                        created.append(fake.rules[rule_id])
                answer: dict[str, Any] = {"meta": {"summary": {
                    "created": len(created), "not_created": len(errors), "valid": len(created),
                    "invalid": len(errors)}}}
                if created:
                    answer["data"] = created
                if errors:
                    answer["errors"] = errors
                self._json(201, answer)

            def _member(self, body: dict[str, Any]) -> None:
                if not (self.headers.get("Authorization") or "").startswith("OAuth "):
                    self._json(403, {"title": "Unsupported Authentication", "status": 403,
                                     "detail": "OAuth 1.0a User Context required"})
                    return
                with fake.lock:
                    fake.member_calls += 1
                    call = fake.member_calls
                if call in fake.member_429_calls:
                    self._json(429, {"title": "Too Many Requests", "status": 429},
                               {"x-rate-limit-reset": str(int(time.time()) + 60),
                                "x-rate-limit-remaining": "0"})
                elif fake.list_capacity is not None and len(fake.members) >= fake.list_capacity:
                    self._json(403, {"title": "Forbidden", "status": 403, "type": "about:blank",
                                     "detail": "You cannot add more members: this list has "
                                               "reached its member limit."})
                else:
                    fake.members.append(str(body["user_id"]))
                    self._json(200, {"data": {"is_member": True}})

            # --- the stream ------------------------------------------------------------

            def _stream(self) -> None:
                with fake.lock:
                    entry = fake.script.pop(0) if fake.script else []
                    fake.connections += 1
                if isinstance(entry, str):
                    status, problem = PROBLEMS[entry]
                    self._json(status, problem,
                               {"x-rate-limit-reset": str(int(time.time()) + 60)})
                    return
                if isinstance(entry, int):
                    self._json(entry, {"title": "scripted failure", "status": entry},
                               {"x-rate-limit-reset": str(int(time.time()) + 60)})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for step in entry:
                        if not self._play(step):
                            return
                    while not fake.stopping.is_set():
                        try:
                            self._play(("post", fake._live.get(timeout=0.2)))
                        except queue.Empty:
                            self._chunk(b"\r\n")
                except OSError:
                    return

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _play(self, step: Step) -> bool:
                kind = step[0]
                if kind == "post":
                    self._chunk(json.dumps(fake.with_matching_rules(step[1])).encode()
                                + b"\r\n")
                elif kind == "error_object":
                    self._chunk(json.dumps(step[1]).encode() + b"\r\n")
                elif kind == "raw":
                    self._chunk(step[1])
                elif kind == "keepalive":
                    self._chunk(b"\r\n")
                elif kind == "stall":
                    fake.stopping.wait(step[1])
                elif kind == "disconnect":
                    # Promise 256 bytes, send a few, drop the socket: a cut mid-chunk.
                    self.wfile.write(b"100\r\n" + b'{"data": {"id": "cut')
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return False
                else:
                    raise ValueError(f"unknown step {step!r}")
                return True

        return Handler
