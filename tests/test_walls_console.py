"""Walls created, edited and archived in the console without a restart: the JSON API
(``<prefix>/moderate/api/walls``), what the site serves right after each change, the
action log, refusals that write nothing, and how a config wall and a console edit combine
(the console's edit survives a restart)."""

from __future__ import annotations

import json

import pytest
from conftest import make_app, x_post
from flask import Flask
from moderation_helpers import MODERATED, PREFIX, Console, Listener, ingest
from sqlalchemy import select

from flask_twitsocket import TwitSocket
from flask_twitsocket.models import ModerationAction, Wall, metadata

WALLS_API = f"{PREFIX}/moderate/api/walls"


@pytest.fixture
def app_config():
    return dict(MODERATED)  # a single-wall site, as before walls


def post(console, url, body=None, status=200):
    answer = console.client.post(url, json=body if body is not None else {},
                                 headers={"X-CSRF-Token": console.token})
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()


def ids(client, wall):
    body = client.get(f"{PREFIX}/api/tweets?wall={wall}").get_json()
    return sorted(p["id"] for p in body["tweets"]), body["count"]


def listing(console):
    return {wall["slug"]: wall for wall in console.client.get(WALLS_API).get_json()["walls"]}


def test_a_wall_created_in_the_console_is_served_at_once(app, live_server):
    ingest(app, x_post(1, text="before any room #python"))  # stored by a one-wall site
    client = app.test_client()
    console = Console(client).open()
    assert client.get(f"{PREFIX}/api/tweets?wall=room-a").status_code == 404

    entry = post(console, WALLS_API, {"slug": "room-a", "title": "Room A <Python>",
                                      "track_keywords": "#python, django",
                                      "accent": "#3572a5"})["entry"]
    assert (entry["action"], entry["target"], entry["wall"]) == (
        "create-wall", "room-a", "room-a")
    assert [w["slug"] for w in client.get(f"{PREFIX}/api/walls").get_json()["walls"]] == [
        "main", "room-a"]
    page = client.get(f"{PREFIX}/walls").text
    assert "Room A &lt;Python&gt;" in page and f'href="{PREFIX}/w/room-a/wall"' in page
    projector = client.get(f"{PREFIX}/w/room-a/wall")
    assert projector.status_code == 200 and "#3572a5" in projector.text
    assert listing(console)["room-a"]["track_keywords"] == ["#python", "django"]
    # the default wall keeps the posts stored while the site had one wall
    assert ids(client, "main") == (["1"], 1)

    room = Listener(f"{live_server.ws_url}{PREFIX}/ws?wall=room-a")
    assert room.next()["type"] == "count"
    ingest(app, x_post(2, text="Django tips"), x_post(3, text="#rust only"))
    assert room.wait_for(lambda m: m["type"] == "tweet")["tweet"]["id"] == "2"
    assert ids(client, "room-a") == (["2"], 1)
    assert ids(client, "main") == (["1", "2", "3"], 3)
    assert "3" not in [m["tweet"]["id"] for m in room.messages if m["type"] == "tweet"]
    room.close()
    assert [e["action"] for e in console.state()["log"]][:1] == ["create-wall"]


def test_editing_a_wall_changes_what_it_receives(app):
    client = app.test_client()
    console = Console(client).open()
    post(console, WALLS_API, {"slug": "room-a", "track_keywords": ['#python', '"web apps"']})
    assert listing(console)["room-a"]["track_keywords"] == ["#python", '"web apps"']
    entry = post(console, f"{WALLS_API}/room-a", {"track_keywords": ["#rust"],
                                                   "title": "Room A"})["entry"]
    assert (entry["action"], entry["wall"]) == ("edit-wall", "room-a")
    with app.extensions["twitsocket"].engine.connect() as conn:  # before and after, audited
        detail = conn.execute(select(ModerationAction.__table__.c.detail).where(
            ModerationAction.__table__.c.id == int(entry["id"]))).scalar_one()
    assert json.loads(detail)["before"]["track_keywords"] == ["#python", '"web apps"']
    assert json.loads(detail)["after"]["track_keywords"] == ["#rust"]
    ingest(app, x_post(1, text="#python"), x_post(2, text="#rust"))
    assert ids(client, "room-a") == (["2"], 1)
    edited = listing(console)["room-a"]
    assert (edited["title"], edited["track_keywords"]) == ("Room A", ["#rust"])
    post(console, f"{WALLS_API}/nowhere", {"title": "x"}, status=404)


def test_archiving_ends_a_wall_and_keeps_its_posts(app):
    client = app.test_client()
    console = Console(client).open()
    post(console, WALLS_API, {"slug": "room-a", "title": "Room A",
                              "track_keywords": ["#python"]})
    ingest(app, x_post(1, text="#python"))
    entry = post(console, f"{WALLS_API}/room-a/archive")["entry"]
    assert (entry["action"], entry["wall"]) == ("archive-wall", "room-a")
    assert [w["slug"] for w in client.get(f"{PREFIX}/api/walls").get_json()["walls"]] == [
        "main"]
    assert "room-a" not in client.get(f"{PREFIX}/walls").text
    ended = client.get(f"{PREFIX}/w/room-a/wall")
    assert ended.status_code == 410 and "This wall has ended." in ended.text
    assert "<script" not in ended.text
    ingest(app, x_post(2, text="#python again"))
    assert ids(client, "room-a") == (["1"], 1)  # its posts stay; no new one arrives
    assert listing(console)["room-a"]["archived"] is True
    post(console, f"{WALLS_API}/room-a/archive", status=404)
    post(console, f"{WALLS_API}/main/archive", status=400)
    post(console, WALLS_API, {"slug": "room-a"}, status=409)  # the slug stays taken
    post(console, f"{PREFIX}/moderate/api/undo", {"target": entry["id"]}, status=400)


@pytest.mark.parametrize(("body", "message"), [
    ({"slug": "Room A"}, "is not a wall slug"),
    ({"slug": "room-a", "moderation": "never"}, "'room-a'.moderation: must be one of"),
    ({"slug": "room-a", "track_keywords": ["machine learning"]}, "'room-a'.track_keywords"),
    ({"slug": "room-a", "track_users": ["alice"]}, "'room-a'.track_users"),
    ({"slug": "room-a", "logo_url": "javascript:alert(1)"}, "'room-a'.logo_url"),
    ({"slug": "room-a", "colour": "red"}, "unknown wall setting"),
    ({"slug": "main"}, "already a wall"),
])
def test_a_bad_wall_is_refused_and_nothing_is_written(app, body, message):
    console = Console(app.test_client()).open()
    answer = post(console, WALLS_API, body, status=409 if body == {"slug": "main"} else 400)
    assert message in answer["error"]
    assert list(listing(console)) == ["main"]
    assert console.state()["log"] == []


def test_only_a_site_moderator_changes_walls(database_url):
    app = Flask("rooms")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, TESTING=True,
                      SECRET_KEY="test-secret")

    def volunteer(wall=None):  # lets in room-a's volunteer, for room-a only
        return "vera" if wall == "room-a" else None

    TwitSocket(app, moderator_required=volunteer)
    metadata.create_all(app.extensions["twitsocket"].engine)
    client = app.test_client()
    assert client.get(WALLS_API).status_code == 403
    assert client.post(WALLS_API, json={"slug": "room-b"}).status_code == 403
    assert client.post(f"{WALLS_API}/room-a", json={"title": "Mine"}).status_code == 403


def test_a_post_without_the_csrf_token_changes_no_wall(app):
    console = Console(app.test_client()).open()
    answer = console.client.post(WALLS_API, json={"slug": "room-a"})
    assert answer.status_code == 403
    assert list(listing(console)) == ["main"]


def test_a_console_edit_of_a_config_wall_survives_a_restart(app, database_url):
    config = {**MODERATED, "TWITSOCKET_WALLS": {"room-a": {"track_keywords": ["#python"]},
                                                "room-b": {"track_keywords": ["#rust"]}}}
    site = make_app(database_url, **config)
    state = site.extensions["twitsocket"]
    state.store.record_walls(state.config_walls)  # what the stream does at start
    console = Console(site.test_client()).open()
    post(console, f"{WALLS_API}/room-a", {"track_keywords": ["#django"]})
    post(console, f"{WALLS_API}/room-b/archive")

    restarted = make_app(database_url, **config)
    again = restarted.extensions["twitsocket"]
    again.store.record_walls(again.config_walls)
    walls = restarted.test_client().get(f"{PREFIX}/api/walls").get_json()["walls"]
    assert [(w["slug"], w["track_keywords"]) for w in walls] == [
        ("main", []), ("room-a", ["#django"])]
    assert restarted.test_client().get(f"{PREFIX}/w/room-b/wall").status_code == 410
    with again.engine.begin() as conn:  # the wall given back to the config (docs/walls.md)
        conn.execute(Wall.__table__.delete().where(Wall.__table__.c.slug == "room-a"))
    again.refresh_walls(force=True)
    walls = restarted.test_client().get(f"{PREFIX}/api/walls").get_json()["walls"]
    assert [(w["slug"], w["track_keywords"]) for w in walls][1] == ("room-a", ["#python"])
    for each in (state, again):
        each.hub.stop()
        each.engine.dispose()
