"""The ingest shortcuts found by profiling keep the stored data exactly as before: the raw
event text, the safe HTML, the URL check, and the new posts' ``seq`` from a bulk insert
that cannot return rows (SQLite) — on every database the ``app`` fixture runs on."""

from __future__ import annotations

import json

import pytest
from conftest import x_post
from sqlalchemy import select

from flask_twitsocket.messages import journal_messages
from flask_twitsocket.models import JournalEntry, Post
from flask_twitsocket.pipeline import RawEvent
from flask_twitsocket.render import _safe_str_url, render_html, safe_url
from flask_twitsocket.state import build_ingestor


def ingest(app, events):
    state = app.extensions["twitsocket"]
    return build_ingestor(state).ingest(events)


def stored_raw(app) -> dict[str, str]:
    with app.extensions["twitsocket"].engine.connect() as conn:
        return dict(conn.execute(select(Post.post_id, Post.raw)).all())


def test_raw_is_the_event_json_whether_it_came_as_text_bytes_or_a_dict(app):
    events = [x_post(1, text="Ünïcode & <b>"), x_post(2), x_post(3)]
    ingest(app, [RawEvent("x", json.dumps(events[0], ensure_ascii=False) + "\r\n"),
                 RawEvent("x", json.dumps(events[1]).encode()),
                 RawEvent("x", events[2])])
    raw = stored_raw(app)
    assert {post_id: json.loads(text) for post_id, text in raw.items()} == {
        "1": events[0], "2": events[1], "3": events[2]}
    assert not raw["1"].endswith("\r\n")


def test_the_new_posts_get_the_right_seq_among_duplicates_and_old_posts(app):
    ingest(app, [RawEvent("x", json.dumps(x_post(n))) for n in (5, 6)])
    ingest(app, [RawEvent("x", json.dumps(x_post(n))) for n in (6, 7, 5, 8, 7)])
    body = app.test_client().get("/twitsocket/api/tweets?limit=50").get_json()
    seqs = {post["id"]: int(post["seq"]) for post in body["tweets"]}
    assert sorted(seqs, key=seqs.get) == ["5", "6", "7", "8"]
    with app.extensions["twitsocket"].engine.connect() as conn:
        payloads = conn.execute(select(JournalEntry.payload).order_by(JournalEntry.id))
        journal = [message for payload in payloads.scalars()
                   for message in map(json.loads, journal_messages(payload))
                   if message["type"] == "tweet"]
    # the announced seq of every post is the one it was stored with
    assert [(m["tweet"]["id"], int(m["tweet"]["seq"])) for m in journal] == [
        (post_id, seqs[post_id]) for post_id in ("5", "6", "7", "8")]


@pytest.mark.parametrize("text, html", [
    ("a < b & \"c\"\nd", "a &lt; b &amp; &#34;c&#34;<br>d"),
    ("", ""),
])
def test_a_post_without_entities_is_escaped_text(text, html):
    assert render_html(text, []) == html


def test_entities_still_link_by_code_point_offsets():
    text = "😀 #tag <x>"
    html = render_html(text, [{"type": "hashtag", "start": 2, "end": 6,
                               "url": "https://x.com/hashtag/tag", "display": "#tag"}])
    assert html == ('😀 <a class="hashtag" href="https://x.com/hashtag/tag" rel="nofollow '
                    'noopener noreferrer" target="_blank">#tag</a> &lt;x&gt;')


@pytest.mark.parametrize("url", [
    "https://x.com/a/status/1", "http://a:80/x?y=1#z", "HTTPS://X.COM/", "https://",
    "https:///path", "https://a b", " https://a.example/ ", "https://[::1]/", "https://[bad/",
    "javascript:alert(1)", "https://a/\x01", "https://a.example/ü", "https://a.example\u3000",
    "http://-/", "https://a:/", "data:text/html,<x>", "https://a.example/\t",
])
def test_the_plain_url_shortcut_agrees_with_the_full_check(url):
    assert safe_url(url) == _safe_str_url(url)
