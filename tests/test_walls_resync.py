"""Walls changed in the console while ``flask twitsocket stream`` runs against the fake X
API: the stream re-syncs X's rules within seconds on the SAME stream connection, routes
new posts by the new walls, and a post matching a new keyword reaches that wall's
websocket."""

from __future__ import annotations

import json
import signal

import pytest
from conftest import wait_until, x_post
from moderation_helpers import MODERATED, PREFIX, Console, Listener
from test_x_stream import LONG, x_env
from test_x_stream import fake_x as fake_x  # noqa: F401 (the fixture)

WALLS = {"room-a": {"track_keywords": ["#python"]}, "room-b": {"track_users": ["7"]}}
WALLS_API = f"{PREFIX}/moderate/api/walls"


@pytest.fixture
def app_config():
    return {**MODERATED, "TWITSOCKET_WALLS": WALLS}


def ours(fake):
    return sorted((rule["tag"], rule["value"]) for rule in fake.rules.values()
                  if rule["tag"].startswith("twitsocket"))


def change(console, url, body):
    answer = console.client.post(url, json=body, headers={"X-CSRF-Token": console.token})
    assert answer.status_code == 200, answer.get_json()


def test_a_wall_changed_in_the_console_resyncs_x_without_reconnecting(
        app, live_server, fake_x, start_cli):
    fake_x.script = [[("post", x_post(1, text="Opening #python"))]]
    process = start_cli("stream", "--source", "x", env=x_env(
        fake_x, TWITSOCKET_TRACK_KEYWORDS="#devconf26", TWITSOCKET_WALLS=json.dumps(WALLS)))
    client = app.test_client()

    def ids(wall):
        body = client.get(f"{PREFIX}/api/tweets?wall={wall}&limit=50").get_json()
        return sorted(post["id"] for post in body["tweets"])

    wait_until(lambda: ids("room-a") == ["1"], timeout=LONG, message="the first post")
    assert ours(fake_x) == [("twitsocket:main", "#devconf26"),
                            ("twitsocket:room-a", "#python"), ("twitsocket:room-b", "from:7")]

    console = Console(client).open()
    change(console, f"{WALLS_API}/room-a", {"track_keywords": ["#django"]})
    change(console, WALLS_API, {"slug": "room-c", "title": "Room C",
                                "track_keywords": ["#rust", '"borrow checker"']})
    change(console, f"{WALLS_API}/room-b/archive", {})
    wanted = [("twitsocket:main", "#devconf26"), ("twitsocket:room-a", "#django"),
              ("twitsocket:room-c", '#rust OR "borrow checker"')]
    wait_until(lambda: ours(fake_x) == wanted, timeout=LONG, message="the rules re-synced")
    assert fake_x.connections == 1  # the stream was never dropped

    room_c = Listener(f"{live_server.ws_url}{PREFIX}/ws?wall=room-c")
    room_a = Listener(f"{live_server.ws_url}{PREFIX}/ws?wall=room-a")
    for listener in (room_c, room_a):  # subscribed: the server sent the opening count
        assert listener.next(timeout=LONG)["type"] == "count"
    # the stream routes by the new walls once it saw them: a post for room-c on X's rules
    fake_x.deliver(x_post(2, text="The borrow checker, explained"))
    tweet = room_c.wait_for(lambda m: m["type"] == "tweet", timeout=LONG)["tweet"]
    assert tweet["id"] == "2"
    fake_x.deliver(x_post(3, text="#python again"))     # room-a no longer follows it
    fake_x.deliver(x_post(4, text="#django tips"))
    assert room_a.wait_for(lambda m: m["type"] == "tweet", timeout=LONG)["tweet"]["id"] == "4"
    fake_x.deliver(x_post(5, text="hello from seven", user_id="7"))  # room-b ended
    wait_until(lambda: "5" in ids("main"), timeout=LONG, message="post 5")
    assert ids("room-a") == ["1", "4"] and ids("room-c") == ["2"]
    assert ids("room-b") == []  # archived: its posts stay readable, none arrives
    assert [m["tweet"]["id"] for m in room_c.messages if m["type"] == "tweet"] == ["2"]
    assert fake_x.connections == 1
    room_a.close()
    room_c.close()
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert "The walls changed" in output
