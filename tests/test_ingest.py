"""The ingest pipeline, driven the way the stream process drives it: replay files via the CLI,
and batches through ``Ingestor`` — results read back through the JSON API."""

from __future__ import annotations

import json

import pytest
from conftest import write_jsonl, x_post

from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.state import build_ingestor


@pytest.fixture
def ingest(app):
    state = app.extensions["twitsocket"]

    def run(*events):
        ingestor = build_ingestor(state)
        return ingestor.ingest([RawEvent("x", e if isinstance(e, str) else json.dumps(e))
                                for e in events])

    return run


def api(app, query=""):
    return app.test_client().get(f"/twitsocket/api/tweets{query}").get_json()


def test_a_duplicate_post_is_stored_once(app, ingest):
    first = ingest(x_post(1), x_post(2), x_post(1))
    second = ingest(x_post(2))
    assert (first.stored, first.duplicates) == (2, 1)
    assert (second.stored, second.duplicates) == (0, 1)
    assert [t["id"] for t in api(app)["tweets"]] == ["2", "1"]
    assert api(app)["count"] == 2


def test_malformed_events_are_skipped_and_the_rest_stored(app, ingest, caplog):
    stats = ingest("{not json", '{"data": {"text": "no id"}}', "[1, 2]", x_post(7),
                   '{"data": {"id": "8"', "")
    assert stats.stored == 1
    assert stats.malformed == 5
    assert [t["id"] for t in api(app)["tweets"]] == ["7"]
    assert "malformed" in caplog.text


@pytest.mark.parametrize("app_config", [{"TWITSOCKET_BANNED_USERS": "@troll,31337"}])
def test_banned_users_are_never_stored_nor_shown(app, ingest):
    original = x_post(10, username="Troll", user_id="666")
    retweet = x_post(11, text="RT @Troll: Hello", username="bob", user_id="7",
                     referenced_tweets=[{"type": "retweeted", "id": "10"}])
    retweet["includes"]["users"].append({"id": "666", "username": "Troll"})
    retweet["includes"]["tweets"] = [original["data"]]
    stats = ingest(original, retweet, x_post(12, username="carol", user_id="99"),
                   x_post(13, username="dave", user_id="31337"))
    assert stats.banned == 3
    assert [t["author"]["username"] for t in api(app)["tweets"]] == ["carol"]


def test_ids_are_strings_and_big_x_ids_survive(app, ingest):
    ingest(x_post(1862000000000000001))
    tweet = api(app)["tweets"][0]
    assert tweet["id"] == "1862000000000000001"
    assert isinstance(tweet["seq"], str)
    for key in ("id", "network", "text", "html", "created_at", "url", "author",
                "is_retweet", "retweet_of", "retweet_count"):
        assert key in tweet
    assert set(tweet["author"]) >= {"id", "username", "name", "avatar_url"}
    assert tweet["created_at"] == "2026-11-28T10:00:00Z"


def test_legacy_v1_statuses_replay(app, ingest):
    status = {
        "id_str": "20", "text": "Old school #europython @brutasse",
        "created_at": "Wed Jul 21 10:00:00 +0000 2010", "retweet_count": 3,
        "user": {"id_str": "15324940", "screen_name": "brutasse", "name": "Bruno"},
        "entities": {"hashtags": [{"text": "europython", "indices": [11, 22]}],
                     "user_mentions": [{"screen_name": "brutasse", "indices": [23, 32]}],
                     "urls": []},
    }
    ingest(status)
    tweet = api(app)["tweets"][0]
    assert tweet["author"]["username"] == "brutasse"
    assert tweet["created_at"] == "2010-07-21T10:00:00Z"
    assert '<a class="hashtag" href="https://x.com/hashtag/europython"' in tweet["html"]
    assert '<a class="mention" href="https://x.com/brutasse"' in tweet["html"]


def test_hostile_texts_names_and_urls_are_neutralised(app, ingest):
    event = x_post(30, text='<script>alert(1)</script> see https://t.co/a',
                   name='<img src=x onerror=alert(2)>')
    event["data"]["entities"] = {"urls": [{"start": 30, "end": 44, "url": "https://t.co/a",
                                           "expanded_url": "javascript:alert(3)"}]}
    event["includes"]["users"][0]["profile_image_url"] = "javascript:alert(4)"
    ingest(event)
    tweet = api(app)["tweets"][0]
    assert "<script>" not in tweet["html"]
    assert "&lt;script&gt;" in tweet["html"]
    assert "javascript:" not in tweet["html"]
    assert tweet["author"]["avatar_url"] is None
    assert all(not e["url"].startswith("javascript") for e in tweet["entities"])
    assert tweet["text"].startswith("<script>")  # the plain text stays plain text


def test_a_deletion_removes_the_post_and_it_never_comes_back(app, ingest):
    ingest(x_post(40), x_post(41))
    stats = ingest({"delete": {"status": {"id_str": "40"}}})
    assert stats.deleted == 1
    ingest(x_post(40))  # re-delivered after a reconnect
    assert [t["id"] for t in api(app)["tweets"]] == ["41"]


def test_stream_cli_replays_a_file_once_each(app, run_cli, tmp_path):
    recording = write_jsonl(tmp_path / "r.jsonl", [
        x_post(1), "garbage", x_post(2), x_post(1), x_post(3, username="spam", user_id="5")])
    result = run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(recording), "TWITSOCKET_REPLAY_RATE": "1000",
        "TWITSOCKET_BANNED_USERS": "spam"})
    assert result.returncode == 0, result.stderr
    assert "2 stored, 1 duplicates, 1 malformed, 1 banned" in result.stdout
    assert [t["id"] for t in api(app)["tweets"]] == ["2", "1"]


def test_a_user_banned_in_the_config_disappears_from_the_wall_at_stream_start(
        app, ingest, run_cli, tmp_path):
    spam_retweet = x_post(4, text="RT @Spam: buy now", username="carol", user_id="7",
                          referenced_tweets=[{"type": "retweeted", "id": "2"}])
    spam_retweet["includes"]["tweets"] = [{"id": "2", "author_id": "5"}]
    spam_retweet["includes"]["users"].append({"id": "5", "username": "Spam"})
    ingest(x_post(1, username="spam", user_id="5"), x_post(2, username="spam", user_id="5"),
           x_post(3, username="bob", user_id="6"), spam_retweet)
    assert api(app)["count"] == 4
    empty = write_jsonl(tmp_path / "empty.jsonl", [])
    result = run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(empty), "TWITSOCKET_BANNED_USERS": "SPAM"})
    assert result.returncode == 0, result.stderr
    assert "Hid 3 stored posts by users in TWITSOCKET_BANNED_USERS" in result.stderr
    body = api(app)
    assert [t["id"] for t in body["tweets"]] == ["3"]
    assert body["count"] == 1
    again = run_cli("stream", "--source", "replay", env={
        "TWITSOCKET_REPLAY_FILE": str(empty), "TWITSOCKET_BANNED_USERS": "spam"})
    assert "Hid" not in again.stderr  # nothing left to hide: said once


def test_the_bundled_recording_replays_cleanly(app, run_cli):
    result = run_cli("stream", "--source", "replay", env={"TWITSOCKET_REPLAY_RATE": "10000",
                                                         "TWITSOCKET_BANNED_USERS": ""},
                     timeout=120)
    assert result.returncode == 0, result.stderr
    assert "306 stored, 0 duplicates, 0 malformed" in result.stdout
    body = api(app, "?limit=200")
    assert body["count"] == 306
    assert any(t["is_retweet"] for t in body["tweets"])
    # the demo shows media: photos, a video poster, a link card, a quote, a content warning
    everything = app.extensions["twitsocket"].store.recent(400)  # beyond the API's limit
    assert {t["network"] for t in everything} == {"x", "mastodon"}
    kinds = {m["type"] for t in everything for m in t["media"]}
    assert kinds == {"photo", "video"}
    assert all(m["preview_url"].startswith("https://demo.twitsocket.invalid/")
               for t in everything for m in t["media"])
    assert any(t["card"] and t["card"]["image"] for t in everything)
    assert any(t["quote"] and t["quote"]["media"] for t in everything)
    assert any(t["content_warning"] and t["sensitive"] for t in everything)


def test_seq_never_repeats_after_the_newest_post_is_deleted(app, ingest):
    ingest(x_post(1), x_post(2))
    deleted_seq = int(api(app)["tweets"][0]["seq"])
    ingest({"delete": {"status": {"id_str": "2"}}})
    ingest(x_post(3))
    newest = api(app)["tweets"][0]
    assert newest["id"] == "3"
    assert int(newest["seq"]) > deleted_seq  # walls that saw seq N deleted must see this


def test_a_burst_is_logged_in_one_line_and_a_trickle_post_by_post(app, ingest, caplog):
    caplog.set_level("INFO", logger="flask_twitsocket")
    ingest(*[x_post(n, username=f"user{n}") for n in range(1, 4)])
    assert [r.getMessage() for r in caplog.records if "New post" in r.getMessage()] == [
        "New post x:1 by @user1", "New post x:2 by @user2", "New post x:3 by @user3"]
    caplog.clear()
    ingest(*[x_post(n, username=f"user{n}") for n in range(10, 40)])
    lines = [r.getMessage() for r in caplog.records if r.name == "flask_twitsocket.pipeline"]
    assert lines == ["30 new posts, from x:10 by @user10 to x:39 by @user39"]
    assert api(app)["count"] == 33
