"""Mastodon and Bluesky follow the walls' new tracking while they run (what the stream
calls when a wall changes in the console): Mastodon opens a connection for a new hashtag
and closes the one of a hashtag no wall follows, leaving the others open; Bluesky filters
for the new keywords and accounts on the same Jetstream connection."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import fresh_app, wait_until
from fake_jetstream import FakeAppView
from test_bluesky_source import ALICE, KEYNOTE

from flask_twitsocket.shapes import RawEvent
from flask_twitsocket.sources.base import Source
from flask_twitsocket.sources.bluesky import BlueskySource
from flask_twitsocket.sources.mastodon import MastodonSource
from flask_twitsocket.walls import WallSpec

LONG = 30.0


@pytest.fixture
def appview() -> Iterator[FakeAppView]:
    fake = FakeAppView([ALICE, KEYNOTE])
    yield fake
    fake.close()


class Running:
    """A source's ``events()`` in a thread, every event kept; stopped at the end."""

    def __init__(self, make: Any, database_url: str, **config: str) -> None:
        app = fresh_app(database_url, TWITSOCKET_BACKOFF_SCALE="0.05", **config)
        self.state = app.extensions["twitsocket"]
        self.stop = threading.Event()
        self.source: Source = make(self.state.settings, self.stop, self.state.walls)
        self.events: queue.Queue[RawEvent] = queue.Queue()
        self.seen: list[RawEvent] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for event in self.source.events():
            self.events.put(event)

    def next_matching(self, predicate: Any) -> RawEvent:
        while True:
            event = self.events.get(timeout=LONG)
            self.seen.append(event)
            if predicate(event):
                return event

    def close(self) -> None:
        self.stop.set()
        self.state.engine.dispose()


def room(slug: str, **tracking: tuple[str, ...]) -> WallSpec:
    return WallSpec(slug=slug, **tracking)


def test_mastodon_follows_a_new_hashtag_and_drops_an_old_one(mastodon, database_url):
    running = Running(MastodonSource, database_url, TWITSOCKET_MASTODON_URL=mastodon.url,
                      TWITSOCKET_MASTODON_TOKEN=mastodon.token,
                      TWITSOCKET_TRACK_KEYWORDS="#devconf26")
    try:
        wait_until(lambda: mastodon.connected() == 1, timeout=LONG, message="#devconf26")
        main = running.state.walls["main"]
        running.source.walls_changed({"main": main,
                                      "room-a": room("room-a", mastodon_hashtags=("python",))})
        wait_until(lambda: mastodon.connected() == 2, timeout=LONG, message="#python")
        status = mastodon.post(mastodon.status("<p>hello #python</p>", tag="python"))
        got = running.next_matching(lambda e: e.payload.get("payload", {}).get("id")
                                    == status["id"])
        assert got.payload["event"] == "update"
        assert mastodon.stream_connections == 2  # #devconf26's connection stayed open

        running.source.walls_changed({"main": room("main", track_keywords=("#python",),
                                                   catch_all=True)})
        wait_until(lambda: mastodon.connected() == 1, timeout=LONG, message="#devconf26 closed")
        mastodon.post(mastodon.status("<p>not followed</p>", tag="devconf26"))
        last = mastodon.post(mastodon.status("<p>still #python</p>", tag="python"))
        running.next_matching(lambda e: e.payload.get("payload", {}).get("id") == last["id"])
        assert [e.payload["payload"]["content"] for e in running.seen
                if e.payload["payload"]["content"] == "<p>not followed</p>"] == []
        assert mastodon.stream_connections == 2
    finally:
        running.close()


def test_mastodon_polling_reads_the_new_hashtags_in_its_next_round(mastodon, database_url):
    running = Running(MastodonSource, database_url, TWITSOCKET_MASTODON_URL=mastodon.url,
                      TWITSOCKET_TRACK_KEYWORDS="#devconf26",
                      TWITSOCKET_MASTODON_POLL_INTERVAL="0.2")  # no token: polling
    try:
        wait_until(lambda: mastodon.timeline_requests, timeout=LONG, message="a poll")
        running.source.walls_changed({"main": running.state.walls["main"],
                                      "room-a": room("room-a", mastodon_hashtags=("python",))})
        status = mastodon.post(mastodon.status("<p>polled #python</p>", tag="python"),
                               stream=False)
        got = running.next_matching(lambda e: e.payload.get("payload", {}).get("id")
                                    == status["id"])
        assert got.payload["event"] == "update"
    finally:
        running.close()


def test_bluesky_filters_for_new_keywords_and_accounts_on_the_same_connection(
        jetstream, appview, database_url, tmp_path):
    running = Running(BlueskySource, database_url, TWITSOCKET_BLUESKY_JETSTREAM_URL=jetstream.url,
                      TWITSOCKET_BLUESKY_APPVIEW_URL=appview.url,
                      TWITSOCKET_BLUESKY_STATE_FILE=str(tmp_path / "bluesky.json"),
                      TWITSOCKET_TRACK_KEYWORDS="#devconf26")
    try:
        wait_until(lambda: jetstream.connections() == 1, timeout=LONG, message="Jetstream")
        main = running.state.walls["main"]
        running.source.walls_changed({
            "main": main, "room-a": room("room-a", track_keywords=("rustlang",)),
            "room-b": room("room-b", bluesky_accounts=("keynote.devconf.example",))})
        wait_until(lambda: KEYNOTE["did"] in running.source.filter.dids, timeout=LONG,
                   message="the handle resolved")
        jetstream.post(ALICE["did"], "an unrelated post")
        jetstream.post(ALICE["did"], "I like rustlang")
        jetstream.post(KEYNOTE["did"], "See you in the keynote room")

        def text(event: RawEvent) -> str:
            return event.payload.get("commit", {}).get("record", {}).get("text", "")

        running.next_matching(lambda e: text(e) == "See you in the keynote room")
        assert [text(e) for e in running.seen] == ["I like rustlang",
                                                   "See you in the keynote room"]
        assert jetstream.connections() == 1
    finally:
        running.close()
