"""The Mastodon source: a real ``flask twitsocket stream`` process against a fake instance.

Every post is checked where a wall gets it, the JSON API, after passing through the real
client (requests + SSE parser), the normaliser, the sanitiser and the store.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import wait_until
from fake_mastodon import DOMAIN, FakeMastodon
from flask import render_template_string

from flask_twitsocket.normalise import Edit, normalise
from flask_twitsocket.sanitise import html_to_text, sanitise_html

#: Bounded waits are generous: a loaded machine starts a Flask process slowly.
LONG = 60.0

HOSTILE = (
    '<p>Hi <script>alert("owned")</script><img src=x onerror="alert(1)">'
    '<a href="javascript:alert(2)" onclick="alert(3)">click me</a> '
    '<a href="https://example.org/talk" onmouseover="alert(4)" style="position:fixed">talk</a>'
    '<iframe src="https://evil.example/"></iframe><style>body{display:none}</style>'
    '<a href="/relative">rel</a> <b onload="alert(5)">bold</b> #<span>devconf26</span></p>'
)


def stream_env(fake: FakeMastodon, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"TWITSOCKET_MASTODON_URL": fake.url, "TWITSOCKET_MASTODON_TOKEN": fake.token,
            "TWITSOCKET_TRACK_KEYWORDS": "#devconf26,python", "TWITSOCKET_BACKOFF_SCALE": "0.05",
            "TWITSOCKET_LOGFILE": str(tmp_path / "stream.log"), **extra}


def wall_posts(app) -> dict[str, dict[str, Any]]:
    body = app.test_client().get("/twitsocket/api/tweets?limit=200").get_json()
    ids = [post["id"] for post in body["tweets"]]
    assert len(ids) == len(set(ids)), f"a post is shown twice: {ids}"
    return {post["id"]: post for post in body["tweets"] if post["network"] == "mastodon"}


def shown(app, status: dict[str, Any]) -> dict[str, Any] | None:
    return wall_posts(app).get(status["id"])


def assert_harmless(html: str) -> None:
    """Only p, br and a with an absolute http(s) href; nothing that runs, loads or styles."""
    assert {tag.lower() for tag in re.findall(r"<\s*/?\s*([a-zA-Z][\w-]*)", html)} <= {
        "a", "p", "br"}, html
    attributes = re.findall(r"\s([a-zA-Z-]+)=", html)
    assert set(attributes) <= {"href", "target", "rel"}, html
    assert all(url.startswith(("https://", "http://"))
               for url in re.findall(r'href="([^"]*)"', html)), html
    assert "javascript:" not in html.lower()


def test_stream_catch_up_edit_delete_faults_and_hostile_html(app, start_cli, mastodon,
                                                             tmp_path):
    before = mastodon.post(mastodon.status("<p>Doors open at 9 <a href=\"https://"
                                           f"{DOMAIN}/tags/devconf26\" class=\"mention "
                                           "hashtag\">#<span>devconf26</span></a></p>"),
                           stream=False)
    start_cli("stream", "--source", "mastodon", env=stream_env(mastodon, tmp_path))
    first = wait_until(lambda: shown(app, before),
                       timeout=LONG, message="the catch-up of an older post")
    assert first["author"]["username"] == f"alice@{DOMAIN}"  # local accts get the domain
    assert first["url"] == before["url"]
    assert first["entities"] == [{"type": "hashtag", "start": 16, "end": 26, "url":
                                  f"https://{DOMAIN}/tags/devconf26", "display": "#devconf26"}]
    wait_until(mastodon.connected, timeout=LONG, message="the SSE stream (on the streaming host)")

    hostile = mastodon.post(mastodon.status(HOSTILE, acct="mallory@evil.example",
                                            name='<img src=x onerror="alert(6)">'))
    mastodon.send_raw("devconf26", "event: update\ndata: {this is not json\n\n")
    mastodon.send_raw("devconf26", "event: update\ndata: {\"id\": \"1\"}\n\n")
    mastodon.send_raw("devconf26", "event: notification\ndata: {}\n\n:thump\n")
    later = mastodon.post(mastodon.status("<p>Still streaming</p>", acct="bob"))
    wait_until(lambda: shown(app, later), timeout=LONG, message="a post after malformed events")

    post = shown(app, hostile)
    assert post is not None
    assert_harmless(post["html"])
    assert "alert" not in post["html"] and "/relative" not in post["html"]
    assert '<a href="https://example.org/talk"' in post["html"]
    assert "alert" not in post["text"] and "body{" not in post["text"]
    assert post["text"] == "Hi click me talkrel bold #devconf26"
    assert post["author"]["username"] == "mallory@evil.example"
    assert [(e["type"], e["url"]) for e in post["entities"]] == [
        ("url", "https://example.org/talk")]
    with app.test_request_context():  # the server-rendered wall (the public macros)
        page = render_template_string('{% from "twitsocket/macros.html" import render_tweets %}'
                                      "{{ render_tweets(30) }}")
    assert "https://example.org/talk" in page and "mallory@evil.example" in page
    assert "<script" not in page and "<img src=x" not in page and "alert(3)" not in page
    assert "javascript:" not in page

    mastodon.edit(dict(later, content="<p>Edited: <b>new</b> text</p>"))
    wait_until(lambda: (shown(app, later) or {}).get("text") == "Edited: new text",
               timeout=LONG, message="the edit")
    mastodon.delete(before)
    wait_until(lambda: shown(app, before) is None, timeout=LONG, message="the deletion")

    # A disconnect: the stream breaks and stays refused while a post is made; the
    # reconnect's catch-up (min_id) brings it, and the stream works again afterwards.
    connections = mastodon.stream_connections
    mastodon.accept_streams = False
    mastodon.drop()
    wait_until(lambda: not mastodon.connected(), timeout=LONG, message="the stream to drop")
    gap = mastodon.post(mastodon.status("<p>Posted during the outage</p>"), stream=False)
    mastodon.accept_streams = True
    wait_until(lambda: shown(app, gap), timeout=LONG, message="the post made while disconnected")
    wait_until(lambda: mastodon.connected() and mastodon.stream_connections > connections,
               timeout=LONG, message="a new stream")
    after = mastodon.post(mastodon.status("<p>Back live</p>"))
    wait_until(lambda: shown(app, after),
               timeout=LONG, message="a streamed post after the reconnect")
    assert any("min_id" in params for params in mastodon.timeline_requests)
    assert set(wall_posts(app)) == {hostile["id"], later["id"], gap["id"], after["id"]}

    log = (tmp_path / "stream.log").read_text()
    assert "Skipped a malformed mastodon event" in log
    assert mastodon.token not in log  # secrets never logged


def test_without_a_token_it_polls_and_says_so(app, start_cli, mastodon, tmp_path):
    env = stream_env(mastodon, tmp_path, TWITSOCKET_MASTODON_TOKEN="",
                     TWITSOCKET_MASTODON_POLL_INTERVAL="0.2")
    mastodon.rate_limited_once = True
    first = mastodon.post(mastodon.status("<p>One</p>"), stream=False)
    start_cli("stream", "--source", "mastodon", env=env)
    wait_until(lambda: shown(app, first), timeout=LONG, message="the first poll")
    second = mastodon.post(mastodon.status("<p>Two</p>", acct="carol@other.example"),
                           stream=False)
    post = wait_until(lambda: shown(app, second), timeout=LONG, message="a later poll")
    assert post["author"]["username"] == "carol@other.example"
    log = (tmp_path / "stream.log").read_text()
    assert "No TWITSOCKET_MASTODON_TOKEN: polling" in log
    assert "rate limit reached" in log
    assert mastodon.stream_connections == 0
    assert any("min_id" in params for params in mastodon.timeline_requests)


def test_banned_mastodon_user_is_dropped_with_a_qualified_entry(app, start_cli, mastodon,
                                                                 tmp_path):
    banned = mastodon.post(mastodon.status("<p>spam</p>", acct="spammer@junk.example"),
                           stream=False)
    kept = mastodon.post(mastodon.status("<p>fine</p>", acct="spammer@good.example"),
                         stream=False)
    start_cli("stream", "--source", "mastodon", env=stream_env(
        mastodon, tmp_path, TWITSOCKET_BANNED_USERS="mastodon:@spammer@junk.example"))
    wait_until(lambda: shown(app, kept), timeout=LONG, message="the allowed post")
    assert shown(app, banned) is None


def test_missing_hashtags_stop_the_command_with_the_key_named(run_cli, mastodon):
    result = run_cli("stream", "--source", "mastodon", env={
        "TWITSOCKET_MASTODON_URL": mastodon.url, "TWITSOCKET_TRACK_KEYWORDS": "python"})
    assert result.returncode != 0
    assert "TWITSOCKET_MASTODON_HASHTAGS" in result.stderr


# --- the sanitiser and normaliser on their own (fast, many cases) --------------------------


@pytest.mark.parametrize("html", [
    '<a href="javascript:alert(1)">x</a>', '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>', '<a href="data:text/html,<script>">x</a>',
    '<a href="vbscript:msgbox">x</a>', "<svg onload=alert(1)>", "<math><mi>x</mi></math>",
    '<p style="background:url(javascript:alert(1))">x</p>', "<scr<script>ipt>alert(1)</script>",
    '<a href="https://ok.example/" onfocus="alert(1)" autofocus>x</a>', "<!-- <script> -->",
    "<form action=https://evil.example><input></form>", '<meta http-equiv="refresh">',
])
def test_hostile_markup_is_neutralised(html):
    assert_harmless(sanitise_html(html))
    text, entities = html_to_text(html)
    assert all(e["url"].startswith("https://") for e in entities)


def test_links_keep_only_http_and_get_safe_attributes():
    html = sanitise_html('<p>a<br>b <a href="https://x.example/" target="_top">x</a></p>'
                         "<p>&lt;p&gt;c</p>")
    assert html == ('a<br>b <a href="https://x.example/" target="_blank" '
                    'rel="nofollow noopener noreferrer">x</a><br><br>&lt;p&gt;c')


def test_status_update_is_an_edit_and_offsets_count_code_points():
    fake_status = {"id": "9", "created_at": "2026-11-28T10:00:00Z", "url": "https://m.example/9",
                   "content": '<p>😀 <a href="https://m.example/tags/x" class="mention hashtag">'
                              "#<span>x</span></a></p>",
                   "account": {"id": "1", "acct": "ann", "url": "https://m.example/@ann"}}
    edit = normalise("mastodon", {"event": "status.update", "payload": fake_status})
    assert isinstance(edit, Edit)
    assert edit.post.author.username == "ann@m.example"
    assert edit.post.entities[0]["start"] == 2 and edit.post.text[2:4] == "#x"
