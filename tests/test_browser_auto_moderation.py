"""The console's automatic-moderation tools in real headless Chromium: a moderator filters
the queue by reason, sees today's counts per rule, and releases a held post, which
appears on a wall open in a second browser context (the demo site under gunicorn)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import x_post
from moderation_helpers import PASSWORD, ingest
from test_browser_moderation import TIMEOUT_MS, log_in, queue_item

pytest_plugins = ["browser"]  # chromium, wall_server, open_page, artefact

RULES = "profanity,raids,consent"


@pytest.fixture
def wall_env() -> dict[str, str]:
    return {"TWITSOCKET_MODERATOR_PASSWORD": PASSWORD, "TWITSOCKET_AUTO_MODERATION": RULES}


@pytest.fixture
def stream_app(wall_server, database_url) -> Iterator[Any]:
    """The app a stream process would run: same database, same rules."""
    from demo_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TWITSOCKET_BANNED_USERS": [],
                      "TWITSOCKET_AUTO_MODERATION": RULES.split(",")})
    yield app
    app.extensions["twitsocket"].engine.dispose()


def visible_queue(console: Any) -> list[str]:
    return console.page.eval_on_selector_all(
        "[data-queue] li[data-key]", "nodes => nodes.map(n => n.dataset.key)")


def test_console_filters_held_posts_by_reason_and_releases_one_to_a_wall(
        wall_server, stream_app, open_page, artefact):
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("live", "websocket")
    console = open_page(wall_server.url + "/twitsocket/moderate")
    log_in(console)

    raid = "Everyone go and follow the giveaway account right now for free conference tickets"
    ingest(stream_app, x_post(1, text="Great keynote #devconf26", user_id="1"),
           x_post(2, text=f"{raid} #devconf26", user_id="2", username="first"),
           x_post(3, text=f"@someone {raid} #devconf26", user_id="3", username="copycat"),
           x_post(4, text="This wifi is shit #devconf26", user_id="4", username="grumpy"))
    wall.wait_for_post(1)
    wall.wait_for_post(2)
    queue_item(console, "x:3")
    queue_item(console, "x:4")
    assert console.page.text_content('[data-queue] li[data-key="x:4"] [data-reason]') == (
        "profanity: 'shit'")
    assert console.page.text_content('[data-queue] li[data-key="x:3"] [data-reason]') == (
        "duplicate of @first's post")
    counts = console.page.eval_on_selector_all(
        "[data-rule-counts] li", "nodes => nodes.map(n => n.textContent)")
    assert "profanity: 1 today" in counts and "raids: 1 today" in counts

    console.page.select_option("[data-queue-filter]", "profanity")
    console.page.wait_for_selector('[data-queue] li[data-key="x:3"]', state="detached",
                                   timeout=TIMEOUT_MS)
    assert visible_queue(console) == ["x:4"]
    console.page.screenshot(path=str(artefact("auto-moderation-console.png")))
    console.page.click('[data-queue] li[data-key="x:4"] button[data-action="approve"]')
    wall.wait_for_post(4)
    assert wall.page.text_content('#tweets article[data-id="4"] .text') == (
        "This wifi is shit #devconf26")
    console.page.wait_for_selector('[data-queue] li[data-key="x:4"]', state="detached",
                                   timeout=TIMEOUT_MS)
    console.page.select_option("[data-queue-filter]", "")
    queue_item(console, "x:3")
    assert "3" not in wall.ids()  # the raid copy still waits
    # an opted-out author's post leaves nothing in the queue: the count still goes up live
    ingest(stream_app, {"id": "9", "created_at": "2026-11-28T10:00:00Z",
                        "content": "<p>Hi #devconf26</p>", "url": "https://m.example/@a/9",
                        "account": {"id": "9", "acct": "nine@m.example", "username": "nine",
                                    "noindex": True}}, network="mastodon")
    console.page.wait_for_selector('[data-rule-counts] li[data-rule="consent"]'
                                   ':text("consent: 1 today")', timeout=TIMEOUT_MS)
    console.assert_clean()
    wall.assert_clean()
