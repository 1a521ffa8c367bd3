"""Several walls, one connection per network: a real ``flask twitsocket stream`` against
the fake X API, whose rules carry the wall in their tag and whose deliveries carry
``matching_rules`` (as X's filtered stream does)."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime

import pytest
from conftest import wait_until, x_post
from test_x_stream import LONG, x_env
from test_x_stream import fake_x as fake_x  # noqa: F401 (the fixture)

from flask_twitsocket.models import Wall

WALLS = {"room-a": {"track_keywords": ["#python"]}, "room-b": {"track_users": ["7"]}}


@pytest.fixture
def app_config():
    return {"TWITSOCKET_WALLS": WALLS}  # the web app reads the walls the stream writes


def ids(app, wall):
    body = app.test_client().get(f"/twitsocket/api/tweets?wall={wall}&limit=50").get_json()
    return sorted(post["id"] for post in body["tweets"])


def test_x_rules_carry_each_walls_tag_and_route_the_posts(app, fake_x, start_cli):
    stale = fake_x.add_rule("#devconf26", "twitsocket")  # the single-wall site's rule
    foreign = fake_x.add_rule("from:12345", "another-tool")
    fake_x.script = [[
        ("post", x_post(1, text="Opening #devconf26 #Python")),        # main, room-a
        ("post", x_post(2, text="hello from seven", user_id="7")),      # main, room-b
        # matched by X on the expanded link (not in the text): X's tag routes it
        ("post", {**x_post(3, text="see https://t.co/x"), "matching_rules": [
            {"id": "1", "tag": "twitsocket:room-a"}]}),
    ]]
    walls = Wall.__table__
    with app.extensions["twitsocket"].engine.begin() as conn:  # a room of last year
        conn.execute(walls.insert().values(slug="old-room", title="Old", spec="{}",
                                           archived=False, updated_at=datetime.now(UTC)))
    process = start_cli("stream", "--source", "x", env=x_env(
        fake_x, TWITSOCKET_TRACK_KEYWORDS="#devconf26", TWITSOCKET_WALLS=json.dumps(WALLS)))
    wait_until(lambda: len(ids(app, "main")) == 3, timeout=LONG, message="the posts")
    rules = sorted((rule["tag"], rule["value"]) for rule in fake_x.rules.values())
    assert rules == [("another-tool", "from:12345"), ("twitsocket:main", "#devconf26"),
                     ("twitsocket:room-a", "#python"), ("twitsocket:room-b", "from:7")]
    assert stale not in fake_x.rules and foreign in fake_x.rules
    assert ids(app, "room-a") == ["1", "3"]
    assert ids(app, "room-b") == ["2"]
    with app.extensions["twitsocket"].engine.connect() as conn:
        recorded = {row.slug: (row.archived, json.loads(row.spec).get("track_keywords"))
                    for row in conn.execute(walls.select())}
    assert recorded == {"main": (False, ["#devconf26"]), "room-a": (False, ["#python"]),
                        "room-b": (False, []), "old-room": (True, None)}
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
