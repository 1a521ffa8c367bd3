"""Consent: authors who asked not to be shown to the logged-out public never reach a wall.

A real ``flask twitsocket stream`` reads a fake Mastodon instance and a fake Jetstream +
AppView. A Bluesky author whose AppView profile carries the ``!no-unauthenticated``
self-label, a Mastodon account flagged ``noindex`` and one with ``#nowall`` in its bio post
live and in the gaps the sources catch up on after a disconnect; an open wall and the JSON
API get everybody else's posts, and never theirs, nor does the moderation queue keep them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import wait_until
from fake_jetstream import FakeAppView, FakeJetstream
from fake_mastodon import FakeMastodon
from moderation_helpers import PREFIX, Listener
from test_bluesky_source import ALICE, bluesky_env, uri
from test_mastodon_source import LONG, stream_env

#: The self-label as the AppView returns it on a profile (app.bsky.actor.getProfiles).
PRIVATE = {"did": "did:plc:private", "handle": "private.bsky.social",
           "displayName": "Private Person",
           "labels": [{"src": "did:plc:private", "val": "!no-unauthenticated",
                       "uri": "at://did:plc:private/app.bsky.actor.profile/self",
                       "cts": "2024-01-01T00:00:00.000Z"}]}


@pytest.fixture
def fakes() -> Iterator[tuple[FakeMastodon, FakeJetstream, FakeAppView]]:
    mastodon, jetstream, appview = FakeMastodon(), FakeJetstream(), FakeAppView([ALICE, PRIVATE])
    yield mastodon, jetstream, appview
    mastodon.close()
    jetstream.close()
    appview.close()


def api_keys(app) -> set[tuple[str, str]]:
    body = app.test_client().get(f"{PREFIX}/api/tweets?limit=200").get_json()
    return {(post["network"], post["id"]) for post in body["tweets"]}


def test_opted_out_authors_never_reach_a_wall_live_or_through_catch_up(
        app, live_server, start_cli, fakes, tmp_path):
    mastodon, jetstream, appview = fakes
    env = {**stream_env(mastodon, tmp_path), **bluesky_env(jetstream, appview, tmp_path),
           "TWITSOCKET_BLUESKY_ACCOUNTS": "", "TWITSOCKET_BLUESKY_ENABLED": "true",
           "TWITSOCKET_TRACK_KEYWORDS": "#devconf26"}
    wall = Listener(f"{live_server.ws_url}{PREFIX}/ws")
    start_cli("stream", env=env)
    wait_until(lambda: mastodon.connected() and jetstream.connections(),
               timeout=LONG, message="both networks connected")

    def toot(text: str, acct: str = "alice", stream: bool = True,
             **account: object) -> tuple[str, str]:
        status = mastodon.status(f"<p>{text} #devconf26</p>", acct=acct)
        status["account"].update(account)
        return "mastodon", mastodon.post(status, stream=stream)["id"]

    def skeet(did: str, text: str) -> tuple[str, str]:
        return "bluesky", uri(did, jetstream.post(did, f"{text} #devconf26"))

    hidden = [toot("Mine", "quiet@m.example", noindex=True),
              toot("Mine too", "shy@m.example", note="<p>Speaker. #NoWall please</p>"),
              skeet(PRIVATE["did"], "Mine")]
    shown = {toot("Hello"), skeet(ALICE["did"], "Hi")}
    wait_until(lambda: shown <= api_keys(app), timeout=LONG, message="the others' posts")

    # catch-up: posts made while both connections were down come back with the cursor
    # (Jetstream) and the timeline request (Mastodon); consent applies to them too
    mastodon.drop()
    jetstream.drop()
    hidden += [toot("Gap", "quiet@m.example", stream=False, noindex=True),
               skeet(PRIVATE["did"], "Gap")]
    shown |= {toot("Gap", stream=False), skeet(ALICE["did"], "Gap")}
    wait_until(lambda: shown <= api_keys(app), timeout=LONG, message="the catch-up")
    for network, post_id in shown:
        wall.wait_for(lambda m, n=network, i=post_id: m["type"] == "tweet"
                      and (m["tweet"]["network"], m["tweet"]["id"]) == (n, i))

    assert api_keys(app) == shown
    received = {(m["tweet"]["network"], m["tweet"]["id"]) for m in wall.messages
                if m["type"] == "tweet"}
    assert received == shown and not received & set(hidden)
    queue = app.extensions["twitsocket"].moderation.snapshot()["queue"]
    assert queue == []  # not kept for a moderator either
    wall.close()
