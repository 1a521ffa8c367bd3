"""The X source: a real ``flask twitsocket stream --source x`` against the fake X API.

Posts are checked where a wall gets them (the JSON API), after the real client (tweepy
subclass + chunked line reader), normaliser and store.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import wait_until, x_post
from fake_x_server import FakeX

LONG = 60.0
OPERATIONAL_DISCONNECT = {"errors": [{
    "title": "operational-disconnect", "disconnect_type": "OperationalDisconnect",
    "detail": "This stream has been disconnected for operational reasons.",
    "type": "https://api.twitter.com/2/problems/operational-disconnect"}]}


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    fake = FakeX()
    yield fake
    fake.close()


def x_env(fake: FakeX, **extra: str) -> dict[str, str]:
    return {"TWITSOCKET_X_API_URL": fake.url, "TWITSOCKET_X_BEARER_TOKEN": fake.token,
            "TWITSOCKET_TRACK_KEYWORDS": "#devconf26,\"flask sockets\"",
            "TWITSOCKET_BACKOFF_SCALE": "0.001", "TWITSOCKET_X_STALL_TIMEOUT": "1", **extra}


def wall_ids(app) -> list[str]:
    body = app.test_client().get("/twitsocket/api/tweets?limit=200").get_json()
    return [post["id"] for post in body["tweets"] if post["network"] == "x"]


def post(n: int) -> tuple[str, dict[str, Any]]:
    return ("post", x_post(n, text=f"Post {n} #devconf26", user_id=str(100 + n),
                           username=f"user{n}"))


def test_every_post_arrives_once_through_every_fault(app, fake_x, start_cli):
    fake_x.script = [
        503,                                           # server error on connect
        429,                                           # too many connections
        [post(1), ("keepalive",), post(2),
         ("raw", b'{"data": {"id": "99", "text": \r\n'),  # malformed line
         ("raw", b"not json at all\r\n"),
         ("error_object", OPERATIONAL_DISCONNECT)],      # X asks us to reconnect
        [post(1), post(3), ("keepalive",),                # post 1 delivered again
         ("raw", b'{"data": {"id": "98", "te'),           # truncated line...
         ("disconnect",)],                                # ...then a cut mid-chunk
        [post(2), post(4), ("stall", 3)],                 # duplicate, then silence
        [post(3), post(5), ("keepalive",),
         ("post", {"delete": {"status": {"id_str": "4", "id": 4}}})],  # post 4 deleted
    ]
    process = start_cli("stream", "--source", "x", env=x_env(fake_x))

    def settled() -> bool:
        ids = wall_ids(app)
        return sorted(ids) == ["1", "2", "3", "5"] and fake_x.connections >= 6

    wait_until(settled, timeout=LONG, message="posts 1, 2, 3, 5 on the wall and 4 deleted")
    ids = wall_ids(app)
    assert len(ids) == len(set(ids)) == 4
    assert process.poll() is None, "the stream process must survive every fault"

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    stopped = re.search(r"Stream stopped: (\d+) stored, (\d+) duplicates, (\d+) malformed, "
                        r".* (\d+) deleted", output)
    assert stopped, output
    stored, duplicates, malformed, deleted = map(int, stopped.groups())
    assert (stored, deleted) == (5, 1) and duplicates >= 3 and malformed >= 2, output
    assert "operational-disconnect" in output and "StallError" in output
    assert "HTTP 503" in output and "HTTP 429" in output
    assert fake_x.token not in output

    stream_calls = [r for r in fake_x.requests if r["path"] == "/2/tweets/search/stream"]
    query = stream_calls[0]["query"]
    assert "referenced_tweets.id.author_id" in query["expansions"][0]
    assert "note_tweet" in query["tweet.fields"][0]
    assert "profile_image_url" in query["user.fields"][0]


def test_rules_are_synced_packed_and_rejections_reported(app, fake_x, start_cli):
    foreign = fake_x.add_rule("from:12345", "another-tool")
    fake_x.add_rule("old keyword", "twitsocket")
    keywords = [f"keyword{n:03d}" for n in range(120)] + ["\"two words\"", "#devconf26",
                                                          "INVALID"]
    process = start_cli("stream", "--source", "x", env=x_env(
        fake_x, TWITSOCKET_TRACK_KEYWORDS=",".join(keywords), TWITSOCKET_TRACK_USERS="42,43"))

    def ours() -> list[str]:
        return [r["value"] for r in fake_x.rules.values() if r["tag"] == "twitsocket"]

    wait_until(lambda: ours() and fake_x.connections, timeout=LONG, message="rules synced")
    rules = ours()
    assert foreign in fake_x.rules and fake_x.rules[foreign]["value"] == "from:12345"
    assert "old keyword" not in rules
    assert all(len(rule) <= 512 for rule in rules) and len(rules) >= 2
    sent = [rule["value"] for r in fake_x.requests if r["method"] == "POST" and r["body"]
            and "add" in r["body"] for rule in r["body"]["add"]]
    rejected = [rule for rule in sent if "INVALID" in rule]
    assert len(rejected) == 1 and rejected[0] not in rules
    terms = [term for rule in rules + rejected for term in rule.split(" OR ")]
    wanted = [*keywords, "from:42", "from:43"]  # the quoted phrase goes to X quoted
    assert sorted(terms) == sorted(wanted)
    assert len(rules) + 1 == len(sent)

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert "X rejected the stream rule" in output
    assert "Reference to invalid operator 'INVALID'" in output
    assert fake_x.token not in output
    added = [r["body"] for r in fake_x.requests if r["method"] == "POST"
             and r["body"] and "add" in r["body"]]
    assert all(rule["tag"] == "twitsocket" for body in added for rule in body["add"])


def test_a_missing_bearer_token_stops_start_up_naming_the_key(run_cli):
    result = run_cli("stream", "--source", "x")
    assert result.returncode != 0
    assert "TWITSOCKET_X_BEARER_TOKEN" in result.stderr


def test_a_refused_token_stops_the_source_without_the_secret(app, fake_x, run_cli):
    result = run_cli("stream", "--source", "x",
                     env=x_env(fake_x, TWITSOCKET_X_BEARER_TOKEN="wrong-s3cret-token"))
    output = result.stdout + result.stderr
    assert "X refused the bearer token (HTTP 401: Unauthorized: Unauthorized)" in output
    assert "TWITSOCKET_X_BEARER_TOKEN" in output
    assert "wrong-s3cret-token" not in output
    assert result.returncode == 3, output  # every source stopped for good: no restart loop
    assert len(fake_x.requests) == 1  # refused once, never retried
