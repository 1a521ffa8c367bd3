"""Moderation with several walls: hiding a post on one wall leaves it on the others, an
undo brings it back there, hiding on every wall reaches every wall, and the host's
moderator check receives the wall (a room's volunteer moderates only that room)."""

from __future__ import annotations

import pytest
from conftest import make_app, x_post
from flask import Flask
from moderation_helpers import MODERATED, PREFIX, Console, Listener, csrf_of, ingest

from flask_twitsocket import TwitSocket
from flask_twitsocket.models import metadata

WALLS = {"room-a": {"track_keywords": ["#python"]},
         "room-b": {"track_keywords": ["#python", "#rust"]}}


@pytest.fixture
def app_config():
    return {**MODERATED, "TWITSOCKET_WALLS": WALLS}


def wall_ids(client, wall):
    body = client.get(f"{PREFIX}/api/tweets?wall={wall}").get_json()
    return [post["id"] for post in body["tweets"]], body["count"]


def act_on(console, action, target, wall=None, status=200):
    body = {"target": target, **({"wall": wall} if wall else {})}
    answer = console.client.post(f"{PREFIX}/moderate/api/{action}", json=body,
                                 headers={"X-CSRF-Token": console.token})
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()


def new(listener, kind):
    """The next message of ``kind`` received from now on."""
    while True:
        message = listener.next()
        if message["type"] == kind:
            return message


def test_hiding_on_one_wall_leaves_the_post_on_the_others(app, live_server):
    ingest(app, x_post(1, text="#python and #rust"), x_post(2, text="#rust only"))
    client = app.test_client()
    console = Console(client).open()
    url = f"{live_server.ws_url}{PREFIX}/ws?wall="
    room_a, room_b, main = (Listener(url + slug) for slug in ("room-a", "room-b", "main"))
    assert [each.next()["count"] for each in (room_a, room_b, main)] == [1, 2, 2]

    assert console.state()["walls"] == [{"slug": "main", "title": "main"},
                                        {"slug": "room-a", "title": "room-a"},
                                        {"slug": "room-b", "title": "room-b"}]
    entry = act_on(console, "hide", "x:1", wall="room-a")["entry"]
    assert entry["wall"] == "room-a"
    assert new(room_a, "delete")["id"] == "1"
    assert new(room_a, "count")["count"] == 0
    assert wall_ids(client, "room-a") == ([], 0)
    assert wall_ids(client, "room-b") == (["2", "1"], 2)
    assert wall_ids(client, "main") == (["2", "1"], 2)

    act_on(console, "undo", entry["id"])
    assert new(room_a, "tweet")["tweet"]["id"] == "1"
    assert wall_ids(client, "room-a") == (["1"], 1)

    act_on(console, "hide", "x:2", wall="room-a", status=404)  # not on that wall
    act_on(console, "trust", "alice", wall="room-a", status=400)  # trust is site-wide
    act_on(console, "hide", "x:1", wall="nowhere", status=404)

    act_on(console, "hide", "x:2")  # every wall
    assert new(room_b, "delete")["id"] == "2"
    assert new(main, "delete")["id"] == "2"
    assert new(room_b, "count")["count"] == 1
    # room-b and main saw nothing of room-a's hide and undo; room-a nothing of x:2
    assert [m["type"] for m in room_b.messages] == ["count", "delete", "count"]
    act_on(console, "hide", "x:1", wall="room-a")
    assert new(room_a, "delete")["id"] == "1"  # its next message: not x:2's
    assert [m["type"] for m in room_a.messages] == ["count", "delete", "count", "tweet",
                                                    "count", "delete"]
    act_on(console, "ban", "alice")  # every wall: x:1 (hidden on room-a) goes everywhere
    assert new(room_b, "delete")["id"] == "1"
    undo = act_on(console, "unban", "alice")["entry"]
    assert undo["action"] == "unban"
    assert new(room_b, "tweet")["tweet"]["id"] == "1"  # back, with a fresh seq
    assert wall_ids(client, "room-b") == (["1"], 1)
    assert wall_ids(client, "room-a") == ([], 0)  # still hidden on room-a alone
    for each in (room_a, room_b, main):
        each.close()


def gone_on(client, wall, seqs):
    query = f"wall={wall}&shown={','.join(seqs)}"
    return client.get(f"{PREFIX}/api/tweets?{query}").get_json()["gone"]


def test_a_post_hidden_on_one_wall_is_gone_there_only(app):
    ingest(app, x_post(1, text="#python and #rust"), x_post(2, text="#rust only"))
    client = app.test_client()
    seqs = {post["id"]: post["seq"] for post in
            client.get(f"{PREFIX}/api/tweets?wall=room-b").get_json()["tweets"]}
    shown = [seqs["1"], seqs["2"]]
    assert gone_on(client, "room-a", shown) == [seqs["2"]]  # never on room-a
    assert gone_on(client, "room-b", shown) == []
    pin = act_on(Console(client).open(), "pin", "x:2")["entry"]
    assert gone_on(client, "room-a", shown) == []  # pinned: on every wall
    act_on(Console(client).open(), "undo", pin["id"])
    act_on(Console(client).open(), "hide", "x:1", wall="room-a")
    assert gone_on(client, "room-a", shown) == shown
    assert gone_on(client, "room-b", shown) == []  # still shown there
    assert gone_on(client, "main", shown) == []
    act_on(Console(client).open(), "hide", "x:2")  # every wall
    assert gone_on(client, "room-b", shown) == [seqs["2"]]
    assert gone_on(client, "main", shown) == [seqs["2"]]


def test_a_post_shown_again_on_one_wall_while_it_was_offline_comes_with_the_catch_up(app):
    """Shown again on one wall only, a post keeps its seq (its other walls show it under
    that seq): a wall that was away when it came back asks since its newest seq, and the
    answer's `missed` brings it."""
    ingest(app, x_post(1, text="#python first"), x_post(2, text="#python second"))
    client = app.test_client()
    console = Console(client).open()
    seqs = {post["id"]: post["seq"] for post in
            client.get(f"{PREFIX}/api/tweets?wall=room-a").get_json()["tweets"]}
    act_on(console, "hide", "x:1", wall="room-a")
    newest = seqs["2"]  # what room-a's projector shows when its connection drops

    def catch_up(wall: str, shown: list[str]) -> dict:
        return client.get(f"{PREFIX}/api/tweets?wall={wall}&since_id={newest}"
                          f"&shown={','.join(shown)}").get_json()

    assert catch_up("room-a", [newest]) == {
        "tweets": [], "count": 1, "gone": [], "missed": []}
    act_on(console, "unhide", "x:1", wall="room-a")  # while it is away
    answer = catch_up("room-a", [newest])
    assert [post["id"] for post in answer["missed"]] == ["1"]
    assert answer["missed"][0]["seq"] == seqs["1"] and answer["tweets"] == []
    assert catch_up("room-a", [newest, seqs["1"]])["missed"] == []  # shown: nothing to add
    assert catch_up("main", [newest, seqs["1"]])["missed"] == []


def test_the_moderator_check_receives_the_wall(database_url):
    asked = []

    def room_a_volunteer(wall=None):
        asked.append(wall)
        return "volunteer" if wall in (None, "room-a") else None

    app = Flask("walls_check")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, TESTING=True, SECRET_KEY="s",
                      TWITSOCKET_WALLS=WALLS)
    state = TwitSocket(app, moderator_required=room_a_volunteer).state(app)
    if not database_url.startswith("sqlite"):
        metadata.drop_all(state.engine)
    state.create_tables()
    ingest(app, x_post(1, text="#python"))
    client = app.test_client()
    console = Console(client)
    console.token = csrf_of(client.get(f"{PREFIX}/moderate").text)
    assert act_on(console, "hide", "x:1", wall="room-a")["entry"]["moderator"] == "volunteer"
    act_on(console, "hide", "x:1", wall="room-b", status=403)
    assert "room-a" in asked and "room-b" in asked
    state.hub.stop()


def test_the_console_follows_every_walls_posts_and_the_default_walls_count(app,
                                                                         live_server):
    logged_in = Console(app.test_client()).open()
    console = Listener(f"{live_server.ws_url}{PREFIX}/moderate/ws",
                       additional_headers={"Cookie": logged_in.session_cookie()})
    assert console.next()["type"] == "count"
    ingest(app, x_post(1, text="#rust only"), x_post(2, text="#python"))
    tweets = [console.wait_for(lambda m, i=i: m.get("tweet", {}).get("id") == i)
              for i in ("1", "2")]
    assert len(tweets) == 2  # room-b's and room-a's posts both reach the console
    ingest(app, x_post(3, text="#python again"))
    console.wait_for(lambda m: m.get("tweet", {}).get("id") == "3")
    counts = [m["count"] for m in console.messages if m["type"] == "count"]
    # main's count only (0, 2, 3), never room-a's (1, 2) or room-b's (1)
    assert counts == sorted(counts) and counts[0] == 0 and 1 not in counts
    console.close()


def test_the_queue_says_which_walls_each_held_post_is_for(database_url):
    app = make_app(database_url, **MODERATED, TWITSOCKET_WALLS=WALLS,
                   TWITSOCKET_MODERATION="pre")
    state = app.extensions["twitsocket"]
    if not database_url.startswith("sqlite"):
        metadata.drop_all(state.engine)
    state.create_tables()
    ingest(app, x_post(1, text="#python and #rust"), x_post(2, text="#rust only"),
           x_post(3, text="nothing tracked"))
    console = Console(app.test_client()).open()
    queue = {item["tweet"]["id"]: item["walls"] for item in console.state()["queue"]}
    # every wall's queue together, each post with the walls it goes to once approved
    assert queue == {"1": ["main", "room-a", "room-b"], "2": ["main", "room-b"],
                     "3": ["main"]}
    act_on(console, "approve", "x:2")
    assert wall_ids(app.test_client(), "room-b") == (["2"], 1)
    assert wall_ids(app.test_client(), "room-a") == ([], 0)
    state.hub.stop()
    state.engine.dispose()


def test_a_ban_or_a_blocked_word_of_one_wall_keeps_posts_off_that_wall_only(app,
                                                                           live_server):
    ingest(app, x_post(1, text="#python and #rust", username="alice", user_id="1"),
           x_post(2, text="#rust crabs", username="bob", user_id="2"))
    client = app.test_client()
    console = Console(client).open()
    room_a = Listener(f"{live_server.ws_url}{PREFIX}/ws?wall=room-a")
    assert room_a.next()["type"] == "count"

    ban = act_on(console, "ban", "@Alice", wall="room-a")["entry"]
    assert (ban["action"], ban["target"], ban["wall"]) == ("ban", "alice", "room-a")
    assert new(room_a, "delete")["id"] == "1"
    assert wall_ids(client, "room-a") == ([], 0)
    assert wall_ids(client, "room-b") == (["2", "1"], 2)  # her post stays on room-b
    act_on(console, "ban", "alice", wall="room-a", status=409)
    ingest(app, x_post(3, text="more #python", username="alice", user_id="1"))
    assert wall_ids(client, "room-a") == ([], 0)  # her new posts stay off room-a
    assert wall_ids(client, "main")[0] == ["3", "2", "1"]

    block = act_on(console, "block", "Crabs", wall="room-b")["entry"]
    assert wall_ids(client, "room-b") == (["3", "1"], 2)
    ingest(app, x_post(4, text="#rust CRABS again", username="carol", user_id="4"))
    assert wall_ids(client, "room-b") == (["3", "1"], 2)
    assert wall_ids(client, "main")[0] == ["4", "3", "2", "1"]
    walls = {w["slug"]: w for w in client.get(
        f"{PREFIX}/moderate/api/walls").get_json()["walls"]}
    assert (walls["room-a"]["banned_users"], walls["room-b"]["blocked_words"]) == (
        ["alice"], ["crabs"])

    act_on(console, "undo", ban["id"])  # what the ban hid on room-a comes back
    assert new(room_a, "tweet")["tweet"]["id"] == "1"
    assert wall_ids(client, "room-a") == (["1"], 1)  # 3 was never linked while banned
    ingest(app, x_post(5, text="#python after the ban", username="alice", user_id="1"))
    assert wall_ids(client, "room-a") == (["5", "1"], 2)
    act_on(console, "unblock", "crabs", wall="room-b")
    assert wall_ids(client, "room-b") == (["5", "3", "2", "1"], 4)  # 4 was never linked
    assert block["wall"] == "room-b"
    room_a.close()


def test_a_walls_own_bans_come_from_its_settings_too(database_url):
    walls = {"room-a": {"track_keywords": ["#python"], "banned_users": ["x:bob"],
                        "blocked_words": ["spoiler"]}}
    app = make_app(database_url, TWITSOCKET_WALLS=walls)
    state = app.extensions["twitsocket"]
    if not database_url.startswith("sqlite"):
        metadata.drop_all(state.engine)
    state.create_tables()
    ingest(app, x_post(1, text="#python by bob", username="bob", user_id="2"),
           x_post(2, text="#python spoiler ahead"), x_post(3, text="#python fine"))
    client = app.test_client()
    assert wall_ids(client, "room-a") == (["3"], 1)
    assert wall_ids(client, "main") == (["3", "2", "1"], 3)
    state.hub.stop()
    state.engine.dispose()
