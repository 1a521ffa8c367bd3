"""Trust modes per wall (issue #17): a wall's own ``moderation`` holds its posts back
while the site's other walls show them at once. A post is stored once: it goes up on the
``post`` walls it matches, waits on its ``pre`` walls until a moderator approves it for
that wall (``approve`` with ``wall=``), and on its ``delay`` walls until the delay passes;
the console's queue says which walls each post waits for."""

from __future__ import annotations

import json

import pytest
from conftest import fresh_app, wait_until, x_post
from moderation_helpers import MODERATED, PREFIX, Console, Listener, ingest
from test_walls_moderation import act_on, new, wall_ids

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor

#: main follows #devconf only (it is no catch-all here): each room's posts are its own.
WALLS = {"main": {"track_keywords": ["#devconf"]},
         "room-a": {"track_keywords": ["#python", "#django"], "moderation": "pre"},
         "room-b": {"track_keywords": ["#python", "#rust"]},
         "room-c": {"track_keywords": ["#rust", "#go"], "moderation": "delay"}}
DELAY = 5.0


@pytest.fixture
def app_config():
    return {**MODERATED, "TWITSOCKET_WALLS": WALLS, "TWITSOCKET_MODERATION_DELAY": DELAY}


def waiting_for(console: Console) -> dict[str, list[str]]:
    """The console's queue: each waiting post's id and the walls it waits for."""
    return {item["tweet"]["id"]: item["walls"] for item in console.state()["queue"]
            if item["state"] == "waiting"}


def test_a_post_is_live_on_its_post_wall_at_once_and_on_its_pre_wall_once_approved(
        app, live_server):
    url = f"{live_server.ws_url}{PREFIX}/ws?wall="
    room_a, room_b = Listener(url + "room-a"), Listener(url + "room-b")
    assert [each.next()["count"] for each in (room_a, room_b)] == [0, 0]
    console = Console(app.test_client()).open()
    client = app.test_client()

    stats = ingest(app, x_post(1, text="#python at #devconf"))
    assert (stats.stored, stats.held) == (1, 0)  # stored once
    assert new(room_b, "tweet")["tweet"]["id"] == "1"
    assert new(room_b, "count")["count"] == 1
    assert wall_ids(client, "room-b") == (["1"], 1)
    assert wall_ids(client, "main") == (["1"], 1)
    assert wall_ids(client, "room-a") == ([], 0)
    assert waiting_for(console) == {"1": ["room-a"]}

    act_on(console, "approve", "x:1", wall="room-b", status=404)  # up there already
    act_on(console, "veto", "x:1", wall="room-b", status=404)
    entry = act_on(console, "approve", "x:1", wall="room-a")["entry"]
    assert entry["wall"] == "room-a"
    tweet = new(room_a, "tweet")["tweet"]
    assert (tweet["id"], new(room_a, "count")["count"]) == ("1", 1)
    assert wall_ids(client, "room-a") == (["1"], 1)
    assert waiting_for(console) == {}
    act_on(console, "pin", "x:1")  # every wall: room-b's next message, nothing before it
    assert new(room_b, "pin")["tweet"]["id"] == "1"
    assert room_b.types() == ["count", "tweet", "count", "pin"]

    act_on(console, "undo", entry["id"])  # off room-a again, still up on room-b
    assert new(room_a, "delete")["id"] == "1"
    assert wall_ids(client, "room-a") == ([], 0)
    assert wall_ids(client, "room-b") == (["1"], 1)
    for each in (room_a, room_b):
        each.close()


def test_a_post_approved_for_a_wall_while_its_projector_was_away_comes_with_the_catch_up(
        app):
    """Approved for room-a after room-a's newest post, a post keeps the seq room-b already
    shows it under: room-a's catch-up (since its newest seq) lists it in `missed`."""
    console = Console(app.test_client()).open()
    client = app.test_client()
    ingest(app, x_post(1, text="#python at #devconf"), x_post(2, text="#django only"))
    act_on(console, "approve", "x:2", wall="room-a")
    [shown] = [post["seq"] for post in
               client.get(f"{PREFIX}/api/tweets?wall=room-a").get_json()["tweets"]]
    act_on(console, "approve", "x:1", wall="room-a")  # room-a's projector is away
    answer = client.get(f"{PREFIX}/api/tweets?wall=room-a&since_id={shown}"
                        f"&shown={shown}").get_json()
    assert answer["tweets"] == [] and answer["gone"] == []
    assert [post["id"] for post in answer["missed"]] == ["1"] and answer["count"] == 2


def test_a_veto_for_one_wall_keeps_the_post_off_it_only(app):
    console = Console(app.test_client()).open()
    client = app.test_client()
    ingest(app, x_post(1, text="#python"), x_post(2, text="#python too"))
    assert waiting_for(console) == {"1": ["room-a"], "2": ["room-a"]}
    veto = act_on(console, "veto", "x:1", wall="room-a")["entry"]
    assert waiting_for(console) == {"2": ["room-a"]}
    act_on(console, "approve", "x:2")  # without wall=: on every wall that held it
    assert wall_ids(client, "room-a") == (["2"], 1)
    assert wall_ids(client, "room-b") == (["2", "1"], 2)
    act_on(console, "undo", veto["id"])  # the veto undone: x:1 up on room-a after all
    assert wall_ids(client, "room-a") == (["2", "1"], 2)


def test_a_delay_wall_shows_the_post_once_its_delay_has_passed(app, live_server):
    room_c = Listener(f"{live_server.ws_url}{PREFIX}/ws?wall=room-c")
    assert room_c.next()["count"] == 0
    console = Console(app.test_client()).open()
    client = app.test_client()
    ingestor = build_ingestor(app.extensions["twitsocket"])
    # x:1 goes up on room-b and waits on room-c; x:2 goes to room-c alone: it waits,
    # unstored, in the queue as on a single-wall site in delay mode
    ingestor.ingest([*map(_raw, (x_post(1, text="#rust"), x_post(2, text="#go")))])
    assert wall_ids(client, "room-b") == (["1"], 1)
    queue = {item["tweet"]["id"]: item for item in console.state()["queue"]}
    assert {key: item["walls"] for key, item in queue.items()} == {"1": ["room-c"],
                                                                   "2": ["room-c"]}
    assert all(item["release_at"] for item in queue.values())
    ingestor.tick()
    assert wall_ids(client, "room-c") == ([], 0)  # not before the delay
    assert ingestor.waiting()  # the stream keeps running for them

    def released() -> bool:
        ingestor.tick()
        return wall_ids(client, "room-c")[1] == 2

    wait_until(released, timeout=DELAY * 6, message="the delayed posts to go up on room-c")
    seen = {new(room_c, "tweet")["tweet"]["id"] for _ in range(2)}
    assert seen == {"1", "2"}
    assert wall_ids(client, "room-b") == (["1"], 1)  # x:2 never went to room-b
    assert waiting_for(console) == {}
    wait_until(lambda: ingestor.tick() or not ingestor.waiting(),
               message="the stream to see nothing waits any more")
    room_c.close()


def test_a_post_queued_for_all_its_walls_can_be_approved_for_one(app):
    console = Console(app.test_client()).open()
    client = app.test_client()
    ingest(app, x_post(1, text="#django and #python"), x_post(2, text="#django"))
    # x:2 goes to room-a alone, pre: queued, unstored
    assert waiting_for(console) == {"1": ["room-a"], "2": ["room-a"]}
    act_on(console, "veto", "x:2", wall="room-a", status=409)  # up nowhere: veto it all
    act_on(console, "approve", "x:2", wall="room-b", status=409)  # not one of its walls
    assert act_on(console, "approve", "x:2", wall="room-a")["entry"]["wall"] == "room-a"
    assert wall_ids(client, "room-a") == (["2"], 1)
    assert wall_ids(client, "room-b")[0] == ["1"]


def test_a_site_with_one_wall_keeps_its_trust_mode(database_url):
    app = fresh_app(database_url, **MODERATED, TWITSOCKET_MODERATION="pre")
    state = app.extensions["twitsocket"]
    console = Console(app.test_client()).open()
    ingest(app, x_post(1, text="#python"))
    assert wall_ids(app.test_client(), "main") == ([], 0)
    assert [("walls" in item, item["pending_id"] is not None)
            for item in console.state()["queue"]] == [(False, True)]
    act_on(console, "approve", "x:1", wall="main")  # one wall: the site's approval
    assert wall_ids(app.test_client(), "main") == (["1"], 1)
    state.hub.stop()
    state.engine.dispose()


def _raw(event: dict) -> RawEvent:
    return RawEvent("x", json.dumps(event))


def test_a_wall_that_moderates_opens_the_console_of_a_site_that_does_not(database_url):
    walls = {"room-a": {"track_keywords": ["#python"], "moderation": "pre"}}
    app = fresh_app(database_url, **MODERATED, TWITSOCKET_MODERATION="off",
                    TWITSOCKET_WALLS=walls)
    state = app.extensions["twitsocket"]
    ingest(app, x_post(1, text="#python"))
    client = app.test_client()
    assert wall_ids(client, "main") == (["1"], 1)  # the site's own mode: off
    assert wall_ids(client, "room-a") == ([], 0)
    console = Console(client).open()  # else room-a's posts would wait for ever
    act_on(console, "approve", "x:1", wall="room-a")
    assert wall_ids(client, "room-a") == (["1"], 1)
    state.hub.stop()
    state.engine.dispose()


def test_a_trusted_author_skips_a_pre_wall_but_not_a_delay_wall(app):
    console = Console(app.test_client()).open()
    act_on(console, "trust", "carol")
    ingest(app, x_post(1, text="#python and #go", username="carol", user_id="7"))
    client = app.test_client()
    assert wall_ids(client, "room-a") == (["1"], 1)
    assert wall_ids(client, "room-c") == ([], 0)
    assert waiting_for(console) == {"1": ["room-c"]}


def test_a_post_hidden_or_vetoed_on_a_delay_wall_is_not_released_there(app):
    console = Console(app.test_client()).open()
    client = app.test_client()
    ingestor = build_ingestor(app.extensions["twitsocket"])
    ingestor.ingest([_raw(x_post(i, text=f"#rust {i}")) for i in (1, 2, 3)])
    assert waiting_for(console) == {"1": ["room-c"], "2": ["room-c"], "3": ["room-c"]}
    act_on(console, "hide", "x:1")  # on every wall
    act_on(console, "veto", "x:2", wall="room-c")  # on room-c, still up on room-b
    assert waiting_for(console) == {"3": ["room-c"]}

    def released() -> bool:
        ingestor.tick()
        return wall_ids(client, "room-c")[1] > 0

    wait_until(released, timeout=DELAY * 6, message="x:3 to go up on room-c")
    assert wall_ids(client, "room-c") == (["3"], 1)
    assert wall_ids(client, "room-b") == (["3", "2"], 2)
