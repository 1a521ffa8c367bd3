"""What a browser sees: the macros' HTML, the JSON API, and the websocket feed fed by a
separate stream process."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from conftest import wait_until, write_jsonl, x_post
from flask import render_template_string
from moderation_helpers import MODERATED, Console
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor

MACROS = ('{% from "twitsocket/macros.html" import render_tweets, websocket_client, count, '
          'top_users, top_tweets, retweet_switch, stylesheet %}')


def store(app, *events):
    state = app.extensions["twitsocket"]
    build_ingestor(state).ingest(
        [RawEvent("x", json.dumps(e)) for e in events])


def render(app, template):
    with app.test_request_context():
        return render_template_string(MACROS + template)


def retweet_of(post_id, original, username="bob", user_id="7"):
    event = x_post(post_id, text=f"RT @alice: {original['data']['text']}",
                   username=username, user_id=user_id,
                   referenced_tweets=[{"type": "retweeted", "id": original["data"]["id"]}])
    event["includes"]["tweets"] = [original["data"]]
    return event


# --- macros ---------------------------------------------------------------------------


def test_render_tweets_shows_the_newest_n_escaped(app):
    store(app, *[x_post(i, text=f"post {i} <b>bold</b>") for i in range(1, 6)])
    html = render(app, "{{ render_tweets(3) }}")
    assert re.findall(r'data-id="(\d+)"', html) == ["5", "4", "3"]
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>" not in html
    assert 'data-limit="3"' in html


def test_count_macro(app):
    store(app, x_post(1), x_post(2))
    assert render(app, "{{ count() }}") == (
        '<span class="twitsocket-count" data-twitsocket-count>2</span>')


def test_websocket_client_has_no_inline_script(app):
    html = render(app, "{{ websocket_client() }}")
    assert 'data-ws-url="/twitsocket/ws"' in html
    assert 'data-api-url="/twitsocket/api/tweets"' in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)


def test_websocket_url_setting_reaches_the_client(database_url):
    from conftest import make_app

    app = make_app(database_url, TWITSOCKET_WEBSOCKET_URL="wss://ws.example.com/live")
    assert 'data-ws-url="wss://ws.example.com/live"' in render(app, "{{ websocket_client() }}")


def test_top_users_and_top_tweets_after_the_top_command(app, run_cli):
    alice_1 = x_post(1, text="first", public_metrics={"retweet_count": 1})
    alice_2 = x_post(2, text="second", public_metrics={"retweet_count": 9})
    bob = x_post(3, text="bob's", username="bob", user_id="7")
    store(app, alice_1, alice_2, bob, retweet_of(4, alice_1, "dave", "6"),
          retweet_of(5, alice_1, "carol", "8"))
    assert run_cli("top").returncode == 0
    users = render(app, "{{ top_users(10) }}")
    names = re.findall(r'class="username"[^>]*>@(\w+)<', users)
    assert names[0] == "alice" and sorted(names[1:]) == ["bob", "carol", "dave"]
    assert '<span class="post-count">2</span>' in users
    tweets = render(app, "{{ top_tweets(2) }}")
    assert re.findall(r'data-id="(\d+)"', tweets) == ["2", "1"]  # 9 reposts, then 2 stored


def test_retweet_switch(app):
    html = render(app, "{{ retweet_switch() }}")
    assert "data-twitsocket-retweet-switch" in html
    assert "<button" in html and "onclick" not in html


def test_macros_mark_retweets_for_the_switch(app):
    original = x_post(1)
    store(app, original, retweet_of(2, original))
    html = render(app, "{{ render_tweets(5) }}")
    assert re.findall(r'data-id="(\d+)"\s+data-network="x"\s+data-retweet="(\w+)"', html) == [
        ("2", "true"), ("1", "false")]


# --- JSON API -------------------------------------------------------------------------


def test_api_catch_up_since_id(app):
    store(app, x_post(1), x_post(2), x_post(3))
    client = app.test_client()
    everything = client.get("/twitsocket/api/tweets").get_json()
    assert [t["id"] for t in everything["tweets"]] == ["3", "2", "1"]
    oldest_seq = everything["tweets"][-1]["seq"]
    newer = client.get(f"/twitsocket/api/tweets?since_id={oldest_seq}").get_json()
    assert [t["id"] for t in newer["tweets"]] == ["3", "2"]
    assert newer["count"] == 3
    limited = client.get(f"/twitsocket/api/tweets?since_id={oldest_seq}&limit=1").get_json()
    assert [t["id"] for t in limited["tweets"]] == ["3"]


@pytest.mark.parametrize("query", ["since_id=abc", "limit=0", "limit=-3", "since_id=1.5"])
def test_api_rejects_bad_parameters_clearly(app, query):
    response = app.test_client().get(f"/twitsocket/api/tweets?{query}")
    assert response.status_code == 400
    assert "error" in response.get_json()


def api_answer(app, query):
    return app.test_client().get(f"/twitsocket/api/tweets?{query}").get_json()


def test_api_catch_up_without_shown_has_no_gone(app):
    store(app, x_post(1))
    assert "gone" not in api_answer(app, "since_id=0")


@pytest.mark.parametrize("app_config", [MODERATED])
def test_api_gone_names_the_shown_posts_deleted_hidden_or_unknown(app):
    store(app, *[x_post(i) for i in range(1, 5)])
    seqs = {post["id"]: post["seq"] for post in api_answer(app, "")["tweets"]}
    newest = max(int(seq) for seq in seqs.values())
    store(app, {"delete": {"status": {"id_str": "2"}}})
    console = Console(app.test_client()).open()
    console.act("hide", "x:3")
    shown = ",".join([seqs["4"], seqs["3"], seqs["2"], seqs["1"], str(newest + 50)])
    caught_up = api_answer(app, f"since_id={newest}&shown={shown}")
    assert caught_up["tweets"] == []
    assert caught_up["gone"] == [seqs["3"], seqs["2"], str(newest + 50)]  # in the given order
    alone = api_answer(app, f"shown={seqs['1']},{seqs['2']}")
    assert alone["gone"] == [seqs["2"]]
    assert [post["id"] for post in alone["tweets"]] == ["4", "1"]  # works without since_id
    assert api_answer(app, "shown=")["gone"] == []
    console.act("unhide", "x:3")  # shown again, with a fresh seq: the old one stays gone
    again = api_answer(app, f"since_id={newest}&shown={seqs['3']}")
    assert again["gone"] == [seqs["3"]]
    assert [post["id"] for post in again["tweets"]] == ["3"]
    assert int(again["tweets"][0]["seq"]) > newest


@pytest.mark.parametrize("shown, message", [
    ("1,abc", "shown (item 2) must be a whole number"),
    ("1,,2", "shown (item 2) must be a whole number"),
    ("-1", "shown (item 1) must be a whole number"),
    ("1.5", "shown (item 1) must be a whole number"),
    (",".join(map(str, range(1, 202))), "shown must list at most 200 numbers, not 201"),
])
def test_api_refuses_a_bad_shown_list_clearly(app, shown, message):
    response = app.test_client().get(f"/twitsocket/api/tweets?shown={shown}")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith(message)


def test_api_takes_200_shown_seqs(app):
    store(app, x_post(1))
    seq = api_answer(app, "")["tweets"][0]["seq"]
    shown = [seq, *(str(n) for n in range(10_000, 10_199))]
    assert api_answer(app, "shown=" + ",".join(shown))["gone"] == shown[1:]


def test_api_limit_is_capped(app):
    store(app, *[x_post(i) for i in range(1, 8)])
    app.extensions["twitsocket"].settings._values["MAX_LIMIT"] = 5
    body = app.test_client().get("/twitsocket/api/tweets?limit=1000").get_json()
    assert len(body["tweets"]) == 5


# --- the live feed --------------------------------------------------------------------


def receive_until(ws, predicate, timeout=20.0):
    """Collect messages until ``predicate(messages)`` holds."""
    messages = []

    def check():
        with contextlib.suppress(TimeoutError):
            messages.append(json.loads(ws.recv(timeout=0.2)))
        return predicate(messages)

    wait_until(check, timeout=timeout, interval=0, message="websocket messages")
    return messages


def tweets_in(messages):
    return [m["tweet"]["id"] for m in messages if m["type"] == "tweet"]


def test_websocket_delivers_posts_stored_by_a_separate_stream_process(
        live_server, start_cli, tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl",
                            [x_post(i, text=f"live {i}") for i in range(1, 6)] + [x_post(3)])
    with connect(f"{live_server.ws_url}/twitsocket/ws") as ws:
        first = json.loads(ws.recv(timeout=5))
        assert first == {"type": "count", "count": 0}
        start_cli("stream", "--source", "replay", env={
            "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "20"})
        messages = receive_until(ws, lambda m: {"type": "count", "count": 5} in m)
        assert tweets_in(messages) == ["1", "2", "3", "4", "5"]
        counts = [m["count"] for m in messages if m["type"] == "count"]
        assert counts[-1] == 5 and counts == sorted(counts)
        tweet = next(m["tweet"] for m in messages if m["type"] == "tweet")
        assert tweet["text"] == "live 1" and tweet["author"]["username"] == "alice"
        # the duplicate line at the end is stored once, never re-sent
        with pytest.raises(TimeoutError):
            while True:
                message = json.loads(ws.recv(timeout=1.0))
                assert message["type"] != "tweet", message


def test_websocket_delivers_deletions(live_server, app):
    store(app, x_post(1), x_post(2))
    with connect(f"{live_server.ws_url}/twitsocket/ws") as ws:
        assert json.loads(ws.recv(timeout=5))["count"] == 2
        state = app.extensions["twitsocket"]
        build_ingestor(state).ingest(
            [RawEvent("x", {"delete": {"status": {"id_str": "1"}}})])
        messages = receive_until(ws, lambda m: any(x["type"] == "count" for x in m))
    assert messages[0] == {"type": "delete", "id": "1", "network": "x", "seq": "1"}
    assert messages[1] == {"type": "count", "count": 1}


def test_websocket_refuses_a_foreign_origin(live_server):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live_server.ws_url}/twitsocket/ws",
                additional_headers={"Origin": "https://evil.example"})
    assert refused.value.response.status_code == 403
    with connect(f"{live_server.ws_url}/twitsocket/ws",
                 additional_headers={"Origin": live_server.url}) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "count"


def test_every_client_gets_every_post_once(live_server, app):
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(f"{live_server.ws_url}/twitsocket/ws"))
                   for _ in range(5)]
        for ws in sockets:
            ws.recv(timeout=5)
        for i in range(1, 21):
            store(app, x_post(i))
        for ws in sockets:
            messages = receive_until(ws, lambda m: len(tweets_in(m)) >= 20)
            assert tweets_in(messages) == [str(i) for i in range(1, 21)]
