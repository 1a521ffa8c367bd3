"""A fake Jetstream (websocket, v1 ``/subscribe``) and a fake Bluesky AppView, on 127.0.0.1.

Jetstream's behaviour that matters to a client is reproduced: JSON events one per message
with a growing ``time_us``, compact JSON with raw UTF-8 (as Go writes it), ``cursor`` replays
from that ``time_us`` and no cursor means "from now on". Tests ``publish`` posts and
deletes, ``send_raw`` garbage and ``drop`` every connection. The AppView answers
``app.bsky.actor.getProfiles`` (by DID or handle), records each request, and can ``fail``.
"""

from __future__ import annotations

import json
import threading
import time
from functools import partial
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fake_mastodon import JsonHandler, serve_http
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

POST = "app.bsky.feed.post"


def facet(text: str, fragment: str, feature: dict[str, Any]) -> dict[str, Any]:
    """A facet over ``fragment`` with UTF-8 byte offsets, as Bluesky clients write them."""
    start = text.encode().index(fragment.encode())
    return {"index": {"byteStart": start, "byteEnd": start + len(fragment.encode())},
            "features": [feature]}


class FakeJetstream:
    def __init__(self) -> None:
        self.log: list[tuple[int, str]] = []
        self.condition = threading.Condition()
        self.generation = 0
        self.requests: list[dict[str, list[str]]] = []
        self.rkeys = iter(range(10**6))
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.drop()
        self.server.shutdown()

    # --- driving it -------------------------------------------------------------------------

    def post(self, did: str, text: str, facets: list[dict[str, Any]] | None = None,
             **record: Any) -> str:
        """Publish a new post; returns its rkey."""
        rkey = f"3lfake{next(self.rkeys):06d}"
        self.publish({"did": did, "kind": "commit", "commit": {
            "rev": "3lrev", "operation": "create", "collection": POST, "rkey": rkey,
            "record": {"$type": POST, "createdAt": "2026-11-28T10:00:00.000Z", "text": text,
                       "langs": ["en"], **({"facets": facets} if facets else {}), **record},
            "cid": "bafyfake"}})
        return rkey

    def delete(self, did: str, rkey: str) -> None:
        self.publish({"did": did, "kind": "commit", "commit": {
            "rev": "3lrev", "operation": "delete", "collection": POST, "rkey": rkey}})

    def publish(self, event: dict[str, Any]) -> None:
        with self.condition:
            last = self.log[-1][0] if self.log else 0
            event = {"did": event["did"], "time_us": max(last + 1, time.time_ns() // 1000),
                     **event}
            self.log.append((event["time_us"], json.dumps(event, ensure_ascii=False,
                                                          separators=(",", ":"))))
            self.condition.notify_all()

    def send_raw(self, line: str) -> None:
        with self.condition:
            self.log.append((self.log[-1][0] if self.log else 0, line))
            self.condition.notify_all()

    def drop(self) -> None:
        with self.condition:
            self.generation += 1
            self.condition.notify_all()

    def connections(self) -> int:
        return len(self.requests)

    # --- serving ----------------------------------------------------------------------------

    def _news(self, index: int, generation: int) -> bool:
        return len(self.log) > index or self.generation != generation

    def _handle(self, websocket: ServerConnection) -> None:
        parts = urlsplit(websocket.request.path)
        params = parse_qs(parts.query)
        if parts.path != "/subscribe":
            websocket.close(1008, "unknown endpoint")
            return
        self.requests.append(params)
        with self.condition:
            generation = self.generation
            if "cursor" in params:
                cursor = int(params["cursor"][0])
                index = next((i for i, (t, _) in enumerate(self.log) if t >= cursor),
                             len(self.log))
            else:
                index = len(self.log)
        while True:
            with self.condition:
                self.condition.wait_for(partial(self._news, index, generation), timeout=1)
                if self.generation != generation:
                    websocket.close(1011, "going away")  # abrupt, as a restart would be
                    return
                lines = [line for _time, line in self.log[index:]]
                index = len(self.log)
            try:
                for line in lines:
                    websocket.send(line)
            except ConnectionClosed:
                return


class FakeAppView:
    def __init__(self, profiles: list[dict[str, Any]]) -> None:
        self.profiles = profiles
        self.fail = False
        self.requests: list[list[str]] = []
        self.server = serve_http(_AppViewHandler, self)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def find(self, actor: str) -> dict[str, Any] | None:
        return next((p for p in self.profiles if actor in (p["did"], p["handle"])), None)


class _AppViewHandler(JsonHandler):
    owner: FakeAppView

    def do_GET(self) -> None:  # noqa: N802
        path, params = self.query()
        appview = self.owner
        if path != "/xrpc/app.bsky.actor.getProfiles":
            self.send_json({"error": "MethodNotImplemented"}, 501)
            return
        actors = params.get("actors", [])
        appview.requests.append(actors)
        if appview.fail:
            self.send_json({"error": "InternalServerError"}, 500)
        elif len(actors) > 25:
            self.send_json({"error": "InvalidRequest", "message": "too many actors"}, 400)
        else:
            found = [appview.find(actor) for actor in actors]
            self.send_json({"profiles": [p for p in found if p]})
