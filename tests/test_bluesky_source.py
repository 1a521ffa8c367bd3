"""The Bluesky source: a real ``flask twitsocket stream`` process against a fake Jetstream
(websocket) and a fake AppView, checked through the JSON API."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_until
from fake_jetstream import FakeAppView, FakeJetstream, facet

from flask_twitsocket.sources.bluesky import JetstreamFilter

#: Bounded waits are generous: a loaded machine starts a Flask process slowly.
LONG = 60.0

ALICE = {"did": "did:plc:alice", "handle": "alice.bsky.social", "displayName": "Alice 🦋",
         "avatar": "https://cdn.bsky.app/img/avatar/plain/did:plc:alice/a@jpeg"}
BOB = {"did": "did:plc:bob", "handle": "bob.example.com", "displayName": "<b>Bob</b>"}
KEYNOTE = {"did": "did:plc:keynote", "handle": "keynote.devconf.example",
           "displayName": "DevConf Keynote"}
LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"


@pytest.fixture
def appview() -> Iterator[FakeAppView]:
    fake = FakeAppView([ALICE, BOB, KEYNOTE])
    yield fake
    fake.close()


def bluesky_env(jetstream: FakeJetstream, appview: FakeAppView, tmp_path: Path,
                **extra: str) -> dict[str, str]:
    return {"TWITSOCKET_BLUESKY_JETSTREAM_URL": jetstream.url,
            "TWITSOCKET_BLUESKY_APPVIEW_URL": appview.url,
            "TWITSOCKET_BLUESKY_STATE_FILE": str(tmp_path / "bluesky.json"),
            "TWITSOCKET_TRACK_KEYWORDS": "#devconf26,devconf,\"python conference\"",
            "TWITSOCKET_BLUESKY_ACCOUNTS": "@keynote.devconf.example",
            "TWITSOCKET_BACKOFF_SCALE": "0.05",
            "TWITSOCKET_LOGFILE": str(tmp_path / "stream.log"), **extra}


def wall_posts(app, network: str = "bluesky") -> dict[str, dict[str, Any]]:
    body = app.test_client().get("/twitsocket/api/tweets?limit=200").get_json()
    ids = [(post["network"], post["id"]) for post in body["tweets"]]
    assert len(ids) == len(set(ids)), f"a post is shown twice: {ids}"
    return {post["id"]: post for post in body["tweets"] if post["network"] == network}


def uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def test_filter_facets_profiles_deletes_reconnect_and_restart(app, start_cli, jetstream,
                                                              appview, tmp_path):
    env = bluesky_env(jetstream, appview, tmp_path)
    process = start_cli("stream", "--source", "bluesky", env=env)
    wait_until(jetstream.connections, timeout=LONG, message="a Jetstream connection")
    assert jetstream.requests[0]["wantedCollections"] == ["app.bsky.feed.post"]

    text = "🎉 Café talk at #DevConf26: https://devconf.example/t/1 ✨"
    first = jetstream.post(ALICE["did"], text, facets=[
        facet(text, "#DevConf26", {"$type": TAG, "tag": "DevConf26"}),
        facet(text, "https://devconf.example/t/1", {"$type": LINK,
                                                    "uri": "https://devconf.example/t/1"})])
    ignored = [jetstream.post(ALICE["did"], "Nothing to see here"),
               jetstream.post(BOB["did"], "Off to the devconference, #devconf2027"),
               jetstream.post(BOB["did"], "python and a conference, apart")]
    keynote = jetstream.post(KEYNOTE["did"], "Doors open!")  # a tracked account
    hidden_tag = jetstream.post(BOB["did"], "Great talk", tags=["devconf26"])
    phrase = jetstream.post(BOB["did"], "Live from the Python\nConference? No: Python "
                                        "Conference!")
    jetstream.send_raw("{garbage that mentions devconf")
    jetstream.send_raw("[not, even, an, object")
    again = jetstream.post(ALICE["did"], "Second devconf post")
    expected = {uri(ALICE["did"], first), uri(KEYNOTE["did"], keynote),
                uri(BOB["did"], hidden_tag), uri(BOB["did"], phrase), uri(ALICE["did"], again)}
    wait_until(lambda: expected <= set(wall_posts(app)), timeout=LONG, message="the matching posts")
    posts = wall_posts(app)
    assert set(posts) == expected, "a post that does not match was shown"
    assert not {uri(ALICE["did"], ignored[0])} & set(posts)

    post = posts[uri(ALICE["did"], first)]
    assert post["author"] == {"id": ALICE["did"], "username": ALICE["handle"],
                              "name": ALICE["displayName"], "avatar_url": ALICE["avatar"]}
    assert post["url"] == f"https://bsky.app/profile/{ALICE['handle']}/post/{first}"
    assert post["text"] == text
    by_type = {e["type"]: e for e in post["entities"]}
    assert text[by_type["hashtag"]["start"]:by_type["hashtag"]["end"]] == "#DevConf26"
    assert text[by_type["url"]["start"]:by_type["url"]["end"]] == "https://devconf.example/t/1"
    assert by_type["url"]["url"] == "https://devconf.example/t/1"
    assert "&lt;b&gt;Bob&lt;/b&gt;" not in posts[uri(BOB["did"], phrase)]["html"]  # names
    assert posts[uri(BOB["did"], phrase)]["author"]["name"] == "<b>Bob</b>"  # kept as text
    requested = [actor for request in appview.requests for actor in request]
    assert requested.count(ALICE["did"]) == 1, appview.requests  # cached, not per post
    assert max(len(request) for request in appview.requests) <= 25

    jetstream.delete(ALICE["did"], again)
    jetstream.delete("did:plc:stranger", "3lnotours")
    wait_until(lambda: uri(ALICE["did"], again) not in wall_posts(app),
               timeout=LONG, message="the delete")

    # A dropped connection: the post made meanwhile comes with the cursor on reconnect.
    jetstream.drop()
    gap = jetstream.post(BOB["did"], "During the outage #devconf26")
    wait_until(lambda: uri(BOB["did"], gap) in wall_posts(app),
               timeout=LONG, message="the post in the gap")
    assert any("cursor" in request for request in jetstream.requests[1:])

    # A restart: the cursor in the state file brings what was posted while it was down.
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)
    state = json.loads((tmp_path / "bluesky.json").read_text())
    assert state["cursor"] > 0 and uri(ALICE["did"], first) in state["posts"]
    connections = jetstream.connections()
    down = jetstream.post(ALICE["did"], "Posted while the wall was down #devconf26")
    start_cli("stream", "--source", "bluesky", env=env)
    wait_until(lambda: uri(ALICE["did"], down) in wall_posts(app),
               timeout=LONG, message="resume on restart")
    assert int(jetstream.requests[connections]["cursor"][0]) <= state["cursor"]
    assert len(wall_posts(app)) == len(expected) - 1 + 2
    log = (tmp_path / "stream.log").read_text()
    assert "Skipped a malformed bluesky event" in log


def thirty_authors_post(app, start_cli, jetstream: FakeJetstream, appview: FakeAppView,
                        tmp_path: Path) -> list[str]:
    """Start the stream, have 30 different accounts post at once; wait for all 30."""
    start_cli("stream", "--source", "bluesky", env=bluesky_env(
        jetstream, appview, tmp_path, TWITSOCKET_BLUESKY_ACCOUNTS=""))
    wait_until(jetstream.connections, timeout=LONG, message="a Jetstream connection")
    rkeys = [jetstream.post(f"did:plc:user{i}", f"#devconf26 post {i}") for i in range(30)]
    wanted = {uri(f"did:plc:user{i}", rkey) for i, rkey in enumerate(rkeys)}
    wait_until(lambda: wanted <= set(wall_posts(app)), timeout=LONG, message="every post")
    return rkeys


def test_a_failing_appview_neither_blocks_nor_drops_posts(app, start_cli, jetstream, appview,
                                                          tmp_path):
    appview.fail = True
    rkeys = thirty_authors_post(app, start_cli, jetstream, appview, tmp_path)
    post = wall_posts(app)[uri("did:plc:user0", rkeys[0])]
    assert post["author"]["username"] == "did:plc:user0"
    assert post["url"] == f"https://bsky.app/profile/did:plc:user0/post/{rkeys[0]}"
    assert len(appview.requests) <= 2  # paused after a failure, not hammered per post


def test_profiles_are_fetched_in_batches_of_25(app, start_cli, jetstream, appview, tmp_path):
    appview.profiles += [{"did": f"did:plc:user{i}", "handle": f"user{i}.bsky.social"}
                         for i in range(30)]
    thirty_authors_post(app, start_cli, jetstream, appview, tmp_path)
    assert {p["author"]["username"] for p in wall_posts(app).values()} == {
        f"user{i}.bsky.social" for i in range(30)}
    assert all(len(request) <= 25 for request in appview.requests)
    assert len(appview.requests) < 30


@pytest.mark.parametrize(("text", "matched"), [
    ("See you at #DevConf26!", True), ("devconf26", False), ("#devconf26x", False),
    ("DEVCONF rocks", True), ("devconfs", False), ("a python conference", True),
    ("python\nconference", False), ("x#devconf26", False), ("(#devconf26)", True),
])
def test_keywords_match_whole_words_without_case(text, matched):
    line = json.dumps({"did": "did:plc:x", "time_us": 1, "kind": "commit", "commit": {
        "operation": "create", "collection": "app.bsky.feed.post", "rkey": "r",
        "record": {"text": text}}})
    selected = JetstreamFilter(["#devconf26", "devconf", "python conference"]).select(line)
    assert (selected is not None) is matched



def test_filter_forwards_deletes_only_of_posts_it_has_and_never_hides_a_post():
    def line(operation: str, **record: Any) -> str:
        commit = {"operation": operation, "collection": "app.bsky.feed.post", "rkey": "r"}
        if record:
            commit["record"] = record
        return json.dumps({"did": "did:plc:a", "time_us": 1, "kind": "commit",
                           "commit": commit}, separators=(",", ":"))

    known: set[str] = set()
    selector = JetstreamFilter(["#devconf26"], known=known)
    assert selector.select(line("delete")) is None
    known.add(uri("did:plc:a", "r"))
    assert selector.select(line("delete"))["commit"]["operation"] == "delete"
    hidden_word = line("create", text='#devconf26 press "delete"', tags=["delete"])
    assert selector.select(hidden_word) is not None
    assert selector.select("{devconf26 broken") == "{devconf26 broken"  # for the pipeline

def test_filter_benchmark_runs_and_keeps_what_the_naive_filter_keeps(tmp_path, monkeypatch):
    """The benchmark at toy size, so it cannot rot; no time is asserted."""
    from benchmarks import bench_jetstream_filter, common

    monkeypatch.setattr(common, "RESULTS", tmp_path)
    result = bench_jetstream_filter.main(["--lines", "3000", "--repeat", "1"])
    assert result["filter_per_s"] > 0 and result["json_loads_per_s"] > 0
    assert result["filter_kept"] >= result["json_loads_regex_kept"] > 0
    assert (tmp_path / "jetstream_filter.json").exists()


def test_a_post_deleted_while_held_never_shows_and_the_documented_url_form_works(
        app, start_cli, jetstream, appview, tmp_path):
    # Jetstream's documentation lists its instances as wss://…/subscribe: accepted as is.
    env = bluesky_env(jetstream, appview, tmp_path)
    env["TWITSOCKET_BLUESKY_JETSTREAM_URL"] = jetstream.url.rstrip("/") + "/subscribe"
    start_cli("stream", "--source", "bluesky", env=env)
    wait_until(jetstream.connections, timeout=LONG, message="a Jetstream connection")
    # Created and deleted at once: the delete arrives while the post waits for its
    # author's profile (the same batch), and used to be dropped as "not ours".
    regretted = jetstream.post(ALICE["did"], "Oops, wrong #devconf26 photo")
    jetstream.delete(ALICE["did"], regretted)
    marker = jetstream.post(ALICE["did"], "The right #devconf26 photo")
    wait_until(lambda: uri(ALICE["did"], marker) in wall_posts(app), timeout=LONG,
               message="the post after the delete")
    assert uri(ALICE["did"], regretted) not in wall_posts(app)
