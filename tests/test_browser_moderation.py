"""The moderation console in real headless Chromium, on a phone-sized screen, driving a
wall open in a second browser context (the demo site under gunicorn, strict CSP)."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import x_post
from moderation_helpers import PASSWORD, ingest

pytest_plugins = ["browser"]  # chromium, wall_server, open_page, artefact

PHONE = {"width": 390, "height": 844}
#: `make screenshots` sets the directory: the console's picture in the moderation tutorial.
SCREENSHOTS = os.environ.get("TWITSOCKET_SCREENSHOTS_DIR")
TIMEOUT_MS = 30_000


@pytest.fixture
def wall_env() -> dict[str, str]:
    return {"TWITSOCKET_MODERATION": "pre", "TWITSOCKET_MODERATOR_PASSWORD": PASSWORD}


@pytest.fixture
def stream_app(wall_server, database_url) -> Iterator[Any]:
    """The app a stream process would run: same database, same trust mode."""
    from demo_app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TWITSOCKET_BANNED_USERS": [],
                      "TWITSOCKET_MODERATION": "pre"})
    yield app
    app.extensions["twitsocket"].engine.dispose()


def log_in(console: Any) -> None:
    page = console.page
    assert page.locator("form input[name=password]").count() == 1
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector('[data-status][data-state="live"]', timeout=TIMEOUT_MS)


def queue_item(console: Any, key: str) -> Any:
    return console.page.wait_for_selector(f'[data-queue] li[data-key="{key}"]',
                                          timeout=TIMEOUT_MS)


def test_console_on_a_phone_approves_and_hides_on_an_open_wall(
        wall_server, stream_app, open_page, artefact):
    wall = open_page(wall_server.url + "/")
    wall.wait_for_state("live", "websocket")
    # record when each post leaves the wall, on the shared system clock
    wall.page.evaluate("""() => {
      window.__removedAt = {};
      new MutationObserver(records => records.forEach(r => r.removedNodes.forEach(n => {
        if (n.dataset && n.dataset.id) { window.__removedAt[n.dataset.id] = Date.now(); }
      }))).observe(document.getElementById('tweets'), {childList: true});
    }""")
    console = open_page(wall_server.url + "/twitsocket/moderate", viewport=PHONE)
    console.page.screenshot(path=str(artefact("moderation-login.png")))
    log_in(console)

    # pre-moderation: the post waits in the console's queue, not on the wall
    ingest(stream_app, x_post(1, text="Queued for approval #devconf26"))
    queue_item(console, "x:1")
    assert wall.ids() == []
    console.page.click('[data-queue] li[data-key="x:1"] button[data-action="approve"]')
    wall.wait_for_post(1)
    assert wall.page.text_content('#tweets article[data-id="1"] .text') == (
        "Queued for approval #devconf26")

    # hide: measured from the click in the console to the post leaving the wall
    ids = [str(n) for n in range(2, 7)]
    ingest(stream_app, *[x_post(n, text=f"Post number {n} from the audience") for n in ids])
    for post_id in ids:
        queue_item(console, f"x:{post_id}")
        console.page.click(f'[data-queue] li[data-key="x:{post_id}"] '
                           'button[data-action="approve"]')
        wall.wait_for_post(post_id)
    def hide_button(post_id: str) -> str:
        return f'[data-posts] li[data-key="x:{post_id}"] button[data-action="hide"]'

    # the console re-renders on every change, but a button under the moderator's thumb
    # stays the same element unless its own post changed
    last_button = console.page.wait_for_selector(hide_button(ids[-1]), timeout=TIMEOUT_MS)
    latencies = []
    for post_id in ids:
        console.page.wait_for_selector(hide_button(post_id), timeout=TIMEOUT_MS)
        if post_id == ids[-1]:
            assert last_button.evaluate("b => b.isConnected")
        clicked = console.page.evaluate("Date.now()")
        console.page.click(hide_button(post_id))
        wall.page.wait_for_selector(f'#tweets article[data-id="{post_id}"]',
                                    state="detached", timeout=TIMEOUT_MS)
        latencies.append(wall.page.evaluate(f"window.__removedAt['{post_id}']") - clicked)
    summary = {"hide_to_removed_ms": latencies, "median_ms": statistics.median(latencies)}
    print(f"\nhide → removed from an open wall: {summary}")
    artefact("moderation-hide-latency.json").write_text(json.dumps(summary))
    assert wall.ids() == ["1"]

    # a lived-in console for the screenshot: a pin, a blocked word, two posts waiting
    console.page.click('[data-posts] li[data-key="x:1"] button[data-action="pin"]')
    wall.page.wait_for_selector('#tweets article.pinned[data-id="1"]', timeout=TIMEOUT_MS)
    console.page.fill("#block-phrase", "spoiler")
    console.page.click('form[data-rule="block"] button')
    console.page.wait_for_selector('[data-rules="word"] li', timeout=TIMEOUT_MS)
    ingest(stream_app, x_post(7, text="Is the next talk in room B? 🤔", username="dana",
                              name="Dana Scully", user_id="77"),
           x_post(8, text="Loving the keynote <script>alert(1)</script>", username="eve",
                  name="Eve", user_id="78"))
    queue_item(console, "x:8")
    console.page.wait_for_selector("[data-notice]", state="hidden", timeout=TIMEOUT_MS)
    console.page.evaluate("window.scrollTo(0, 0)")
    shot = Path(SCREENSHOTS) if SCREENSHOTS else artefact("moderation-console.png").parent
    console.page.screenshot(path=str(shot / "moderation-console.png"))
    console.page.screenshot(path=str(artefact("moderation-console-full.png")), full_page=True)
    assert console.page.locator("[data-queue-count]").text_content() == "2"
    assert wall.ids() == ["1"]
    # a newer post goes below the pinned one; unpinned, the pinned post falls into place
    console.page.click('[data-queue] li[data-key="x:7"] button[data-action="approve"]')
    wall.wait_for_post(7)
    assert wall.ids() == ["1", "7"]
    console.page.click('[data-posts] li[data-key="x:1"] button[data-action="unpin"]')
    wall.page.wait_for_selector('#tweets article[data-id="1"]:not(.pinned)',
                                timeout=TIMEOUT_MS)
    assert wall.ids() == ["7", "1"]
    console.assert_clean()
    wall.assert_clean()
    assert console.dialogs == [] and wall.dialogs == []
