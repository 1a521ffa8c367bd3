"""Poison posts never stop the pipeline: through the real ``flask twitsocket stream`` process
(replay files, the fake Jetstream), on SQLite or on PostgreSQL (TWITSOCKET_TEST_DATABASE_URL).

Each poison class is either skipped with a log line naming the network, the id and the
reason, or stored made harmless; every good post around it is stored and the process
goes on streaming. A database that refuses a post costs only that post; a database that
stays down ends the process with an error after the bound, for systemd to restart it.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from conftest import wait_until, write_jsonl, x_post
from fake_jetstream import FakeAppView, FakeJetstream
from sqlalchemy import text
from sqlalchemy.engine import make_url

from flask_twitsocket.normalise.storable import COUNT_MAX, MAX_EVENT_CHARS, TEXT_LIMIT

LONG = 60.0
ALICE = {"did": "did:plc:alice", "handle": "alice.bsky.social", "displayName": "Alice"}


def wall(app) -> dict[str, dict]:
    body = app.test_client().get("/twitsocket/api/tweets?limit=200").get_json()
    return {post["id"]: post for post in body["tweets"]}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def replay(run_cli, path: Path, rate: str = "200"):
    return run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(path), "TWITSOCKET_REPLAY_RATE": rate,
        "TWITSOCKET_REPLAY_RETIME": "false"}, timeout=60)


def test_every_poison_class_in_a_replay_is_skipped_or_made_storable(app, run_cli, tmp_path):
    good = [x_post(i, text=f"Good post {i} #devconf26") for i in (1, 20, 40)]
    events: list = [
        good[0],
        x_post(2, text="NUL\x00inside\x00 #devconf26"),
        x_post(3, public_metrics={"retweet_count": 3_000_000_000}),
        x_post(4, public_metrics={"retweet_count": 10**20}),
        json.dumps(x_post(5, public_metrics={"retweet_count": "N"})).replace('"N"', "1e400"),
        json.dumps(x_post(6, text="lone \ud800 surrogate")),    # escaped in the JSON text
        json.dumps(x_post(7))[:-2] + f', "x": {nested(100_000)}}}}}',
        x_post(8, created_at="0001-01-01T00:00:00+01:00"),       # overflows into UTC
        x_post(9, created_at="9999-12-31T23:59:59-01:00"),
        x_post(10, public_metrics={"retweet_count": "many"}),
        good[1],
        x_post(11, text="x" * (MAX_EVENT_CHARS + 1)),            # over the raw size cap
        x_post(12, text="long " * (TEXT_LIMIT // 4)),            # over the text cap only
        x_post(13, username="n" * 1000, name="\x00" * 300),
        x_post("14" * 200),                                      # an id no column holds
        good[2],
    ]
    path = write_jsonl(tmp_path / "poison.jsonl", events)
    with path.open("ab") as out:  # one invalid UTF-8 byte, then a good post after it
        out.write(b'{"data": {"id": "15", "text": "\xff\xfe", "author_id": "1"}}\n')
        out.write(json.dumps(x_post(50, text="After the bad byte")).encode() + b"\n")

    result = replay(run_cli, path)

    assert result.returncode == 0, result.stderr
    posts = wall(app)
    assert {"1", "20", "40", "50"} <= set(posts), "a good post around the poison was lost"
    assert {"2", "3", "4", "5", "6", "8", "9", "10", "12", "13"} <= set(posts)
    assert not {"7", "11", "14" * 200, "15"} & set(posts)
    assert posts["2"]["text"] == "NULinside #devconf26"
    assert posts["3"]["retweet_count"] == posts["4"]["retweet_count"] == COUNT_MAX
    assert posts["5"]["retweet_count"] == COUNT_MAX  # 1e400: inf to the replay's parser
    assert posts["10"]["retweet_count"] == 0
    for post_id in ("8", "9"):  # replaced by the time it was read: plausible, not year 1
        assert posts[post_id]["created_at"][:2] == "20"
    assert len(posts["12"]["text"]) == TEXT_LIMIT + 1
    assert posts["13"]["author"]["username"] == "n" * 255
    assert posts["6"]["text"] == "lone \ufffd surrogate"
    log = result.stderr
    assert "Skipped a malformed x event '7' (guessed): not JSON" in log
    assert "Skipped a malformed x event '11' (guessed): the event is" in log
    assert "Skipped a malformed x event '15' (guessed): not UTF-8" in log
    assert "Made a x post storable (3): repost count 3000000000 clamped" in log
    assert "Made a x post storable (5): repost count inf clamped" in log
    assert "Made a x post storable (8)" in log
    assert "Made a x post storable (2): NUL characters removed" in log
    assert "retrying" not in log


def _reject_trigger(engine) -> None:
    """A site rule in the database itself: it refuses posts containing a word."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(text(
                "CREATE TRIGGER refuse_forbidden BEFORE INSERT ON twitsocket_posts "
                "WHEN NEW.text LIKE '%forbidden-by-site%' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the site rule'); END"))
        else:
            conn.execute(text(
                "CREATE OR REPLACE FUNCTION refuse_forbidden() RETURNS trigger AS $$ BEGIN "
                "IF NEW.text LIKE '%forbidden-by-site%' THEN "
                "RAISE EXCEPTION 'refused by the site rule'; END IF; RETURN NEW; END "
                "$$ LANGUAGE plpgsql"))
            conn.execute(text(
                "CREATE TRIGGER refuse_forbidden BEFORE INSERT ON twitsocket_posts "
                "FOR EACH ROW EXECUTE FUNCTION refuse_forbidden()"))


def test_a_post_the_database_refuses_costs_only_that_post(app, run_cli, tmp_path):
    _reject_trigger(app.extensions["twitsocket"].engine)
    events = [x_post(i, text=f"Post {i} #devconf26") for i in range(1, 40)]
    events[16] = x_post(17, text="This is forbidden-by-site #devconf26")
    # a fast replay: the bad post shares its batch with many good ones
    result = replay(run_cli, write_jsonl(tmp_path / "refused.jsonl", events), rate="100000")

    assert result.returncode == 0, result.stderr
    assert set(wall(app)) == {str(i) for i in range(1, 40)} - {"17"}
    assert "Skipped a malformed x event '17': the database refused it" in result.stderr
    assert "refused by the site rule" in result.stderr


# --- Bluesky: a poison post, then a restart ------------------------------------------------


@pytest.fixture
def appview() -> Iterator[FakeAppView]:
    fake = FakeAppView([ALICE])
    yield fake
    fake.close()


def uri(rkey: str) -> str:
    return f"at://{ALICE['did']}/app.bsky.feed.post/{rkey}"


def raw_post(jetstream: FakeJetstream, rkey: str, record_text: str, **extra) -> None:
    """A Jetstream line written by hand (escaped JSON: a lone surrogate survives it)."""
    last = jetstream.log[-1][0] if jetstream.log else 0
    event = {"did": ALICE["did"], "time_us": last + 1, "kind": "commit", "commit": {
        "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
        "record": {"text": record_text, "createdAt": "2026-11-28T10:00:00Z", **extra}}}
    with jetstream.condition:
        jetstream.log.append((last + 1, json.dumps(event)))
        jetstream.condition.notify_all()


def test_bluesky_poison_then_a_restart_loses_no_good_post(app, start_cli, jetstream, appview,
                                                          tmp_path):
    env = {"TWITSOCKET_BLUESKY_JETSTREAM_URL": jetstream.url,
           "TWITSOCKET_BLUESKY_APPVIEW_URL": appview.url,
           "TWITSOCKET_BLUESKY_STATE_FILE": str(tmp_path / "bluesky.json"),
           "TWITSOCKET_TRACK_KEYWORDS": "#devconf26,devconf",
           "TWITSOCKET_BACKOFF_SCALE": "0.05",
           "TWITSOCKET_LOGFILE": str(tmp_path / "stream.log")}
    process = start_cli("stream", "--source", "bluesky", env=env)
    wait_until(jetstream.connections, timeout=LONG, message="a Jetstream connection")

    good = [jetstream.post(ALICE["did"], "First devconf post")]
    year_one = jetstream.post(ALICE["did"], "devconf from year 1",
                              createdAt="0001-01-01T00:00:00+01:00")
    raw_post(jetstream, "3lnul", "devconf with a NUL\x00 in it")
    raw_post(jetstream, "3lsurrogate", "devconf with a lone \ud800 surrogate")
    raw_post(jetstream, "3lnested", "devconf nested", deep=json.loads(nested(500)))
    deep_line = (f'{{"did":"{ALICE["did"]}","time_us":{jetstream.log[-1][0] + 1},'
                 '"kind":"commit","commit":{"operation":"create","collection":'
                 '"app.bsky.feed.post","rkey":"3ldeep","record":{"text":"devconf","x":'
                 f'{nested(100_000)}}}}}}}')
    jetstream.send_raw(deep_line)
    good.append(jetstream.post(ALICE["did"], "Second devconf post"))
    wait_until(lambda: {uri(rkey) for rkey in good} <= set(wall(app)), timeout=LONG,
               message="the good posts around the poison")
    posts = wall(app)
    assert posts[uri(year_one)]["created_at"][:2] == "20"  # Jetstream's time instead
    assert posts[uri("3lnul")]["text"] == "devconf with a NUL in it"
    assert posts[uri("3lsurrogate")]["text"] == "devconf with a lone \ufffd surrogate"
    assert uri("3ldeep") not in posts

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    good.append(jetstream.post(ALICE["did"], "Posted while the wall was down, devconf"))
    start_cli("stream", "--source", "bluesky", env=env)
    good.append(jetstream.post(ALICE["did"], "After the restart, devconf"))
    wait_until(lambda: {uri(rkey) for rkey in good} <= set(wall(app)), timeout=LONG,
               message="every good post after the restart")
    log = (tmp_path / "stream.log").read_text()
    assert f"Made a bluesky post storable ({uri(year_one)})" in log
    assert "Skipped a malformed bluesky event '3ldeep' (guessed): not JSON" in log


# --- the database goes away ----------------------------------------------------------------


class Proxy:
    """A TCP forwarder to the database that the test can cut, as an outage would."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for one, other in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(one, other), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self.listener.close()
        for sock in self.sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def test_a_database_that_stays_down_ends_the_stream_with_an_error(app, database_url, start_cli,
                                                                  tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (TWITSOCKET_TEST_DATABASE_URL) to cut its connections")
    url = make_url(database_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(
        hide_password=False)
    path = write_jsonl(tmp_path / "slow.jsonl",
                       [x_post(i, text=f"Post {i} #devconf26") for i in range(1, 500)])
    process = start_cli("stream", "--source", "replay", env={
        "DATABASE_URL": through_proxy, "TWITSOCKET_REPLAY_FILE": str(path),
        "TWITSOCKET_REPLAY_RATE": "20", "TWITSOCKET_DATABASE_DOWN_EXIT": "3"})
    wait_until(lambda: len(wall(app)) >= 3, timeout=LONG, message="the first posts")

    proxy.cut()
    output, _ = process.communicate(timeout=LONG)

    assert process.returncode != 0, output[-3000:]
    assert "the database has been unreachable for" in output
    assert "TWITSOCKET_DATABASE_DOWN_EXIT = 3 s" in output
