"""The hub keeps each wall's audience as a tuple between joins and leaves, and hands a
pass's messages only to the walls someone watches (``Hub._deliver_by_wall``): whoever joins
or leaves between two posts must still get exactly the posts of their wall after joining,
and a post on a wall nobody watches must still renew that wall's opening snapshot."""

from __future__ import annotations

import json

import pytest
from conftest import wait_until, x_post

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor


@pytest.fixture
def app_config():
    return {"TWITSOCKET_WALLS": {
        "main": {"track_keywords": ["#devconf26"]},
        "room-a": {"track_keywords": ["#python"]},
        "room-b": {"track_keywords": ["#rust"]},
    }}


class Client:
    """A subscriber with a sink, keeping what it was handed."""

    def __init__(self, hub, wall):
        self.messages = []
        self.subscription = hub.join(0, sink=self.messages.extend, wall=wall)

    def tweets(self):
        return [json.loads(m)["tweet"]["id"] for m in self.messages if '"tweet"' in m[:20]]

    def counts(self):
        return [json.loads(m)["count"] for m in self.messages if m.startswith('{"type":"count"')]


def ingest(app, *events):
    build_ingestor(app.extensions["twitsocket"]).ingest(
        [RawEvent("x", json.dumps(event)) for event in events])


def test_who_joins_or_leaves_between_two_posts_gets_exactly_their_walls_posts_after(app):
    hub = app.extensions["twitsocket"].hub
    early, console, other = Client(hub, "room-a"), Client(hub, None), Client(hub, "room-b")
    ingest(app, x_post(1, text="#python and #devconf26"))
    wait_until(lambda: early.tweets() == ["1"], message="post 1 on room-a")
    late = Client(hub, "room-a")  # after room-a's audience was used
    ingest(app, x_post(2, text="more #python"), x_post(3, text="#rust"))
    wait_until(lambda: late.tweets() == ["2"] and other.tweets() == ["3"],
               message="posts 2 and 3 on their walls")
    hub.unsubscribe(early.subscription)
    ingest(app, x_post(4, text="#python again"))
    wait_until(lambda: late.tweets() == ["2", "4"], message="post 4 on room-a")
    ingest(app, x_post(5, text="#rust again"))  # after post 4: all read once 5 is
    wait_until(lambda: other.tweets() == ["3", "5"], message="post 5 on room-b")
    assert early.tweets() == ["1", "2"]
    assert console.tweets() == ["1", "2", "3", "4", "5"]  # every wall's, once, in order
    assert console.counts() == [1]  # but only the default wall's count (post 1's)
    assert late.counts() == [2, 3]
    assert other.counts() == [1, 2]


def test_a_post_on_a_wall_nobody_watches_renews_that_walls_snapshot(app):
    state = app.extensions["twitsocket"]
    hub = state.hub
    watcher = Client(hub, "room-a")
    assert hub.snapshot(lambda: ["before"], "room-b") == ["before"]
    assert hub.snapshot(lambda: ["again"], "room-b") == ["before"]  # kept
    ingest(app, x_post(1, text="#rust"))  # room-b only: nobody is there
    head = state.store.journal_head()
    wait_until(lambda: hub.last_id is not None and hub.last_id >= head,
               message="the hub to read the post")
    assert hub.snapshot(lambda: ["after"], "room-b") == ["after"]
    assert watcher.tweets() == []
