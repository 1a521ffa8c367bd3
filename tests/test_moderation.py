"""Moderation through its public interfaces: the console's URLs and actions, the JSON API,
and the websocket messages walls and consoles receive from a live server."""

from __future__ import annotations

import pytest
from conftest import fresh_app, make_app, wait_until, x_post
from flask import Flask, request
from moderation_helpers import (
    MODERATED,
    PASSWORD,
    PREFIX,
    Console,
    Listener,
    api_count,
    api_ids,
    ingest,
)
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from flask_twitsocket import TwitSocket


@pytest.fixture
def app_config():
    return dict(MODERATED)


@pytest.fixture
def console(app) -> Console:
    return Console(app.test_client()).open()


def moderation_rules(app) -> list[tuple[str, str, set[str]]]:
    return [(rule.rule, rule.endpoint, set(rule.methods or ()) - {"HEAD", "OPTIONS"})
            for rule in app.url_map.iter_rules() if rule.rule.startswith(f"{PREFIX}/moderate")]


def repost_of(post_id, original, username="bob", user_id="7"):
    event = x_post(post_id, text=f"RT @{original['includes']['users'][0]['username']}: "
                   f"{original['data']['text']}", username=username, user_id=user_id,
                   referenced_tweets=[{"type": "retweeted", "id": original["data"]["id"]}])
    event["includes"]["tweets"] = [original["data"]]
    event["includes"]["users"].append(original["includes"]["users"][0])
    return event


# --- protection ---------------------------------------------------------------------------


def test_every_moderation_url_refuses_without_credentials(app, live_server):
    rules = moderation_rules(app)
    endpoints = {endpoint for _rule, endpoint, _methods in rules}
    assert {"twitsocket.moderate", "twitsocket.moderate_login", "twitsocket.moderate_logout",
            "twitsocket.moderate_state", "twitsocket.moderate_action",
            "twitsocket.moderate_ws"} <= endpoints
    client = app.test_client()
    for rule, endpoint, methods in rules:
        if endpoint == "twitsocket.moderate_ws":
            continue  # only a websocket handshake reaches it: tried below
        path = rule.replace("<name>", "hide")
        for method in methods:
            answer = client.open(path, method=method, json={"target": "x:1"})
            assert answer.status_code in (401, 403), (method, path, answer.status_code)
            assert b'data-csrf="' not in answer.data
    # a wrong password is no credential either
    assert Console(app.test_client()).login("guess").status_code == 401
    # the real websocket handshake is refused before the upgrade
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live_server.ws_url}{PREFIX}/moderate/ws", open_timeout=10)
    assert refused.value.response.status_code == 401


def test_without_a_password_or_a_check_everyone_is_refused(database_url):
    app = make_app(database_url)
    app.extensions["twitsocket"].create_tables()
    client = app.test_client()
    assert client.get(f"{PREFIX}/moderate").status_code == 403
    assert client.get(f"{PREFIX}/moderate/api/state").status_code == 403


def test_the_host_app_decides_who_moderates(database_url):
    twitsocket = TwitSocket()
    app = Flask("host")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="x")
    twitsocket.init_app(app)

    @twitsocket.moderator_check
    def is_moderator():
        return request.headers.get("X-Test-User") == "carol" and "carol"

    state = app.extensions["twitsocket"]
    state.create_tables()
    ingest(app, x_post(1))
    client = app.test_client()
    assert client.get(f"{PREFIX}/moderate").status_code == 403
    page = client.get(f"{PREFIX}/moderate", headers={"X-Test-User": "carol"})
    assert page.status_code == 200
    console = Console(client)
    console.token = page.text.split('data-csrf="')[1].split('"')[0]
    answer = client.post(f"{PREFIX}/moderate/api/hide", json={"target": "x:1"},
                         headers={"X-Test-User": "carol", "X-CSRF-Token": console.token})
    assert answer.status_code == 200
    assert answer.get_json()["entry"]["moderator"] == "carol"


def test_a_post_without_the_csrf_token_is_refused(app, console):
    ingest(app, x_post(1))
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        answer = console.client.post(f"{PREFIX}/moderate/api/hide", json={"target": "x:1"},
                                     headers=headers)
        assert answer.status_code == 403
    assert api_ids(console.client) == ["1"]
    # the login form is protected too (login CSRF)
    fresh = app.test_client()
    assert fresh.post(f"{PREFIX}/moderate/login",
                      data={"password": PASSWORD}).status_code == 403
    console.act("hide", "x:1")
    assert api_ids(console.client) == []


def test_logins_are_rate_limited_per_address(app):
    for _ in range(5):
        assert Console(app.test_client()).login("wrong", "10.0.0.1").status_code == 401
    limited = Console(app.test_client()).login(PASSWORD, "10.0.0.1")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert Console(app.test_client()).login(PASSWORD, "10.0.0.2").status_code == 303


def test_logout_and_a_changed_password_end_the_session(app, console):
    console.client.post(f"{PREFIX}/moderate/logout", data={"csrf_token": console.token})
    assert console.client.get(f"{PREFIX}/moderate/api/state").status_code == 401


# --- actions reach walls ----------------------------------------------------------------


def test_a_hide_reaches_an_open_wall_and_leaves_the_api(app, console, live_server):
    ingest(app, x_post(1, text="keep me"), x_post(2, text="remove me"))
    wall = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    assert wall.next() == {"type": "count", "count": 2}
    console.act("hide", "x:2")
    deleted = wall.wait_for(lambda m: m["type"] == "delete")
    assert deleted["id"] == "2" and deleted["network"] == "x"
    wall.wait_for(lambda m: m["type"] == "count" and m["count"] == 1)
    assert api_ids(console.client) == ["1"]
    assert api_count(console.client) == 1
    # a re-delivery (a restart, a catch-up from the network) does not bring it back
    ingest(app, x_post(2, text="remove me"))
    assert api_ids(console.client) == ["1"]
    # undo: it comes back, as a new post for every wall's catch-up cursor
    hide_id = console.state()["log"][0]["id"]
    console.act("undo", hide_id)
    back = wall.wait_for(lambda m: m["type"] == "tweet")
    assert back["tweet"]["id"] == "2" and int(back["tweet"]["seq"]) > 2
    assert api_ids(console.client) == ["2", "1"]
    assert "mod:log" not in wall.types()  # moderator messages never reach walls
    wall.close()


def test_pin_and_unpin_reach_walls_and_a_new_wall_is_told(app, console, live_server):
    ingest(app, x_post(1), x_post(2))
    wall = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    wall.next()
    console.act("pin", "x:1")
    pinned = wall.wait_for(lambda m: m["type"] == "pin")
    assert pinned["tweet"]["id"] == "1" and pinned["tweet"]["text"]
    late = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    assert late.next()["type"] == "count"
    assert late.next()["type"] == "pin"
    console.act("unpin", "x:1")
    assert wall.wait_for(lambda m: m["type"] == "unpin") == {
        "type": "unpin", "id": "1", "network": "x"}
    console.act("unpin", "x:1", status=404)
    # walls share what they are told on connecting until the next broadcast: the unpin
    # was one, so a wall connecting now is not told of the old pin
    later = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    assert later.next() == {"type": "count", "count": 2}
    ingest(app, x_post(3))
    assert later.next()["type"] == "tweet"
    wall.close()
    late.close()
    later.close()


def test_every_action_is_logged_and_undoable(app, console):
    ingest(app, x_post(1))
    console.act("hide", "x:1")
    entry = console.state()["log"][0]
    assert entry["moderator"] == "moderator" and entry["action"] == "hide"
    assert entry["target"] == "x:1" and entry["created_at"].endswith("Z")
    console.act("undo", entry["id"])
    log = console.state()["log"]
    assert [e["action"] for e in log] == ["unhide", "hide"]
    assert log[1]["undone_at"] and log[0]["undoes"] == entry["id"]
    console.act("undo", entry["id"], status=409)  # once only
    assert api_ids(console.client) == ["1"]
    console.act("explode", "x:1", status=404)
    console.act("hide", "not-a-post", status=400)


# --- rules ------------------------------------------------------------------------------


def test_a_blocked_word_hides_matching_posts_and_holds_new_ones(app, console):
    ingest(app, x_post(1, text="Great talk"), x_post(2, text="Buy SPAM now!"),
           x_post(3, text="spammer alert"), x_post(4, text="#spam everywhere"),
           x_post(5, text="buy   now, friends"))
    console.act("block", "Spam")
    assert sorted(api_ids(console.client)) == ["1", "3", "5"]  # whole words only
    console.act("block", "buy now")  # a phrase; any spacing
    assert sorted(api_ids(console.client)) == ["1", "3"]
    # new posts with a blocked word (as the profanity rule reads words: leetspeak too)
    # wait in the queue with the word as the reason, and the log has the rule's decision
    stats = ingest(app, x_post(6, text="more sp4m!"), x_post(7, text="no problem"))
    assert stats.held == 1 and stats.blocked == 0 and stats.stored == 1
    assert sorted(api_ids(console.client)) == ["1", "3", "7"]
    state = console.state()
    assert [(item["tweet"]["id"], item["rule"], item["reason"]) for item in state["queue"]
            ] == [("6", "profanity", "blocked word: 'spam'")]
    assert (state["log"][0]["moderator"], state["log"][0]["action"],
            state["log"][0]["target"]) == ("rule:profanity", "hold", "x:6")
    assert state["rule_counts"] == {"profanity": 1}
    assert state["rules"]["word"] == ["spam", "buy now"]
    console.act("approve", "x:6")  # one action releases it
    assert sorted(api_ids(console.client)) == ["1", "3", "6", "7"]
    assert console.state()["log"][0]["action"] == "approve"
    console.act("unblock", "SPAM")  # brings back what the rule hid, not more
    assert sorted(api_ids(console.client)) == ["1", "2", "3", "4", "6", "7"]


@pytest.mark.parametrize("app_config", [dict(MODERATED, TWITSOCKET_MODERATION="delay",
                                              TWITSOCKET_MODERATION_DELAY=3600)])
def test_a_new_blocked_word_holds_queued_posts_for_a_moderator(app, console):
    """A post waiting for delay mode's timer that has a word blocked meanwhile is not
    released when its time comes: it waits for a moderator, with the word as reason."""
    ingest(app, x_post(1, text="cheap spam here"), x_post(2, text="fine"))
    assert {item["tweet"]["id"]: item["rule"] for item in console.state()["queue"]
            } == {"1": None, "2": None}
    console.act("block", "spam")
    queue = {item["tweet"]["id"]: item for item in console.state()["queue"]}
    assert (queue["1"]["state"], queue["1"]["rule"], queue["1"]["reason"],
            queue["1"]["release_at"]) == ("waiting", "profanity", "blocked word: 'spam'", None)
    assert queue["2"]["rule"] is None and queue["2"]["release_at"] is not None
    assert console.state()["log"][0]["moderator"] == "moderator"  # the block, after the
    assert console.state()["log"][1]["moderator"] == "rule:profanity"  # rule's decision
    console.act("approve", "x:1")
    assert api_ids(console.client) == ["1"]


def test_an_edit_that_brings_in_a_blocked_word_hides_the_post(app, console):
    def status(text: str, event: str) -> dict:
        return {"event": event, "instance": "social.example", "payload": {
            "id": "109", "content": f"<p>{text}</p>", "created_at": "2026-11-28T10:00:00Z",
            "url": "https://social.example/@zed/109",
            "account": {"id": "3", "username": "zed", "acct": "zed", "display_name": "Zed"}}}

    console.act("block", "spoiler")
    ingest(app, status("The ending is great", "update"), network="mastodon")
    assert api_ids(console.client) == ["109"]
    stats = ingest(app, status("SPOILER: the butler did it", "status.update"),
                   network="mastodon")
    assert stats.blocked == 1 and stats.edited == 0
    assert api_ids(console.client) == []
    assert console.state()["log"][0]["moderator"] == "rules (edited post)"


def test_a_ban_hides_the_authors_posts_and_reposts_of_them(app, console):
    mallory = x_post(1, text="troll", username="Mallory", user_id="66")
    ingest(app, mallory, repost_of(2, mallory, "bob", "7"), x_post(3, text="fine"))
    assert sorted(api_ids(console.client)) == ["1", "2", "3"]
    console.act("ban", "@mallory")  # case and @ do not matter
    assert api_ids(console.client) == ["3"]
    stats = ingest(app, x_post(4, username="MALLORY", user_id="66"),
                   repost_of(5, mallory, "carol", "8"), x_post(6, username="dave"))
    assert stats.banned == 2
    assert sorted(api_ids(console.client)) == ["3", "6"]
    console.act("undo", console.state()["log"][0]["id"])
    assert sorted(api_ids(console.client)) == ["1", "2", "3", "6"]


def test_config_bans_and_console_bans_are_one_list(database_url):
    app = fresh_app(database_url, **MODERATED, TWITSOCKET_BANNED_USERS=["x:eve"])
    console = Console(app.test_client()).open()
    assert console.state()["config"]["banned"] == ["x:eve"]
    eve = x_post(1, username="Eve", user_id="5")
    assert ingest(app, eve, repost_of(2, eve)).banned == 2
    console.act("unban", "x:eve", status=404)  # configured bans are changed in the config


# --- trust modes ------------------------------------------------------------------------


@pytest.mark.parametrize("app_config", [{**MODERATED, "TWITSOCKET_MODERATION": "pre",
                                         "TWITSOCKET_TRUSTED_USERS": "speaker"}])
def test_pre_moderation_keeps_posts_off_walls_until_approved(app, console, live_server):
    wall = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    assert wall.next() == {"type": "count", "count": 0}
    moderator = Listener(f"{live_server.ws_url}{PREFIX}/moderate/ws",
                         additional_headers={"Cookie": console.session_cookie()})
    moderator.next()
    stats = ingest(app, x_post(1, text="hold me"), x_post(2, text="me too"),
                   x_post(3, text="keynote!", username="speaker", user_id="9"))
    assert stats.held == 2 and stats.stored == 1  # the trusted author skips the queue
    queued = moderator.wait_for(lambda m: m["type"] == "mod:queue")
    assert queued["event"] == "held" and queued["item"]["tweet"]["text"] == "hold me"
    assert api_ids(console.client) == ["3"]
    assert api_count(console.client) == 1
    assert [item["tweet"]["id"] for item in console.state()["queue"]] == ["2", "1"]
    console.act("trust", "Alice")  # console allow list: alice's next post skips the queue
    console.act("approve", "x:1")
    released = wall.wait_for(lambda m: m["type"] == "tweet" and m["tweet"]["id"] != "3")
    assert released["tweet"]["id"] == "1"
    console.act("veto", "x:2")
    assert sorted(api_ids(console.client)) == ["1", "3"]
    # what reached the wall: the trusted post, the approved one; never the vetoed one
    # nor a moderator message
    wall.wait_for(lambda m: m["type"] == "count" and m["count"] == 2)
    assert [m["tweet"]["id"] for m in wall.messages if m["type"] == "tweet"] == ["3", "1"]
    assert not [m for m in wall.messages if m["type"].startswith("mod")]
    assert ingest(app, x_post(4, text="trusted now")).stored == 1
    # the vetoed post stays out even when the network sends it again
    ingest(app, x_post(2, text="me too"))
    assert "2" not in api_ids(console.client)
    wall.close()
    moderator.close()


def test_delay_mode_releases_after_the_delay_unless_vetoed(app, console, start_cli,
                                                           tmp_path):
    from conftest import write_jsonl

    recording = write_jsonl(tmp_path / "r.jsonl", [x_post(1, text="wait for it"),
                                                   x_post(2, text="vetoed")])
    stream = start_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "50",
        "TWITSOCKET_MODERATION": "delay", "TWITSOCKET_MODERATION_DELAY": "6"})
    queue = wait_until(lambda: len(console.state()["queue"]) == 2 and console.state()["queue"],
                       timeout=30, message="both posts to be held")
    console.act("veto", "x:2")
    assert all(item["release_at"] for item in queue)
    assert api_ids(console.client) == []  # not before the delay
    wait_until(lambda: api_ids(console.client) == ["1"], timeout=30,
               message="the delayed post to go up")
    output, _ = stream.communicate(timeout=30)  # it ran on until nothing waited, then ended
    assert "1 held for moderation" in output or "held for moderation" in output
    assert api_ids(console.client) == ["1"]
    assert [item["state"] for item in console.state()["queue"]] == ["vetoed"]


@pytest.mark.parametrize("app_config", [{**MODERATED, "TWITSOCKET_MODERATION": "off"}])
def test_moderation_off_has_no_console(app):
    client = app.test_client()
    assert client.get(f"{PREFIX}/moderate").status_code == 404
    ingest(app, x_post(1))
    assert api_ids(client) == ["1"]


# --- websocket hygiene ------------------------------------------------------------------


def test_the_moderator_socket_checks_origin_and_gets_moderator_messages(app, console,
                                                                       live_server):
    cookie = {"Cookie": console.session_cookie()}
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{live_server.ws_url}{PREFIX}/moderate/ws", open_timeout=10,
                additional_headers=cookie, origin="https://evil.example")
    assert refused.value.response.status_code == 403
    moderator = Listener(f"{live_server.ws_url}{PREFIX}/moderate/ws",
                         additional_headers=cookie, origin=live_server.url)
    moderator.next()
    moderator.ws.send("unexpected chatter")  # ignored, the feed goes on
    ingest(app, x_post(1))
    assert moderator.wait_for(lambda m: m["type"] == "tweet")["tweet"]["id"] == "1"
    console.act("hide", "x:1")
    assert moderator.wait_for(lambda m: m["type"] == "mod:log")["entry"]["action"] == "hide"
    moderator.close()


def test_an_oversized_client_frame_closes_the_socket(live_server):
    wall = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    wall.next()
    wall.ws.send("x" * 100_000)  # SOCK_SERVER_OPTIONS max_message_size is 4 KiB
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            wall.next(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_an_unhidden_post_never_reuses_the_seq_of_a_post_deleted_at_the_source(
        app, console, live_server):
    """The newest post deleted at the source left its seq free on SQLite, and unhiding took
    it: walls that saw that seq deleted ignored the post until reloaded."""
    ingest(app, x_post(1, text="hidden for a while"), x_post(2, text="deleted by its author"))
    wall = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    wall.wait_for(lambda m: m["type"] == "count" and m["count"] == 2)
    console.act("hide", "x:1")
    ingest(app, {"delete": {"status": {"id_str": "2"}}})
    gone = wall.wait_for(lambda m: m["type"] == "delete" and m["id"] == "2")
    console.act("unhide", "x:1")
    back = wall.wait_for(lambda m: m["type"] == "tweet")
    assert back["tweet"]["id"] == "1"
    assert int(back["tweet"]["seq"]) > int(gone["seq"])
    # a wall catching up after the deletion it saw finds the post
    caught_up = console.client.get(f"{PREFIX}/api/tweets?since_id={gone['seq']}").get_json()
    assert [post["id"] for post in caught_up["tweets"]] == ["1"]
    # and once the unhidden post is deleted too, the next new post still gets a new seq
    ingest(app, {"delete": {"status": {"id_str": "1"}}})
    ingest(app, x_post(3, text="new"))
    new = wall.wait_for(lambda m: m["type"] == "tweet" and m["tweet"]["id"] == "3")
    assert int(new["tweet"]["seq"]) > int(back["tweet"]["seq"])
    wall.close()
