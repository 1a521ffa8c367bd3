"""Content warnings and sensitive media as the wall's HTML shows them, the console's reveal
action (and its undo), and TWITSOCKET_SENSITIVE_MEDIA; plus the server-rendered fidelity
fixes on real payloads (X's escaping, Mastodon's warning paragraph, Bluesky's embed-only
post)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from moderation_helpers import MODERATED, Console, ingest

from flask_twitsocket.serialise import loads

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> dict:
    return loads((PAYLOADS / name).read_text(encoding="utf-8"))


def article(html: str, post_id: str) -> str:
    match = re.search(rf'<article class="([^"]*)"[^>]*data-id="{re.escape(post_id)}".*?</article>',
                      html, re.DOTALL)
    assert match, f"post {post_id} not on the page"
    return match.group(0)


class _Nesting(HTMLParser):
    """Records, for each text piece, the stack of open tags, as a browser would nest them
    (a <p> start closes an open <p>: the text then falls out of its card)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.closed_early = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "p" and "p" in self.stack:
            self.closed_early = True
        if tag not in ("img", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass


@pytest.fixture
def app_config():
    return dict(MODERATED)


def test_a_content_warning_is_above_a_collapsed_text_and_never_nests_paragraphs(app):
    ingest(app, payload("mastodon_content_warning.json"), network="mastodon")
    html = article(app.test_client().get("/twitsocket/wall").text, "117020586000687987")
    assert 'class="tweet sensitive"' in html
    assert '<p class="content-warning" dir="auto">Content warning</p>' in html
    assert '<p class="text" dir="auto">Toot!</p>' in html
    checker = _Nesting()
    checker.feed(html)
    assert not checker.closed_early


def test_x_escaped_text_is_escaped_once_on_the_page(app):
    from test_real_payloads import v2_event

    ingest(app, v2_event("x_v2_search_nyc.json", "1275840891014561796"))
    html = article(app.test_client().get("/twitsocket/wall").text, "1275840891014561796")
    assert "setting) &amp; kids from MD" in html
    assert "&amp;amp;" not in html


def test_an_embed_only_bluesky_post_shows_its_card_not_an_empty_text(app):
    from test_real_payloads import jetstream_event

    event = jetstream_event('"text":""')
    ingest(app, event, network="bluesky")
    post_id = f"at://{event['did']}/app.bsky.feed.post/{event['commit']['rkey']}"
    html = article(app.test_client().get("/twitsocket/wall").text, post_id)
    assert '<p class="text"' not in html
    title = event["commit"]["record"]["embed"]["external"]["title"]
    assert f'<span class="link-card-title" dir="auto">{title}</span>' in html
    assert re.search(r'<img class="link-card-image" src="/twitsocket/media/\d+/c"', html)


def test_a_repost_names_its_original_author_and_who_reposted(app):
    ingest(app, payload("mastodon_reblog.json"), network="mastodon")
    page = app.test_client().get("/twitsocket/wall").text
    assert re.search(r'<p class="reposted-by">Reposted by <span class="username" '
                     r'dir="ltr">@admin@localhost</span></p>', page)
    assert '<span class="username" dir="ltr">@mastodonpy_test_2@localhost</span>' in page


def test_a_moderator_reveals_sensitive_media_on_every_wall_and_can_undo_it(app):
    ingest(app, payload("mastodon_content_warning.json"), network="mastodon")
    console = Console(app.test_client()).open()
    key = "mastodon:117020586000687987"
    [post] = [p for p in console.state()["posts"] if p["id"] == "117020586000687987"]
    assert post["sensitive"] and not post["revealed"]
    entry = console.act("reveal", key)["entry"]
    assert 'class="tweet"' in article(app.test_client().get("/twitsocket/wall").text,
                                      "117020586000687987")
    api = app.test_client().get("/twitsocket/api/tweets").get_json()["tweets"]
    assert api[0]["revealed"] is True
    console.act("reveal", key, status=404)  # revealed already
    console.act("undo", str(entry["id"]))
    assert 'class="tweet sensitive"' in article(app.test_client().get("/twitsocket/wall").text,
                                                "117020586000687987")
    ingest(app, payload("mastodon_card.json"), network="mastodon")
    console.act("reveal", "mastodon:999", status=404)


def test_show_mode_never_blurs(database_url):
    from conftest import fresh_app

    app = fresh_app(database_url, TWITSOCKET_SENSITIVE_MEDIA="show")
    ingest(app, payload("mastodon_content_warning.json"), network="mastodon")
    html = article(app.test_client().get("/twitsocket/wall").text, "117020586000687987")
    assert 'class="tweet"' in html and "sensitive" not in html.split(">")[0]


@pytest.mark.parametrize("mode", ["post", "delay"])
def test_hide_mode_holds_sensitive_posts_for_a_moderators_yes(database_url, mode):
    from conftest import fresh_app

    app = fresh_app(database_url, TWITSOCKET_SENSITIVE_MEDIA="hide", TWITSOCKET_MODERATION=mode,
                    **MODERATED)
    ingest(app, payload("mastodon_content_warning.json"), payload("mastodon_card.json"),
           network="mastodon")
    shown = {p["id"] for p in app.test_client().get("/twitsocket/api/tweets").get_json()["tweets"]}
    assert "117020586000687987" not in shown
    console = Console(app.test_client()).open()
    [waiting] = [item for item in console.state()["queue"]
                 if item["tweet"]["id"] == "117020586000687987"]
    assert waiting["release_at"] is None  # no timer: it waits for a yes
    console.act("approve", "mastodon:117020586000687987")
    shown = {p["id"] for p in app.test_client().get("/twitsocket/api/tweets").get_json()["tweets"]}
    assert "117020586000687987" in shown
