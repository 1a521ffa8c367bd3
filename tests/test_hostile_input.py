"""Hostile input a poster or a visitor controls, through the public paths: numbers in
query strings, headers and console actions; names that try to turn the projector's text
around; and blocked words dressed up to slip past the rule."""

from __future__ import annotations

import pytest
import requests
from conftest import x_post
from moderation_helpers import MODERATED, PREFIX, Console, ingest
from test_events import next_data, read_events
from test_web import render, store

pytest_plugins = ["browser"]  # chromium, wall_server, publisher, open_page

#: Values ``str.isdigit()`` accepted that ``int()`` or the database then refused (500s).
UNICODE_DIGITS = ["²", "٣", "１２"]
TOO_BIG = [str(2**63), "9" * 30, "9" * 5000]


# --- whole numbers from a request ----------------------------------------------------------


MALFORMED = UNICODE_DIGITS + ["-1", "1e3", " 1", "0x10"]


@pytest.mark.parametrize(("path", "value"), [
    *[("/api/tweets?since_id=", value) for value in MALFORMED + TOO_BIG],
    *[(path, value) for path in ("/api/tweets?limit=", "/api/top?limit=")
      for value in MALFORMED]])  # a too-large limit is clamped: see the next test
def test_bad_numbers_in_the_api_are_a_400_naming_the_parameter(app, path, value):
    answer = app.test_client().get(f"{PREFIX}{path}{value}")
    assert answer.status_code == 400, answer.text
    parameter = path.rsplit("?", 1)[1].rstrip("=")
    assert parameter in answer.get_json()["error"]


def test_a_too_large_limit_is_clamped_and_the_largest_since_id_is_fine(app):
    store(app, *[x_post(i) for i in range(1, 4)])
    client = app.test_client()
    for path in ("/api/tweets", "/api/top"):
        for value in TOO_BIG:
            assert client.get(f"{PREFIX}{path}?limit={value}").status_code == 200
    newest = client.get(f"{PREFIX}/api/tweets?since_id={2**63 - 1}")
    assert newest.status_code == 200 and newest.get_json()["tweets"] == []
    assert len(client.get(f"{PREFIX}/api/tweets?since_id=0007").get_json()["tweets"]) == 0
    assert len(client.get(f"{PREFIX}/api/tweets?since_id=000").get_json()["tweets"]) == 3


@pytest.mark.parametrize("value", UNICODE_DIGITS + TOO_BIG + ["0", "-1"])
def test_the_wall_page_shows_its_default_or_its_maximum(app, value):
    store(app, *[x_post(i) for i in range(1, 70)])
    answer = app.test_client().get(f"{PREFIX}/wall?n={value}")
    assert answer.status_code == 200
    expected = 60 if value in TOO_BIG else 12
    assert answer.text.count("<article ") == expected


@pytest.mark.parametrize(("how", "value"), [
    *[("query", value) for value in UNICODE_DIGITS + TOO_BIG],
    ("header", "²"), ("header", str(2**63)), ("header", "9" * 40)])
def test_a_bad_resume_point_on_the_event_stream_replays_nothing(live_server, app, how, value):
    store(app, x_post(1))
    kwargs = ({"headers": {"Last-Event-ID": value.encode("latin-1")}} if how == "header"
              else {"params": {"last_event_id": value}})
    with requests.get(f"{live_server.url}{PREFIX}/events", stream=True, timeout=10,
                      **kwargs) as response:
        assert response.status_code == 200
        stream = read_events(response)
        assert next_data(stream)["data"] == {"type": "count", "count": 1}


@pytest.mark.parametrize("value", UNICODE_DIGITS + TOO_BIG + ["0", "abc"])
def test_undo_of_a_bad_action_id_is_a_400(database_url, value):
    from conftest import fresh_app

    app = fresh_app(database_url, **MODERATED)
    console = Console(app.test_client()).open()
    answer = console.act("undo", value, status=400)
    assert "action id" in answer["error"]
    console.act("undo", str(2**63 - 1), status=404)  # well-formed, but no such action


# --- blocked words in disguise -------------------------------------------------------------

#: The five evasions of the attack report, each of the blocked word "scam".
DISGUISED = {
    "zero-width space": "total sc\u200bam, do not buy",
    "soft hyphen": "total sc\u00adam, do not buy",
    "full-width letters": "total ｓｃａｍ, do not buy",
    "homoglyphs": "total ѕсаm, do not buy",  # Cyrillic ѕ, с, а
    "combining marks": "total s\u0301c\u0308a\u0300m\u0327, do not buy",
}


@pytest.fixture
def moderated(database_url):
    from conftest import fresh_app

    app = fresh_app(database_url, **MODERATED)
    yield app
    app.extensions["twitsocket"].engine.dispose()


def shown(app) -> list[str]:
    body = app.test_client().get(f"{PREFIX}/api/tweets").get_json()
    return sorted(post["id"] for post in body["tweets"])


def test_a_blocked_word_in_disguise_is_still_held(moderated):
    """A word blocked in the console holds a post as the profanity rule does (it waits in
    the queue with the word as the reason), however the word is disguised."""
    console = Console(moderated.test_client()).open()
    console.act("block", "scam")
    posts = [x_post(i, text=text) for i, text in enumerate(DISGUISED.values(), start=1)]
    innocent = [x_post(10, text="scampi for lunch"), x_post(11, text="ｓｃａｍｐｉ again"),
                x_post(12, text="a sc\u200bampi night"), x_post(13, text="Escambia county")]
    stats = ingest(moderated, *posts, *innocent)
    assert (stats.held, stats.blocked) == (len(DISGUISED), 0), stats
    assert shown(moderated) == ["10", "11", "12", "13"]
    queue = console.state()["queue"]
    assert sorted(item["tweet"]["id"] for item in queue) == [
        str(i) for i in range(1, len(DISGUISED) + 1)]
    assert {item["reason"] for item in queue} == {"blocked word: 'scam'"}


def test_blocking_a_word_hides_stored_posts_in_disguise(moderated):
    console = Console(moderated.test_client()).open()
    posts = [x_post(i, text=text) for i, text in enumerate(DISGUISED.values(), start=1)]
    ingest(moderated, *posts, x_post(10, text="scampi for lunch"))
    console.act("block", "SCAM")
    assert shown(moderated) == ["10"]
    console.act("unblock", "scam")
    assert shown(moderated) == ["1", "10", "2", "3", "4", "5"]


# --- names that turn the projector around --------------------------------------------------

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
#: A right-to-left override left open in the name: "@mallory" after it read "yrollam@".
SPOOF = {"name": "Mallory \u202e", "username": "mallory", "user_id": "13"}
#: Every kind of control, including a PDI that would close an isolate early.
EVERY_CONTROL = {"name": "Mal\u2069lory\u2067" + BIDI, "username": "mallory", "user_id": "13"}


@pytest.mark.parametrize("author", [SPOOF, EVERY_CONTROL])
def test_the_macros_isolate_names_and_drop_bidi_controls(app, run_cli, author):
    store(app, x_post(1, **author), x_post(2, **author))
    assert run_cli("top").returncode == 0
    for macro in ("{{ render_tweets(5) }}", "{{ top_users(5) }}", "{{ top_tweets(5) }}"):
        html = render(app, macro)
        assert not any(char in html for char in BIDI), macro
        assert '<span class="name" dir="auto">Mallory' in html, macro
        assert '<span class="username" dir="ltr">@mallory</span>' in html, macro


def test_the_browser_shows_the_handle_as_sent(wall_server, publisher, open_page):
    publisher.publish(x_post(1, **SPOOF))  # rendered by the server
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("live")
    publisher.publish(x_post(2, **EVERY_CONTROL))  # rendered by twitsocket.js
    wall.wait_for_post(2)
    for post_id in ("1", "2"):
        header = f'#tweets article[data-id="{post_id}"] header'
        fields = wall.page.eval_on_selector(header, """header => [".name", ".username"].map(
            s => { const node = header.querySelector(s);
                   return [node.textContent, getComputedStyle(node).unicodeBidi]; })""")
        (name, name_bidi), (handle, handle_bidi) = fields
        assert handle == "@mallory" and handle_bidi == "isolate"
        assert name.startswith("Mal") and name_bidi == "isolate"
        assert not any(char in name + handle for char in BIDI)
    wall.assert_clean()
