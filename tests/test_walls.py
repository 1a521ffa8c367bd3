"""Several walls in one site: config, routing at ingest, delivery by wall, the JSON API.

Three walls with overlapping tracking; posts go through the production pipeline
(``build_ingestor``) as the networks' JSON, and each wall's websocket must receive exactly
its own posts, each once.
"""

from __future__ import annotations

import contextlib
import json
import re
import urllib.request

import pytest
from conftest import fresh_app, make_app, wait_until, x_post
from flask import render_template_string
from sqlalchemy import func, select
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from flask_twitsocket import ConfigError
from flask_twitsocket.models import Post
from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor

WALLS = {
    "main": {"title": "DevConf", "track_keywords": ["#devconf26"]},
    "room-a": {"title": "Room A", "track_keywords": ["#python", "#devconf26"],
               "track_users": ["7"]},
    "room-b": {"title": "Room B", "track_keywords": ["#rust", '"machine learning"']},
}


@pytest.fixture
def app_config():
    return {"TWITSOCKET_WALLS": WALLS}


def ingest(app, *events):
    state = app.extensions["twitsocket"]
    return build_ingestor(state).ingest([RawEvent("x", json.dumps(e)) for e in events])


def api(app, wall=None, **args):
    query = "&".join(f"{k}={v}" for k, v in ({"wall": wall} if wall else {}).items() | args.items())
    response = app.test_client().get(f"/twitsocket/api/tweets?{query}")
    return response


def ids(app, wall):
    return [post["id"] for post in api(app, wall).get_json()["tweets"]]


class Socket:
    """One wall's websocket, collecting what it receives."""

    def __init__(self, stack, url):
        self.ws = stack.enter_context(connect(url))
        self.messages = [json.loads(self.ws.recv(timeout=5))]  # the opening count

    def take(self):
        while True:
            try:
                self.messages.append(json.loads(self.ws.recv(timeout=0.05)))
            except TimeoutError:
                return self.messages

    def tweets(self):
        return [m["tweet"]["id"] for m in self.take() if m["type"] == "tweet"]

    def last_count(self):
        return [m["count"] for m in self.take() if m["type"] == "count"][-1]


def test_a_bad_wall_stops_start_up_naming_the_wall_and_key(database_url):
    with pytest.raises(ConfigError, match=r"TWITSOCKET_WALLS: 'room-a'\.moderation: must be"):
        make_app(database_url, TWITSOCKET_WALLS={"room-a": {"moderation": "sometimes"}})
    with pytest.raises(ConfigError, match=r"'room-a'\.track_keywords: 'a b' has a space"):
        make_app(database_url, TWITSOCKET_WALLS={"room-a": {"track_keywords": "a b"}})
    with pytest.raises(ConfigError, match=r"'Room A' is not a wall slug"):
        make_app(database_url, TWITSOCKET_WALLS={"Room A": {}})
    with pytest.raises(ConfigError, match=r"'room-a'\.colour: unknown wall setting"):
        make_app(database_url, TWITSOCKET_WALLS='{"room-a": {"colour": "red"}}')


def test_a_site_without_walls_has_one_wall_main(database_url):
    app = fresh_app(database_url, TWITSOCKET_TRACK_KEYWORDS=["#devconf26"])
    walls = app.test_client().get("/twitsocket/api/walls").get_json()["walls"]
    assert [(w["slug"], w["track_keywords"], w["catch_all"]) for w in walls] == [
        ("main", ["#devconf26"], True)]
    assert app.test_client().get("/twitsocket/api/tweets?wall=room-a").status_code == 404


def test_a_post_matching_two_walls_is_stored_once_and_sent_once_to_each(live_server, app):
    base = f"{live_server.ws_url}/twitsocket/ws"
    stack = contextlib.ExitStack()
    main, room_a, room_b = (Socket(stack, f"{base}?wall={slug}")
                            for slug in ("main", "room-a", "room-b"))
    default = Socket(stack, base)  # no ?wall=: the default wall
    assert main.messages[0] == {"type": "count", "count": 0}
    ingest(app,
           x_post(1, text="Keynote #devconf26 on #python"),     # main + room-a
           x_post(2, text="Borrow checker talk #Rust"),          # room-b (any case)
           x_post(3, text="hello", user_id="7", username="bob"),  # room-a (account)
           x_post(4, text="#devconf26 #python again"))           # main + room-a
    ingest(app, x_post(1, text="Keynote #devconf26 on #python"))  # delivered twice
    ingest(app, x_post(5, text="Nothing to see #pythonista"))     # no wall: not a #python
    wait_until(lambda: len(room_a.tweets()) >= 3 and len(room_b.tweets()) >= 1
               and len(main.tweets()) >= 2 and len(default.tweets()) >= 2,
               message="each wall's posts")
    assert room_a.tweets() == ["1", "3", "4"]
    assert main.tweets() == ["1", "4"] == default.tweets()
    assert room_b.tweets() == ["2"]
    assert (main.last_count(), room_a.last_count(), room_b.last_count()) == (2, 3, 1)

    with app.extensions["twitsocket"].engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Post)
                            .where(Post.post_id == "1")).scalar_one() == 1
    assert ids(app, "room-a") == ["4", "3", "1"]
    assert ids(app, "room-b") == ["2"]
    assert ids(app, None) == ids(app, "main") == ["4", "1"]
    assert api(app, "room-b").get_json()["count"] == 1
    assert api(app, "room-c").status_code == 404
    stack.close()


def test_the_event_stream_and_catch_up_follow_one_wall(live_server, app):
    ingest(app, x_post(1, text="#rust"), x_post(2, text="#python"))
    first = api(app, "room-a").get_json()["tweets"][0]
    ingest(app, x_post(3, text="#rust again"), x_post(4, text="#python again"))
    since = api(app, "room-a", since_id=first["seq"]).get_json()["tweets"]
    assert [post["id"] for post in since] == ["4"]
    request = urllib.request.Request(
        f"{live_server.url}/twitsocket/events?wall=room-b&last_event_id=0")
    with urllib.request.urlopen(request, timeout=10) as response:
        text = b""
        while text.count(b'"type":"tweet"') < 2:
            text += response.read1(65536)
    assert b'"id":"1"' in text and b'"id":"3"' in text
    assert b'"id":"2"' not in text and b'"id":"4"' not in text


def test_an_unknown_wall_is_refused_before_the_upgrade(live_server):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live_server.ws_url}/twitsocket/ws?wall=nowhere")
    assert refused.value.response.status_code == 404


def test_the_macros_and_the_projector_take_a_wall(app):
    ingest(app, x_post(1, text="#python <script>"), x_post(2, text="#rust"),
           x_post(3, text="#devconf26 #python", user_id="9", username="carol"))
    macros = ('{% from "twitsocket/macros.html" import render_tweets, websocket_client, '
              'count, top_users %}')
    with app.test_request_context():
        html = render_template_string(
            macros + '{{ render_tweets(30, wall="room-a") }}|{{ count(wall="room-a") }}|'
                     '{{ top_users(5, wall="room-a") }}|{{ websocket_client(wall="room-a") }}')
        everything = render_template_string(macros + "{{ render_tweets(30) }}")
    feed, counter, top, client = html.split("|")
    assert re.findall(r'data-id="(\d+)"', feed) == ["3", "1"]
    assert "&lt;script&gt;" in feed and "<script>" not in feed
    assert ">2<" in counter
    assert "@carol" in top and "@alice" in top
    assert 'data-ws-url="/twitsocket/ws?wall=room-a"' in client
    assert 'data-api-url="/twitsocket/api/tweets?wall=room-a"' in client
    assert re.findall(r'data-id="(\d+)"', everything) == ["3"]  # the default wall
    page = app.test_client().get("/twitsocket/w/room-b/wall")
    assert page.status_code == 200
    assert "<title>Room B</title>" in page.text
    assert re.findall(r'data-id="(\d+)"', page.text) == ["2"]
    assert "/twitsocket/api/top?wall=room-b" in page.text
    assert app.test_client().get("/twitsocket/w/nowhere/wall").status_code == 404
    default = app.test_client().get("/twitsocket/wall").text
    assert "<title>DevConf</title>" in default and "?wall=" not in default


def test_the_index_lists_the_live_walls_with_their_projectors(app):
    ingest(app, x_post(1, text="#python"), x_post(2, text="#devconf26"))
    page = app.test_client().get("/twitsocket/walls")
    assert page.status_code == 200 and "script-src" not in page.headers[
        "Content-Security-Policy"]
    rows = re.findall(r'<li data-wall="([^"]+)"><a href="([^"]+)">([^<]+)</a>\s*'
                      r'<span class="twitsocket-count">(\d+)</span>', page.text)
    assert rows == [("main", "/twitsocket/wall", "DevConf", "1"),
                    ("room-a", "/twitsocket/w/room-a/wall", "Room A", "2"),
                    ("room-b", "/twitsocket/w/room-b/wall", "Room B", "0")]
    fr = app.test_client().get("/twitsocket/walls", headers={"Accept-Language": "fr"})
    assert "<h1>Murs en direct</h1>" in fr.text


def test_the_demo_runs_three_walls_from_the_one_recording(database_url):
    from demo_app import create_app
    from demo_app.__main__ import DEMO_WALLS
    from flask_twitsocket.config_table import BUNDLED_REPLAY_FILE

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TWITSOCKET_WALLS": DEMO_WALLS})
    state = app.extensions["twitsocket"]
    if not database_url.startswith("sqlite"):
        from flask_twitsocket.models import metadata
        metadata.drop_all(state.engine)
    state.create_tables()
    lines = BUNDLED_REPLAY_FILE.read_text(encoding="utf-8").splitlines()
    build_ingestor(state).ingest([RawEvent("x", line) for line in lines if line.strip()])
    client = app.test_client()
    counts = {wall["slug"]: wall["count"]
              for wall in client.get("/twitsocket/api/walls").get_json()["walls"]}
    assert list(counts) == ["main", "python-room", "security-room"]
    assert counts["main"] > counts["python-room"] > 0 and counts["security-room"] > 0
    assert counts["main"] == state.store.count()  # the main wall shows every post
    python = client.get("/twitsocket/api/tweets?wall=python-room&limit=200").get_json()
    assert all("python" in post["text"].lower() for post in python["tweets"])
    assert "Live walls" in client.get("/").text
    state.store.refresh_top()  # the main wall shows everything: its top lists are cached
    top = client.get("/twitsocket/api/top?limit=5").get_json()
    assert top == client.get("/twitsocket/api/top?wall=main&limit=5").get_json()
    assert len(top["users"]) == 5
    room = client.get("/twitsocket/api/top?wall=python-room&limit=5").get_json()
    assert 0 < room["users"][0]["post_count"] <= top["users"][0]["post_count"]
    state.hub.stop()


def test_the_walls_page_configuration_example_works_as_it_says(database_url):
    """docs/walls.md's configuration block, run as written: the default wall shows every
    post, each room only its own; the page's routes answer for a room."""
    from pathlib import Path

    from flask import Flask

    from flask_twitsocket import TwitSocket

    page = (Path(__file__).resolve().parent.parent / "docs" / "walls.md").read_text()
    block = re.search(r"```python\n(app\.config\.update\(.*?)```", page, re.S).group(1)
    fresh_app(database_url).extensions["twitsocket"].engine.dispose()  # empty tables
    app = Flask("walls_docs")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, TESTING=True)
    exec(block, {"app": app})  # noqa: S102 - our own documentation's example
    TwitSocket(app)
    ingest(app, x_post(1, text="Great #python talk"),
           x_post(2, text="security keynote", user_id="9", username="bob"),
           x_post(3, text="Hello #devconf26"),
           x_post(4, text="by the tracked account", user_id="1234567", username="sec"))
    assert sorted(ids(app, None)) == ["1", "2", "3", "4"]  # main shows every post
    assert ids(app, "room-a") == ["1"]
    assert sorted(ids(app, "room-b")) == ["2", "4"]
    client = app.test_client()
    for url in ("/twitsocket/w/room-a/wall", "/twitsocket/api/top?wall=room-a",
                "/twitsocket/walls", "/twitsocket/api/walls"):
        assert client.get(url).status_code == 200, url
    assert 'data-accent="#3572a5"' in client.get("/twitsocket/w/room-a/wall").text
    app.extensions["twitsocket"].engine.dispose()
