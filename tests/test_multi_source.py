"""One ``flask twitsocket stream`` with no ``--source`` runs every configured network.

Fed by a fake Mastodon instance and a fake Jetstream at once, it must show each network's
posts once on the one wall, through a disconnect on each, with bans applying across them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import wait_until
from fake_jetstream import FakeAppView, FakeJetstream
from fake_mastodon import FakeMastodon
from test_bluesky_source import ALICE, bluesky_env, uri
from test_mastodon_source import LONG, stream_env


@pytest.fixture
def fakes() -> Iterator[tuple[FakeMastodon, FakeJetstream, FakeAppView]]:
    mastodon, jetstream, appview = FakeMastodon(), FakeJetstream(), FakeAppView([ALICE])
    yield mastodon, jetstream, appview
    mastodon.close()
    jetstream.close()
    appview.close()


def all_posts(app) -> set[tuple[str, str]]:
    body = app.test_client().get("/twitsocket/api/tweets?limit=200").get_json()
    keys = [(post["network"], post["id"]) for post in body["tweets"]]
    assert len(keys) == len(set(keys)), f"a post is shown twice: {keys}"
    return set(keys)


def test_every_configured_network_on_one_wall_through_disconnects(app, start_cli, fakes,
                                                                  tmp_path):
    mastodon, jetstream, appview = fakes
    env = {**stream_env(mastodon, tmp_path), **bluesky_env(jetstream, appview, tmp_path),
           "TWITSOCKET_BLUESKY_ACCOUNTS": "", "TWITSOCKET_BLUESKY_ENABLED": "true",
           "TWITSOCKET_TRACK_KEYWORDS": "#devconf26",
           # Bans apply to every network: unqualified, and qualified by network.
           "TWITSOCKET_BANNED_USERS": "troll.bsky.social,mastodon:@troll@bad.example"}
    appview.profiles.append({"did": "did:plc:troll", "handle": "troll.bsky.social"})
    start_cli("stream", env=env)  # no --source
    wait_until(lambda: mastodon.connected() and jetstream.connections(),
               timeout=LONG, message="both networks connected")

    toot = mastodon.post(mastodon.status("<p>Hello from Mastodon #devconf26</p>"))
    skeet = jetstream.post(ALICE["did"], "Hello from Bluesky #devconf26")
    mastodon.post(mastodon.status("<p>#devconf26 spam</p>", acct="troll@bad.example"))
    banned_skeet = jetstream.post("did:plc:troll", "#devconf26 spam")
    expected = {("mastodon", toot["id"]), ("bluesky", uri(ALICE["did"], skeet))}
    wait_until(lambda: expected <= all_posts(app), timeout=LONG, message="a post from each network")

    mastodon.drop()
    jetstream.drop()
    toot_gap = mastodon.post(mastodon.status("<p>Mastodon after the cut #devconf26</p>"),
                             stream=False)
    skeet_gap = jetstream.post(ALICE["did"], "Bluesky after the cut #devconf26")
    expected |= {("mastodon", toot_gap["id"]), ("bluesky", uri(ALICE["did"], skeet_gap))}
    wait_until(lambda: expected <= all_posts(app),
               timeout=LONG, message="both networks after a disconnect")
    wait_until(lambda: mastodon.stream_connections > 1 and mastodon.connected(),
               timeout=LONG, message="Mastodon streaming again")
    toot_live = mastodon.post(mastodon.status("<p>Live again #devconf26</p>"))
    expected.add(("mastodon", toot_live["id"]))
    wait_until(lambda: expected <= all_posts(app),
               timeout=LONG, message="the stream after the reconnect")

    assert all_posts(app) == expected  # each once; banned users on both networks absent
    assert ("bluesky", uri("did:plc:troll", banned_skeet)) not in all_posts(app)
    log = (tmp_path / "stream.log").read_text()
    assert "Streaming from mastodon, bluesky" in log
