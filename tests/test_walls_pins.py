"""Pins per wall (issue #17): a pin with ``wall=`` is on that wall only — its journal
message reaches that wall's sockets and no other's, a reconnecting wall's opening
messages list the pins of every wall plus its own — and the undo takes it off there."""

from __future__ import annotations

import pytest
from conftest import x_post
from moderation_helpers import MODERATED, PREFIX, Console, Listener, ingest
from test_walls_moderation import act_on, new

WALLS = {"room-a": {"track_keywords": ["#python"]},
         "room-b": {"track_keywords": ["#python", "#rust"]},
         "room-c": {"track_keywords": ["#rust", "#go"]}}


@pytest.fixture
def app_config():
    return {**MODERATED, "TWITSOCKET_WALLS": WALLS}


def opening(url: str) -> list[tuple[str, str | None]]:
    """What a wall connecting now is told first: its count, then its pins (by id)."""
    wall = Listener(url)
    messages = [wall.next()]
    while True:
        try:
            messages.append(wall.next(timeout=1.0))
        except TimeoutError:
            break
    wall.close()
    return [(m["type"], m.get("tweet", {}).get("id")) for m in messages]


def test_a_pin_on_one_wall_reaches_that_wall_only(app, live_server):
    ingest(app, x_post(1, text="#python and #rust"), x_post(2, text="#rust and #go"),
           x_post(3, text="#go only"))
    console = Console(app.test_client()).open()
    url = f"{live_server.ws_url}{PREFIX}/ws?wall="
    room_a, room_b = Listener(url + "room-a"), Listener(url + "room-b")
    assert [each.next()["type"] for each in (room_a, room_b)] == ["count", "count"]

    pin = act_on(console, "pin", "x:1", wall="room-a")["entry"]
    assert (pin["action"], pin["wall"]) == ("pin", "room-a")
    assert new(room_a, "pin")["tweet"]["id"] == "1"
    act_on(console, "pin", "x:2")  # every wall
    assert new(room_b, "pin")["tweet"]["id"] == "2"  # its first pin: not x:1's
    assert new(room_a, "pin")["tweet"]["id"] == "2"
    assert room_b.types() == ["count", "pin"]

    assert opening(url + "room-b") == [("count", None), ("pin", "2")]
    assert opening(url + "room-a") == [("count", None), ("pin", "1"), ("pin", "2")]
    assert opening(url + "room-c") == [("count", None), ("pin", "2")]
    assert console.state()["pinned_on"] == {"x:1": "room-a", "x:2": None}

    act_on(console, "pin", "x:1", status=409)  # pinned on room-a: not also everywhere
    act_on(console, "pin", "x:1", wall="room-b", status=409)
    act_on(console, "unpin", "x:1", status=404)  # not pinned on every wall
    act_on(console, "unpin", "x:1", wall="room-b", status=404)
    act_on(console, "pin", "x:3", wall="room-a", status=404)  # not shown on room-a

    act_on(console, "undo", pin["id"])
    unpinned = new(room_a, "unpin")
    assert unpinned["id"] == "1"
    act_on(console, "unpin", "x:2")
    assert new(room_b, "unpin")["id"] == "2"  # room-b never saw x:1's unpin either
    assert room_b.types() == ["count", "pin", "unpin"]
    assert opening(url + "room-a") == [("count", None)]
    for each in (room_a, room_b):
        each.close()


def test_a_pin_on_a_wall_leaves_its_opening_when_hidden_there(app, live_server):
    ingest(app, x_post(1, text="#python and #rust"))
    console = Console(app.test_client()).open()
    url = f"{live_server.ws_url}{PREFIX}/ws?wall="
    act_on(console, "pin", "x:1")
    act_on(console, "hide", "x:1", wall="room-a")
    assert opening(url + "room-a") == [("count", None)]
    assert opening(url + "room-b") == [("count", None), ("pin", "1")]
